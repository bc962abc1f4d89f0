"""Setup mode's pages: the registration form, the hand-off to GitHub, the callback.

Each handler reads the app's `SetupServices` (`ghapp.web.services`): the pending
registrations, the manifest to send, the setup token, and how to start serving the App
once its credentials are saved. Every route answers 404 once an App is configured, and
403, writing nothing, to a browser without the setup token or its cookie (`access.py`).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from ghapp.config import ConfigError, Settings
from ghapp.env_file import env_file_value, update_env_file
from ghapp.web.services import settings_services, setup_services
from ghapp.web.setup.access import (
    CSRF_FIELD,
    browser_of,
    csrf_matches,
    csrf_token,
    give_cookie,
    same_host,
    same_origin,
    token_matches,
)
from ghapp.web.setup.credentials import (
    SetupFailed,
    configured_settings,
    convert_manifest_code,
    env_path,
    scrub_from_logs,
)
from ghapp.web.setup.registrations import PendingRegistration

log = logging.getLogger("ghapp.setup")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
# GitHub logins: alphanumerics and single hyphens, at most 39 characters.
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
DEFAULT_APP_NAME = "ghapp"


def _in_setup_mode(request: Request) -> bool:
    return settings_services(request) is None and not request.app.state.settings.configured


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status)
    # The pages carry one-time state and, once done, the App's identity: keep them out
    # of shared caches and browser history restores.
    response.headers["cache-control"] = "no-store"
    return response


def _error(request: Request, title: str, message: str, status: int) -> Response:
    return _page(request, "setup_error.html", status, title=title, message=message)


def _not_found() -> Response:
    return Response("Not Found", status_code=404, media_type="text/plain")


def _locked(request: Request) -> Response:
    return _error(
        request,
        "This setup page is locked",
        "Setup mode belongs to whoever started this server. Open the setup URL that "
        "`ghapp run` printed when it started (setup URL: http://HOST:PORT/setup?token=…); "
        "it is new at every start. Nothing was changed.",
        403,
    )


def _browser(request: Request) -> str | None:
    """The setup cookie's browser id, when this browser opened the setup URL."""
    return browser_of(request, setup_services(request).token)


def _clean_base_url(text: str) -> str | None:
    text = text.strip().rstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        return None
    return text


def _form_page(
    request: Request,
    browser: str,
    *,
    status: int = 200,
    problem: str | None = None,
    continue_at: str | None = None,
    **values: str,
) -> Response:
    settings: Settings = request.app.state.settings
    default_base = settings.base_url or str(request.base_url).rstrip("/")
    base_url = values.get("base_url") or default_base
    path = env_path(settings)
    return _page(
        request,
        "setup.html",
        status,
        problem=problem,
        base_url=base_url,
        app_name=values.get("app_name") or DEFAULT_APP_NAME,
        organization=values.get("organization", ""),
        github_url=settings.github_url,
        webhook_path=settings.webhook_path,
        manifest=setup_services(request).manifest(base_url, DEFAULT_APP_NAME),
        env_path=str(path),
        existing_app_id=env_file_value(path, "APP_ID"),
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(setup_services(request).token, browser),
        continue_at=continue_at,
    )


async def index(request: Request) -> Response:
    if not _in_setup_mode(request):
        return _not_found()
    token = setup_services(request).token
    given = request.query_params.get("token")
    if given is not None:
        if not token_matches(given, token):
            return _locked(request)
        # The token leaves the address bar (and history) at once; the cookie stays.
        response = RedirectResponse("/setup", status_code=303)
        response.headers["cache-control"] = "no-store"
        give_cookie(request, response, token)
        return response
    browser = _browser(request)
    if browser is None:
        return _locked(request)
    return _form_page(request, browser)


