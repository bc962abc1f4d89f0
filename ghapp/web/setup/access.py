"""Who may use setup mode: whoever started the server, proven by the setup token.

`ghapp run` prints `setup URL: http://HOST:PORT/setup?token=TOKEN` at start (a fresh
random token each start, never logged elsewhere). Opening it gives the browser a cookie:
a random browser id signed with the token (HMAC), so the server keeps nothing per browser
and a cookie from an earlier start is worthless. Every setup page and form wants that
cookie (or the token itself); the registration form also carries a CSRF token derived
from the token and the browser id, and must come from this server's own origin; the
manifest flow's `state` is bound to the browser id, so GitHub's redirect back only
finishes a registration in the browser that started it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

SETUP_COOKIE = "ghapp_setup"
COOKIE_LIFETIME = 12 * 3600  # seconds: longer than any setup, shorter than forever
CSRF_FIELD = "csrf_token"


def new_setup_token() -> str:
    """At least 32 characters (43), URL-safe: PRODUCT.md §7."""
    return secrets.token_urlsafe(32)


def _sign(token: str, purpose: str, browser: str) -> str:
    message = f"{purpose}\x00{browser}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str: compare bytes.
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def token_matches(given: str | None, token: str) -> bool:
    return bool(given) and _same(str(given), token)


def browser_of(request: Request, token: str) -> str | None:
    """The browser id in a valid setup cookie, or None (missing, forged, another start)."""
    raw = request.cookies.get(SETUP_COOKIE, "")
    browser, _, signature = raw.partition(".")
    if not browser or not signature or not _same(signature, _sign(token, "cookie", browser)):
        return None
    return browser


def give_cookie(request: Request, response: Response, token: str) -> str:
    """Set the setup cookie (keeping a valid browser id); returns the browser id."""
    browser = browser_of(request, token) or secrets.token_urlsafe(16)
    response.set_cookie(
        SETUP_COOKIE,
        f"{browser}.{_sign(token, 'cookie', browser)}",
        max_age=COOKIE_LIFETIME,
        path="/",
        httponly=True,
        # Lax: GitHub's redirect back to the callback is a top-level GET, which brings it.
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return browser


def csrf_token(token: str, browser: str) -> str:
    return _sign(token, "csrf", browser)


def csrf_matches(given: object, token: str, browser: str) -> bool:
    return isinstance(given, str) and bool(given) and _same(given, csrf_token(token, browser))


def _host_and_port(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.hostname.lower()}:{port or default}"


def same_origin(request: Request, base_url: str | None) -> bool:
    """Whether a form post comes from a page of this server: its `Origin` (else its
    `Referer`) names the host the request was sent to, or BASE_URL's. A post with neither
    (or `Origin: null`) is refused: browsers send `Origin` with every form post."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    found = _host_and_port(claimed)
    own = {_host_and_port(str(request.base_url)), _host_and_port(base_url or "")}
    # The Host header as sent, whatever scheme a proxy in front terminated.
    host = request.headers.get("host", "")
    own |= {_host_and_port(f"http://{host}"), _host_and_port(f"https://{host}")}
    return found is not None and found in own - {None}


def same_host(url: str, request: Request) -> bool:
    """Whether `url` names the host this page was opened on (cookies follow hosts)."""
    try:
        return (urlsplit(url).hostname or "").lower() == (request.url.hostname or "").lower()
    except ValueError:
        return False
