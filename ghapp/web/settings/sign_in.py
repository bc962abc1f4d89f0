"""Signing in and out of the settings page with GitHub's OAuth web flow.

`login` sends the person to GitHub with a random `state` kept in a short-lived signed
cookie; `callback` checks that state, trades the code for the person's token and starts
a fresh session; `logout` ends it (CSRF-checked); `installed` is GitHub's post-install
`setup_url`, which lands on that installation's settings.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ghapp.github import GitHubUnavailable
from ghapp.manifest import OAUTH_CALLBACK_PATH
from ghapp.web.services import settings_services
from ghapp.web.sessions import (
    OAUTH_COOKIE,
    OAUTH_LIFETIME,
    clear_cookie,
    csrf_ok,
    current_viewer,
    end_session,
    pending_sign_in,
    read_pending_sign_in,
    safe_next,
    session_keys,
    set_cookie,
    start_session,
)
from ghapp.web.settings.access import SignInAgain
from ghapp.web.settings.oauth import SignInFailed, authorize_url, sign_in_with_code
from ghapp.web.settings.queries import BadQuery, ascii_number
from ghapp.web.settings.rendering import (
    base_url,
    forbidden,
    github_failure,
    not_configured,
    problem,
)

log = logging.getLogger("ghapp.web.settings")


async def login(request: Request) -> Response:
    services = settings_services(request)
    settings = request.app.state.settings
    if services is None:
        return not_configured(request)
    if not (settings.client_id and settings.client_secret):
        return problem(
            request,
            503,
            "Sign-in is not configured",
            "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the App's OAuth credentials).",
        )
    keys = await session_keys(request, services)
    state = secrets.token_urlsafe(24)
    next_path = safe_next(request.query_params.get("next"))
    redirect_uri = base_url(request) + OAUTH_CALLBACK_PATH
    response = RedirectResponse(authorize_url(settings, redirect_uri, state), status_code=302)
    set_cookie(
        request,
        response,
        OAUTH_COOKIE,
        pending_sign_in(keys, state, next_path),
        int(OAUTH_LIFETIME.total_seconds()),
    )
    return response


async def callback(request: Request) -> Response:
    services = settings_services(request)
    settings = request.app.state.settings
    if services is None:
        return not_configured(request)
    keys = await session_keys(request, services)
    pending = read_pending_sign_in(keys, request)
    state = request.query_params.get("state", "")
    if pending is None or not secrets.compare_digest(pending["state"].encode(), state.encode()):
        return problem(
            request,
            400,
            "Sign-in could not be verified",
            "This sign-in did not start here or took too long. Start again.",
            sign_in=True,
        )
    if request.query_params.get("error"):
        return problem(
            request, 403, "Sign-in cancelled", "GitHub did not sign you in.", sign_in=True
        )
    code = request.query_params.get("code", "")
    if not code:
        return problem(request, 400, "Sign-in failed", "GitHub sent no code.", sign_in=True)
    try:
        user = await sign_in_with_code(
            services.github, settings, code, base_url(request) + OAUTH_CALLBACK_PATH
        )
    except SignInFailed:
        return problem(
            request,
            400,
            "Sign-in failed",
            "GitHub refused the sign-in code (it may have expired). Start again.",
            sign_in=True,
        )
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)
    response = RedirectResponse(pending["next"], status_code=303)
    await start_session(
        request,
        services,
        response,
        login=user.login,
        user_id=user.user_id,
        token=user.token,
        lifetime=user.lifetime,
    )
    clear_cookie(request, response, OAUTH_COOKIE)
    log.info("settings sign-in", extra={"user": user.login})
    return response


async def logout(request: Request) -> Response:
    services = settings_services(request)
    if services is None:
        return not_configured(request)
    viewer = await current_viewer(request, services)
    form = await request.form()
    if viewer is not None and not csrf_ok(viewer, form):
        return forbidden(request, viewer, "The form was missing its security token.")
    response = RedirectResponse("/settings?notice=signed-out", status_code=303)
    await end_session(request, services, response)
    return response


async def installed(request: Request) -> Response:
    """GitHub's setup_url: after installing, land on that installation's settings."""
    raw = request.query_params.get("installation_id", "")
    target = "/settings"
    if raw:
        try:
            target = f"/settings/installations/{ascii_number(raw, 'installation_id')}"
        except BadQuery as exc:
            return problem(request, 400, "Bad request", f"{exc}.")
    services = settings_services(request)
    if services is not None and await current_viewer(request, services) is not None:
        return RedirectResponse(target, status_code=303)
    return RedirectResponse("/settings/login?" + urlencode({"next": target}), status_code=303)