async def register(request: Request) -> Response:
    if not _in_setup_mode(request):
        return _not_found()
    settings: Settings = request.app.state.settings
    browser = _browser(request)
    # Checked before the form is read: a refused post costs no parsing.
    if browser is None or not same_origin(request, settings.base_url):
        return _locked(request)
    form = await request.form()
    if not csrf_matches(form.get(CSRF_FIELD), setup_services(request).token, browser):
        return _locked(request)
    values = {
        key: str(form.get(key) or "").strip()
        for key in ("base_url", "app_name", "organization", "target")
    }
    replace = form.get("replace") == "yes"
    base_url = _clean_base_url(values["base_url"])
    if base_url is None:
        return _form_page(
            request,
            browser,
            status=400,
            problem="The public URL must be an http:// or https:// address, "
            "such as https://ghapp.example.com.",
            **values,
        )
    organization: str | None = None
    if values["target"] == "organization":
        if not LOGIN.fullmatch(values["organization"]):
            return _form_page(
                request,
                browser,
                status=400,
                problem="Enter the organization's login (letters, digits and hyphens), "
                "as in github.com/LOGIN.",
                **values,
            )
        organization = values["organization"]
    existing = env_file_value(env_path(settings), "APP_ID")
    if existing and not replace:
        return _form_page(
            request,
            browser,
            status=409,
            problem=f"{env_path(settings)} already names App {existing}. Tick the box to "
            "replace it, or remove APP_ID from that file.",
            **values,
        )
    services = setup_services(request)
    if not same_host(base_url, request):
        # GitHub sends the browser back to the public URL, where this page's cookie is
        # not sent: the callback could not tell it is the same browser. Continue there.
        return _form_page(
            request,
            browser,
            status=409,
            problem=f"You opened this page at {request.url.hostname}, but GitHub will send "
            f"you back to {base_url}. Continue setup at that address, so that it is this "
            "browser that finishes the registration:",
            continue_at=f"{base_url}/setup?{urlencode({'token': services.token})}",
            **values,
        )
    manifest = services.manifest(base_url, values["app_name"] or DEFAULT_APP_NAME)
    state = services.pending.start(base_url, organization, replace, browser)
    if state is None:
        return _form_page(
            request,
            browser,
            status=429,
            problem="Too many registrations are under way. Finish one, or wait an hour.",
            **values,
        )
    where = (
        f"/organizations/{quote(organization, safe='')}/settings/apps/new"
        if organization
        else "/settings/apps/new"
    )
    action = f"{settings.github_url}{where}?{urlencode({'state': state})}"
    log.info(
        "setup: sending the manifest to GitHub",
        extra={"account": organization or "(personal)", "base_url": base_url},
    )
    return _page(
        request,
        "setup_redirect.html",
        action=action,
        manifest_json=json.dumps(manifest),
        organization=organization,
        github_url=settings.github_url,
    )


async def callback(request: Request) -> Response:
    if not _in_setup_mode(request):
        return _not_found()
    services = setup_services(request)
    browser = _browser(request)
    if browser is None:
        return _locked(request)
    code = request.query_params.get("code", "")
    registration = services.pending.take(request.query_params.get("state", ""), browser)
    if registration is None:
        log.warning("setup: callback with an unknown or expired state refused")
        return _error(
            request,
            "This registration link is not valid",
            "Its state is unknown, already used, more than an hour old or started in "
            "another browser, so it was not started here just now. Nothing was changed. "
            "Start again from the first page.",
            400,
        )
    if not CODE.fullmatch(code):
        return _error(
            request,
            "GitHub sent no registration code",
            "The address GitHub sent you back to has no usable code. Start again.",
            400,
        )
    async with services.finishing:
        if not _in_setup_mode(request):  # another callback finished first
            return _not_found()
        try:
            return await _finish(request, code, registration)
        except SetupFailed as exc:
            return _error(request, exc.title, str(exc), exc.status)


async def _finish(request: Request, code: str, registration: PendingRegistration) -> Response:
    """Exchange the code, save the credentials, and start serving the App."""
    settings: Settings = request.app.state.settings
    path = env_path(settings)
    existing = env_file_value(path, "APP_ID")
    # Checked before the exchange too: once exchanged, the code cannot be used again.
    if existing and not registration.replace:
        raise SetupFailed(
            "An App is already configured",
            f"{path} already names App {existing} and replacing it was not confirmed. "
            "Nothing was changed; start again and tick the box to replace it.",
            409,
        )
    credentials = await convert_manifest_code(settings.github_api_url, code)
    try:
        new_settings = configured_settings(settings, credentials)
    except ConfigError as exc:
        raise SetupFailed("GitHub sent an unusable key", str(exc), 502) from None
    scrub_from_logs(new_settings.secret_values)
    try:
        update_env_file(path, credentials.env_values())
    except OSError as exc:
        raise SetupFailed(
            "The credentials could not be saved",
            f"Writing {path} failed ({exc.strerror}). The App {credentials.slug} exists on "
            "GitHub: generate a new private key in its settings and set APP_ID, "
            "PRIVATE_KEY and WEBHOOK_SECRET by hand.",
            500,
        ) from None
    log.info(
        "setup: App registered and credentials saved",
        extra={"app_id": credentials.app_id, "slug": credentials.slug, "path": str(path)},
    )
    started = True
    try:
        await setup_services(request).activate(new_settings)
    except Exception as exc:
        started = False
        detail = f"{type(exc).__name__}: {exc}"
        for secret in new_settings.secret_values:  # not yet known to the log redactor
            detail = detail.replace(secret, "[redacted]")
        log.error("setup: starting the configured App failed: %s", detail[:500])
    install_url = f"{settings.github_url}/apps/{quote(credentials.slug, safe='')}"
    return _page(
        request,
        "setup_done.html",
        200 if started else 500,
        started=started,
        app=credentials,
        env_path=str(path),
        install_url=install_url + "/installations/new",
        webhook_url=registration.base_url + settings.webhook_path,
        settings_url=registration.base_url + "/settings",
        organization=registration.organization,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/setup", index, methods=["GET"]),
        Route("/setup/register", register, methods=["POST"]),
        Route("/setup/callback", callback, methods=["GET"]),
    ]
