"""Setup mode: registering the GitHub App from its manifest, with no key copied by hand.

While no App is configured (`APP_ID` unset), `ghapp run` serves:

    GET  /                what will happen, and the registration form
    POST /setup/register  builds the manifest for the chosen public URL, remembers a random
                          `state` and gives the browser a form that posts it to GitHub
    GET  /setup/callback  GitHub's redirect back: checks `state`, exchanges the code for the
                          App's credentials (`POST /app-manifests/{code}/conversions`),
                          writes them to `.env` (mode 0600) and starts serving the App at
                          once through `activate`, with no restart

Once an App is configured these routes answer 404: setup happens once, and a configured
server must not offer its own credentials up for replacement to whoever reaches it.

`state` lives in this process's memory, one use each, for an hour (GitHub's codes expire
after an hour too). It is not bound to a browser cookie on purpose: people often open
`http://localhost:3000/` but register a public tunnel URL, and the callback then arrives
on that other host, where a cookie set by localhost would not be sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from githubkit import GitHub, UnauthAuthStrategy
from githubkit.exception import RequestError, RequestFailed
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from ghapp.bus import load_skills
from ghapp.config import ConfigError, Settings, load_private_key
from ghapp.env_file import env_file_value, update_env_file
from ghapp.logs import SecretScrubber
from ghapp.manifest import build_manifest
from ghapp.runtime import RuntimeOptions
from ghapp.skill import Skill

log = logging.getLogger("ghapp.setup")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATE_TTL = 3600.0  # seconds; GitHub's manifest codes are valid for one hour as well
MAX_PENDING = 100  # registrations started and not finished; the oldest are forgotten first
# GitHub logins: alphanumerics and single hyphens, at most 39 characters.
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
DEFAULT_APP_NAME = "ghapp"


@dataclass(frozen=True)
class PendingRegistration:
    """A registration sent to GitHub and not yet come back."""

    base_url: str
    organization: str | None  # None: the signed-in person's own account
    replace: bool  # the person agreed to replace an App already in `.env`
    expires_at: float


class PendingRegistrations:
    """`state` values handed out, each good for one callback within `ttl` seconds."""

    def __init__(self, ttl: float = STATE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._pending: OrderedDict[str, PendingRegistration] = OrderedDict()

    def start(self, base_url: str, organization: str | None, replace: bool) -> str:
        now = self.clock()
        for state in [s for s, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[state]
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
        state = secrets.token_urlsafe(32)
        self._pending[state] = PendingRegistration(base_url, organization, replace, now + self.ttl)
        return state

    def take(self, state: str) -> PendingRegistration | None:
        """The registration `state` names, once; None when unknown, used or expired."""
        pending = self._pending.pop(state, None)
        if pending is None or pending.expires_at <= self.clock():
            return None
        return pending


@dataclass(frozen=True)
class AppCredentials:
    """What GitHub hands over for a registered App (secrets kept out of reprs)."""

    app_id: int
    slug: str
    name: str
    html_url: str
    client_id: str
    pem: str = dataclasses.field(repr=False)
    webhook_secret: str = dataclasses.field(repr=False)
    client_secret: str = dataclasses.field(repr=False)

    def env_values(self) -> dict[str, str]:
        return {
            "APP_ID": str(self.app_id),
            "PRIVATE_KEY": self.pem.strip(),
            "WEBHOOK_SECRET": self.webhook_secret,
            "GITHUB_CLIENT_ID": self.client_id,
            "GITHUB_CLIENT_SECRET": self.client_secret,
        }


class SetupFailed(Exception):
    """Setup cannot go on; the message is for the person at the browser (no secrets)."""

    def __init__(self, title: str, message: str, status: int) -> None:
        super().__init__(message)
        self.title = title
        self.status = status


async def exchange_code(api_url: str, code: str, *, timeout: float = 15.0) -> AppCredentials:
    """Trade the manifest flow's code for the new App's id, key and secrets."""
    github = GitHub(
        UnauthAuthStrategy(),
        base_url=api_url + "/",
        http_cache=False,  # a cached client would ignore the timeout (LIBRARIES.md)
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        auto_retry=False,  # the code is single use: never send it twice
        user_agent="ghapp",
    )
    try:
        async with github:
            data = (await github.rest.apps.async_create_from_manifest(code)).parsed_data
    except RequestFailed as exc:
        status = exc.response.status_code
        raise SetupFailed(
            "GitHub did not accept the registration",
            f"GitHub answered {status} to the code exchange. The code may have expired (it "
            "is valid for one hour) or been used already. Start again from the first page.",
            502,
        ) from None
    except RequestError as exc:
        raise SetupFailed(
            "GitHub could not be reached",
            f"Exchanging the code with {api_url} failed ({type(exc).__name__}). Check "
            "GITHUB_API_URL and this server's network, then start again.",
            502,
        ) from None
    if not data.webhook_secret:
        raise SetupFailed(
            "GitHub returned no webhook secret",
            f"The App {data.slug} was created without a webhook secret. Set one in the App's "
            "settings on GitHub and put it in WEBHOOK_SECRET, with the App's id and key.",
            502,
        )
    return AppCredentials(
        app_id=data.id,
        slug=str(data.slug or data.name),
        name=data.name,
        html_url=data.html_url,
        client_id=data.client_id,
        pem=data.pem,
        webhook_secret=data.webhook_secret,
        client_secret=data.client_secret,
    )


def configured_settings(settings: Settings, credentials: AppCredentials) -> Settings:
    """The running settings with the new App's credentials (as `.env` now holds them)."""
    return settings.model_copy(
        update={
            "app_id": credentials.app_id,
            "private_key": SecretStr(load_private_key(credentials.pem, source="PRIVATE_KEY")),
            "webhook_secrets": (SecretStr(credentials.webhook_secret),),
            "client_id": credentials.client_id,
            "client_secret": SecretStr(credentials.client_secret),
        }
    )


