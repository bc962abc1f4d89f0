"""How every settings page is answered: the templates, the security headers, the notices
shown after a change, and the problem pages (with advice, never a 500) the routes share."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from ghapp.web.services import SettingsServices
from ghapp.web.sessions import CSRF_FIELD, SESSION_COOKIE, Viewer, clear_cookie, end_session
from ghapp.web.settings.access import SignInAgain

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def warm_up() -> None:
    """Compile every template (the pages and the layouts, macros and parts they extend,
    import and include) once, when the app is built: compiling them was most of the
    process's first view."""
    for name in TEMPLATES.env.list_templates(extensions=["html"]):
        TEMPLATES.get_template(name)


# Scripts only our own (progressive enhancement), no frames, forms only to ourselves: the
# toggles cannot be clickjacked.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
        "img-src 'self' data:; form-action 'self'; "
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


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status: int = 200,
) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {"viewer": viewer, "csrf_field": CSRF_FIELD, "notice": notice, **context},
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def problem(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    viewer: Viewer | None = None,
    sign_in: bool = False,
    link: str | None = None,
    link_text: str | None = None,
    back: str | None = "/settings",
) -> Response:
    # "Back to settings" only where /settings itself is not what answered.
    if request.url.path.rstrip("/") == "/settings":
        back = None
    return render(
        request,
        "settings_problem.html",
        {
            "title": title,
            "message": message,
            "sign_in": sign_in,
            "link": link,
            "link_text": link_text,
            "back": back,
            "back_text": "Back to your installations",
        },
        viewer=viewer,
        status=status,
    )


def forbidden(request: Request, viewer: Viewer | None, message: str) -> Response:
    return problem(request, 403, "Not allowed", message, viewer=viewer)


def not_configured(request: Request) -> Response:
    return problem(
        request,
        503,
        "Not set up yet",
        "This App is not registered yet: register it on the setup page.",
        link="/",
        link_text="Open the setup page",
        back=None,
    )


async def github_failure(request: Request, services: SettingsServices, exc: Exception) -> Response:
    """Advice instead of a 500 when GitHub refuses the person or cannot answer."""
    if isinstance(exc, SignInAgain):
        response = problem(
            request,
            401,
            "Sign in again",
            "GitHub no longer accepts your sign-in (it expired or was revoked). "
            "Sign in again to continue.",
            sign_in=True,
        )
        await end_session(request, services, response)
        return response
    return problem(
        request,
        502,
        "GitHub did not answer",
        "GitHub could not be reached or answered with an error. Nothing was changed; "
        "try again in a minute.",
    )


def sign_in_page(request: Request, next_path: str, notice: str | None) -> Response:
    settings = request.app.state.settings
    login_url = "/settings/login?" + urlencode({"next": next_path})
    response = render(
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


def base_url(request: Request) -> str:
    """The App's public URL: BASE_URL, else as this request reached us."""
    configured: str | None = request.app.state.settings.base_url
    return configured or str(request.base_url).rstrip("/")
