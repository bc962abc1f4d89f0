"""The settings page (PRODUCT.md §6): sign in with GitHub, switch skills on and off.

Routes, all under /settings:

    GET  /settings                         sign-in page, or the person's installations
    GET  /settings/login?next=…            starts GitHub's OAuth web flow
    GET  /settings/auth/callback           GitHub's OAuth callback (a manifest callback URL)
    POST /settings/logout                  sign out (CSRF)
    GET  /settings/installed               GitHub's post-install `setup_url`
    GET  /settings/installations/{id}      one installation: switches, options, deliveries
    POST /settings/installations/{id}/switches
    POST /settings/installations/{id}/deliveries/{delivery}/redeliver

Every change is authorized here against GitHub (`settings.access`), whatever the page
showed; pages work without JavaScript (every control is a form). A failed delivery is
queued again from its stored payload rather than asked of GitHub: a GitHub redelivery
keeps its delivery id, which ingress already knows and would not process twice.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from ghapp.context import RepoRef
from ghapp.manifest import OAUTH_CALLBACK_PATH, SETUP_URL_PATH
from ghapp.runtime import Runtime
from ghapp.store.database import utcnow
from ghapp.store.switches import INSTALLATION_WIDE
from ghapp.web.sessions import (
    CSRF_FIELD,
    OAUTH_COOKIE,
    OAUTH_LIFETIME,
    SESSION_COOKIE,
    Viewer,
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
from ghapp.web.settings.access import (
    GitHubUnavailable,
    RepositoryView,
    SignInAgain,
    administers_repository,
    manages_installation,
    visible_installation,
    visible_installations,
    visible_repositories,
)
from ghapp.web.settings.oauth import SignInFailed, authorize_url, exchange_code

log = logging.getLogger("ghapp.web.settings")
TEMPLATES = Path(__file__).parent / "templates"

# No scripts, no frames, forms only to ourselves: the toggles cannot be clickjacked.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NOTICES = {
    "saved": "Saved. It applies from the next event, on every worker.",
    "unchanged": "Nothing changed.",
    "requeued": "The delivery is queued again.",
    "signed-out": "You are signed out.",
    "session-ended": "Your session ended. Sign in again to continue.",
}
SWITCH_VALUES = {"on": True, "off": False, "inherit": None}


@dataclass
class SkillRow:
    name: str
    description: str
    permissions: list[tuple[str, str]]
    default: bool
    installation_value: bool | None  # None: never set, the default applies
    effective_installation: bool
    repo_override: bool | None = None
    effective_repo: bool | None = None
    options_text: str | None = None
    options_source: str | None = None


class SettingsPage:
    def __init__(self) -> None:
        self.templates = Jinja2Templates(directory=str(TEMPLATES))

    # -- rendering -----------------------------------------------------------------------

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        viewer: Viewer | None = None,
        status: int = 200,
    ) -> Response:
        notice = NOTICES.get(request.query_params.get("notice", ""))
        response = self.templates.TemplateResponse(
            request,
            name,
            {"viewer": viewer, "csrf_field": CSRF_FIELD, "notice": notice, **context},
            status_code=status,
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    def problem(
        self,
        request: Request,
        status: int,
        title: str,
        message: str,
        *,
        viewer: Viewer | None = None,
        sign_in: bool = False,
    ) -> Response:
        return self.render(
            request,
            "settings_problem.html",
            {"title": title, "message": message, "sign_in": sign_in},
            viewer=viewer,
            status=status,
        )

    def forbidden(self, request: Request, viewer: Viewer | None, message: str) -> Response:
        return self.problem(request, 403, "Not allowed", message, viewer=viewer)

    async def github_failure(self, request: Request, exc: Exception) -> Response:
        """Advice instead of a 500 when GitHub refuses the person or cannot answer."""
        if isinstance(exc, SignInAgain):
            response = self.problem(
                request,
                401,
                "Sign in again",
                "GitHub no longer accepts your sign-in (it expired or was revoked). "
                "Sign in again to continue.",
                sign_in=True,
            )
            await end_session(request, response)
            return response
        return self.problem(
            request,
            502,
            "GitHub did not answer",
            "GitHub could not be reached or answered with an error. Nothing was changed; "
            "try again in a minute.",
        )

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def runtime(request: Request) -> Runtime | None:
        return request.app.state.runtime

    @staticmethod
    def base_url(request: Request) -> str:
        configured: str | None = request.app.state.settings.base_url
        return configured or str(request.base_url).rstrip("/")

    def not_configured(self, request: Request) -> Response:
        return self.problem(
            request,
            503,
            "Not set up yet",
            "This App is not registered yet. Open the setup page at / to register it.",
        )

    def sign_in_page(self, request: Request, next_path: str, notice: str | None) -> Response:
        settings = request.app.state.settings
        login_url = "/settings/login?" + urlencode({"next": next_path})
        response = self.render(
            request,
            "settings_sign_in.html",
            {
                "login_url": login_url,
                "oauth_ready": bool(settings.client_id and settings.client_secret),
                "notice_override": NOTICES.get(notice or ""),
            },
        )
        if SESSION_COOKIE in request.cookies:
            clear_cookie(request, response, SESSION_COOKIE)
        return response

    # -- pages ---------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        runtime = self.runtime(request)
        if runtime is None:
            return self.not_configured(request)
        viewer = await current_viewer(request)
        if viewer is None:
            ended = SESSION_COOKIE in request.cookies
            return self.sign_in_page(
                request,
                safe_next(request.query_params.get("next")),
                "session-ended" if ended else request.query_params.get("notice"),
            )
        try:
            installations = await visible_installations(runtime, viewer.token)
        except (SignInAgain, GitHubUnavailable) as exc:
            return await self.github_failure(request, exc)
        return self.render(
            request,
            "settings_index.html",
            {"installations": installations, "app_name": await self._app_name(runtime)},
            viewer=viewer,
        )

    async def _app_name(self, runtime: Runtime) -> str:
        try:
            return (await runtime.clients.app_info()).name
        except Exception:
            return "ghapp"  # only a heading: never fail the page for it

    async def login(self, request: Request) -> Response:
        runtime = self.runtime(request)
        settings = request.app.state.settings
        if runtime is None:
            return self.not_configured(request)
        if not (settings.client_id and settings.client_secret):
            return self.problem(
                request,
                503,
                "Sign-in is not configured",
                "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the App's OAuth credentials).",
            )
        keys = await session_keys(request)
        state = secrets.token_urlsafe(24)
        next_path = safe_next(request.query_params.get("next"))
        redirect_uri = self.base_url(request) + OAUTH_CALLBACK_PATH
        response = RedirectResponse(authorize_url(settings, redirect_uri, state), status_code=302)
        set_cookie(
            request,
            response,
            OAUTH_COOKIE,
            pending_sign_in(keys, state, next_path),
            int(OAUTH_LIFETIME.total_seconds()),
        )
        return response

    async def callback(self, request: Request) -> Response:
        runtime = self.runtime(request)
        settings = request.app.state.settings
        if runtime is None:
            return self.not_configured(request)
        keys = await session_keys(request)
        pending = read_pending_sign_in(keys, request)
        state = request.query_params.get("state", "")
        if pending is None or not secrets.compare_digest(pending["state"].encode(), state.encode()):
            return self.problem(
                request,
                400,
                "Sign-in could not be verified",
                "This sign-in did not start here or took too long. Start again.",
                sign_in=True,
            )
        if request.query_params.get("error"):
            return self.problem(
                request, 403, "Sign-in cancelled", "GitHub did not sign you in.", sign_in=True
            )
        code = request.query_params.get("code", "")
        if not code:
            return self.problem(
                request, 400, "Sign-in failed", "GitHub sent no code.", sign_in=True
            )
        try:
            user = await exchange_code(
                runtime, settings, code, self.base_url(request) + OAUTH_CALLBACK_PATH
            )
        except SignInFailed:
            return self.problem(
                request,
                400,
                "Sign-in failed",
                "GitHub refused the sign-in code (it may have expired). Start again.",
                sign_in=True,
            )
        except (SignInAgain, GitHubUnavailable) as exc:
            return await self.github_failure(request, exc)
        response = RedirectResponse(pending["next"], status_code=303)
        await start_session(
            request,
            response,
            login=user.login,
            user_id=user.user_id,
            token=user.token,
            lifetime=user.lifetime,
        )
        clear_cookie(request, response, OAUTH_COOKIE)
        log.info("settings sign-in", extra={"user": user.login})
        return response

    async def logout(self, request: Request) -> Response:
        if self.runtime(request) is None:
            return self.not_configured(request)
        viewer = await current_viewer(request)
        form = await request.form()
        if viewer is not None and not csrf_ok(viewer, form):
            return self.forbidden(request, viewer, "The form was missing its security token.")
        response = RedirectResponse("/settings?notice=signed-out", status_code=303)
        await end_session(request, response)
        return response

    async def installed(self, request: Request) -> Response:
        """GitHub's setup_url: after installing, land on that installation's settings."""
        raw = request.query_params.get("installation_id", "")
        target = f"/settings/installations/{int(raw)}" if raw.isdigit() else "/settings"
        if self.runtime(request) is not None and await current_viewer(request) is not None:
            return RedirectResponse(target, status_code=303)
        return RedirectResponse("/settings/login?" + urlencode({"next": target}), status_code=303)

    async def installation(self, request: Request) -> Response:
        runtime = self.runtime(request)
        if runtime is None:
            return self.not_configured(request)
        installation_id: int = request.path_params["installation_id"]
        viewer = await current_viewer(request)
        if viewer is None:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return self.sign_in_page(
                request,
                safe_next(here),
                "session-ended" if SESSION_COOKIE in request.cookies else None,
            )
        try:
            return await self._installation(request, runtime, viewer, installation_id)
        except (SignInAgain, GitHubUnavailable) as exc:
            return await self.github_failure(request, exc)

    async def _installation(
        self, request: Request, runtime: Runtime, viewer: Viewer, installation_id: int
    ) -> Response:
        installation = await visible_installation(runtime, viewer.token, installation_id)
        if installation is None:
            return self.problem(
                request,
                404,
                "Installation not found",
                "This installation does not exist or you cannot see it on GitHub.",
                viewer=viewer,
            )
        repositories = await visible_repositories(runtime, viewer.token, installation_id)
        chosen = _find_repo(repositories, request.query_params.get("repo"))
        can_manage = await manages_installation(runtime, installation, viewer.login)
        can_override = can_manage or (
            chosen is not None
            and await administers_repository(
                runtime, installation_id, chosen.full_name, viewer.login
            )
        )
        stored = await runtime.switches.switches(installation_id)
        rows = self._skill_rows(runtime, stored, chosen)
        options_error = await self._options(runtime, installation_id, chosen, rows)
        overrides = sorted(
            (repo, skill, enabled)
            for (repo, skill), enabled in stored.items()
            if repo != INSTALLATION_WIDE
        )
        deliveries = await runtime.deliveries.list(installation_ids=[installation_id], limit=25)
        audit = await runtime.switches.audit(installation_id, limit=50)
        return self.render(
            request,
            "settings_installation.html",
            {
                "installation": installation,
                "repositories": repositories,
                "chosen": chosen,
                "can_manage": can_manage,
                "can_override": can_override,
                "rows": rows,
                "options_error": options_error,
                "overrides": overrides,
                "deliveries": deliveries,
                "audit": audit,
                "repo_query": quote(chosen.full_name, safe="/") if chosen else "",
            },
            viewer=viewer,
        )

    @staticmethod
    def _skill_rows(
        runtime: Runtime,
        stored: dict[tuple[str, str], bool],
        chosen: RepositoryView | None,
    ) -> list[SkillRow]:
        rows: list[SkillRow] = []
        for name in sorted(runtime.skills):
            skill = runtime.skills[name]
            value = stored.get((INSTALLATION_WIDE, name))
            effective = skill.default_enabled if value is None else value
            row = SkillRow(
                name=name,
                description=skill.description,
                permissions=sorted((str(k), str(v)) for k, v in skill.permissions.items()),
                default=skill.default_enabled,
                installation_value=value,
                effective_installation=effective,
            )
            if chosen is not None:
                row.repo_override = stored.get((chosen.full_name, name))
                row.effective_repo = effective if row.repo_override is None else row.repo_override
            rows.append(row)
        return rows

    @staticmethod
    async def _options(
        runtime: Runtime,
        installation_id: int,
        chosen: RepositoryView | None,
        rows: list[SkillRow],
    ) -> str | None:
        """Fill each row's resolved options for the chosen repository (read-only)."""
        if chosen is None:
            return None
        ref = RepoRef.parse(chosen.full_name)
        try:
            gh = await runtime.clients.installation(installation_id)
            config = await runtime.options_resolver.load_config(gh, ref)
        except Exception as exc:
            log.warning("options unavailable on the settings page: %s", type(exc).__name__)
            return "The repository's .github/ghapp.yml could not be read just now."
        for row in rows:
            resolved = await runtime.options_resolver.options_for(
                runtime.skills[row.name], config, ref
            )
            if resolved is None:
                row.options_source = "its section in .github/ghapp.yml is invalid"
                continue
            options, own_section = resolved
            dumped = options.model_dump(mode="json")
            row.options_text = (
                yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True).strip()
                if dumped
                else "(no options)"
            )
            row.options_source = (
                "from .github/ghapp.yml with defaults"
                if own_section
                else "defaults (no section in .github/ghapp.yml)"
            )
        return None

    # -- changes -------------------------------------------------------------------------

    async def _change_guard(self, request: Request) -> tuple[Runtime, Viewer, Any] | Response:
        """The runtime, the signed-in person and the form — or the refusal to send."""
        runtime = self.runtime(request)
        if runtime is None:
            return self.not_configured(request)
        viewer = await current_viewer(request)
        form = await request.form()
        if viewer is None:
            return self.forbidden(request, None, "Sign in before changing settings.")
        if not csrf_ok(viewer, form):
            return self.forbidden(
                request, viewer, "The form was missing its security token. Reload and retry."
            )
        return runtime, viewer, form

    async def set_switch(self, request: Request) -> Response:
        guarded = await self._change_guard(request)
        if isinstance(guarded, Response):
            return guarded
        runtime, viewer, form = guarded
        installation_id: int = request.path_params["installation_id"]
        skill = str(form.get("skill", ""))
        value = str(form.get("value", ""))
        repository = str(form.get("repository", ""))
        if skill not in runtime.skills or value not in SWITCH_VALUES:
            return self.problem(request, 400, "Bad request", "Unknown skill or value.")
        if repository == INSTALLATION_WIDE and value == "inherit":
            return self.problem(request, 400, "Bad request", "Choose on or off.")
        try:
            installation = await visible_installation(runtime, viewer.token, installation_id)
            if installation is None:
                return self.forbidden(request, viewer, "You cannot see this installation.")
            allowed = await manages_installation(runtime, installation, viewer.login)
            if repository != INSTALLATION_WIDE:
                repos = await visible_repositories(runtime, viewer.token, installation_id)
                found = _find_repo(repos, repository)
                if found is None:
                    return self.forbidden(
                        request, viewer, "That repository is not part of this installation."
                    )
                repository = found.full_name  # GitHub's spelling, as deliveries carry it
                allowed = allowed or await administers_repository(
                    runtime, installation_id, repository, viewer.login
                )
        except (SignInAgain, GitHubUnavailable) as exc:
            return await self.github_failure(request, exc)
        if not allowed:
            who = (
                "organization owners (or the account itself)"
                if repository == INSTALLATION_WIDE
                else "repository admins and organization owners"
            )
            log.warning(
                "settings change refused",
                extra={"user": viewer.login, "installation": installation_id, "skill": skill},
            )
            return self.forbidden(request, viewer, f"Only {who} may change this switch.")
        change = await runtime.switches.set(
            installation_id, repository, skill, SWITCH_VALUES[value], actor=viewer.login
        )
        log.info(
            "skill switch changed" if change else "skill switch unchanged",
            extra={
                "user": viewer.login,
                "installation": installation_id,
                "repo": repository or None,
                "skill": skill,
                "value": value,
            },
        )
        query = {"notice": "saved" if change else "unchanged"}
        if repository:
            query["repo"] = repository
        anchor = f"repo-skill-{skill}" if repository else f"skill-{skill}"
        return RedirectResponse(
            f"/settings/installations/{installation_id}?{urlencode(query)}#{anchor}",
            status_code=303,
        )

    async def redeliver(self, request: Request) -> Response:
        guarded = await self._change_guard(request)
        if isinstance(guarded, Response):
            return guarded
        runtime, viewer, _form = guarded
        installation_id: int = request.path_params["installation_id"]
        delivery = await runtime.deliveries.get(request.path_params["delivery_id"])
        if delivery is None or delivery.installation_id != installation_id:
            return self.problem(request, 404, "Not found", "No such delivery.", viewer=viewer)
        try:
            installation = await visible_installation(runtime, viewer.token, installation_id)
            if installation is None:
                return self.forbidden(request, viewer, "You cannot see this installation.")
            allowed = await manages_installation(runtime, installation, viewer.login)
            if not allowed and delivery.repository:
                allowed = await administers_repository(
                    runtime, installation_id, delivery.repository, viewer.login
                )
        except (SignInAgain, GitHubUnavailable) as exc:
            return await self.github_failure(request, exc)
        if not allowed:
            return self.forbidden(
                request, viewer, "Only organization owners and repository admins may do this."
            )
        if delivery.status != "failed":
            return self.problem(
                request, 409, "Not failed", "Only failed deliveries are run again.", viewer=viewer
            )
        # Skills that finished (ok or skipped) are not run again; effects happen once.
        await runtime.deliveries.requeue(delivery.id, utcnow(), delivery.error)
        await runtime.queue.enqueue_delivery(delivery.id, delivery.ordering_key)
        log.info(
            "delivery queued again from the settings page",
            extra={"user": viewer.login, "delivery": delivery.id},
        )
        return RedirectResponse(
            f"/settings/installations/{installation_id}?notice=requeued#deliveries",
            status_code=303,
        )


def _find_repo(repos: list[RepositoryView], name: str | None) -> RepositoryView | None:
    if not name:
        return None
    wanted = name.strip().lower()
    return next((r for r in repos if r.full_name.lower() == wanted), None)


def routes() -> list[BaseRoute]:
    page = SettingsPage()
    return [
        Route("/settings", page.index, methods=["GET"]),
        Route("/settings/login", page.login, methods=["GET"]),
        Route(OAUTH_CALLBACK_PATH, page.callback, methods=["GET"]),
        Route("/settings/logout", page.logout, methods=["POST"]),
        Route(SETUP_URL_PATH, page.installed, methods=["GET"]),
        Route("/settings/installations/{installation_id:int}", page.installation, methods=["GET"]),
        Route(
            "/settings/installations/{installation_id:int}/switches",
            page.set_switch,
            methods=["POST"],
        ),
        Route(
            "/settings/installations/{installation_id:int}/deliveries/{delivery_id}/redeliver",
            page.redeliver,
            methods=["POST"],
        ),
    ]