def scrub_from_logs(secrets: Iterable[str]) -> None:
    """Teach the log scrubbers installed at start-up the secrets setup just received."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, SecretScrubber):
                found.secrets = sorted({*found.secrets, *secrets}, key=len, reverse=True)


def env_path(settings: Settings) -> Path:
    """Where the credentials are written: the `.env` the settings were read from."""
    return settings.env_file or Path(".env")


def _clean_base_url(text: str) -> str | None:
    text = text.strip().rstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        return None
    return text


def routes() -> list[BaseRoute]:
    """The setup routes; each app gets its own pending registrations and lock."""
    pending = PendingRegistrations()
    finishing = asyncio.Lock()

    def in_setup_mode(request: Request) -> bool:
        return request.app.state.runtime is None and not request.app.state.settings.configured

    def skills_of(request: Request) -> Iterable[Skill]:
        options: RuntimeOptions = request.app.state.options
        if options.skills is not None:
            return options.skills
        return load_skills(options.extra_skills).values()

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        response = TEMPLATES.TemplateResponse(request, name, context, status_code=status)
        # The pages carry one-time state and, once done, the App's identity: keep them out
        # of shared caches and browser history restores.
        response.headers["cache-control"] = "no-store"
        return response

    def error(request: Request, title: str, message: str, status: int) -> Response:
        return page(request, "setup_error.html", status, title=title, message=message)

    def not_found(request: Request) -> Response:
        return Response("Not Found", status_code=404, media_type="text/plain")

    def form_page(
        request: Request, *, status: int = 200, problem: str | None = None, **values: str
    ) -> Response:
        settings: Settings = request.app.state.settings
        default_base = settings.base_url or str(request.base_url).rstrip("/")
        manifest = build_manifest(
            skills_of(request),
            base_url=values.get("base_url") or default_base,
            webhook_path=settings.webhook_path,
        )
        path = env_path(settings)
        return page(
            request,
            "setup.html",
            status,
            problem=problem,
            base_url=values.get("base_url") or default_base,
            app_name=values.get("app_name") or DEFAULT_APP_NAME,
            organization=values.get("organization", ""),
            github_url=settings.github_url,
            webhook_path=settings.webhook_path,
            manifest=manifest,
            env_path=str(path),
            existing_app_id=env_file_value(path, "APP_ID"),
        )

    async def index(request: Request) -> Response:
        if not in_setup_mode(request):
            return not_found(request)
        return form_page(request)

    async def register(request: Request) -> Response:
        if not in_setup_mode(request):
            return not_found(request)
        settings: Settings = request.app.state.settings
        form = await request.form()
        values = {
            key: str(form.get(key) or "").strip()
            for key in ("base_url", "app_name", "organization", "target")
        }
        replace = form.get("replace") == "yes"
        base_url = _clean_base_url(values["base_url"])
        if base_url is None:
            return form_page(
                request,
                status=400,
                problem="The public URL must be an http:// or https:// address, "
                "such as https://ghapp.example.com.",
                **values,
            )
        organization: str | None = None
        if values["target"] == "organization":
            if not LOGIN.fullmatch(values["organization"]):
                return form_page(
                    request,
                    status=400,
                    problem="Enter the organization's login (letters, digits and hyphens), "
                    "as in github.com/LOGIN.",
                    **values,
                )
            organization = values["organization"]
        existing = env_file_value(env_path(settings), "APP_ID")
        if existing and not replace:
            return form_page(
                request,
                status=409,
                problem=f"{env_path(settings)} already names App {existing}. Tick the box to "
                "replace it, or remove APP_ID from that file.",
                **values,
            )
        manifest = build_manifest(
            skills_of(request),
            base_url=base_url,
            webhook_path=settings.webhook_path,
            name=values["app_name"] or DEFAULT_APP_NAME,
        )
        state = pending.start(base_url, organization, replace)
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
        return page(
            request,
            "setup_redirect.html",
            action=action,
            manifest_json=json.dumps(manifest),
            organization=organization,
            github_url=settings.github_url,
        )

    async def callback(request: Request) -> Response:
        if not in_setup_mode(request):
            return not_found(request)
        code = request.query_params.get("code", "")
        registration = pending.take(request.query_params.get("state", ""))
        if registration is None:
            log.warning("setup: callback with an unknown or expired state refused")
            return error(
                request,
                "This registration link is not valid",
                "Its state is unknown, already used or more than an hour old, so it was not "
                "started from this server just now. Nothing was changed. Start again from "
                "the first page.",
                400,
            )
        if not CODE.fullmatch(code):
            return error(
                request,
                "GitHub sent no registration code",
                "The address GitHub sent you back to has no usable code. Start again.",
                400,
            )
        async with finishing:
            if not in_setup_mode(request):  # another callback finished first
                return not_found(request)
            try:
                return await finish(request, code, registration)
            except SetupFailed as exc:
                return error(request, exc.title, str(exc), exc.status)

    async def finish(request: Request, code: str, registration: PendingRegistration) -> Response:
        from ghapp.web.app import activate  # app.py imports this module

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
        credentials = await exchange_code(settings.github_api_url, code)
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
            await activate(request.app, new_settings)
        except Exception as exc:
            started = False
            detail = f"{type(exc).__name__}: {exc}"
            for secret in new_settings.secret_values:  # not yet known to the log redactor
                detail = detail.replace(secret, "[redacted]")
            log.error("setup: starting the configured App failed: %s", detail[:500])
        install_url = f"{settings.github_url}/apps/{quote(credentials.slug, safe='')}"
        return page(
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

    return [
        Route("/", index, methods=["GET"]),
        Route("/setup", index, methods=["GET"]),
        Route("/setup/register", register, methods=["POST"]),
        Route("/setup/callback", callback, methods=["GET"]),
    ]
