"""Settings-page sign-in state: the session cookie, the sealed user token, CSRF tokens.

- The cookie holds a random session id signed with the session secret (itsdangerous);
  the session itself — login, CSRF token, the person's GitHub token — lives in the
  database (`ghapp.store.sessions`). A new id is issued at every sign-in.
- The GitHub token is encrypted (Fernet, key derived from the session secret) before it
  is stored, so the database alone does not hand out people's tokens.
- While the OAuth round trip is under way, a second short-lived signed cookie carries the
  `state` and the local page to return to; it holds nothing secret.
- The session secret is SESSION_SECRET, else one generated on first run and kept in a
  0600 file beside `.env`, never in the database (`ghapp.web.session_secret`), so every
  restart agrees on it and the database alone does not unseal the tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from ghapp.store.sessions import WebSession
from ghapp.web.services import SettingsServices

SESSION_COOKIE = "ghapp_session"
OAUTH_COOKIE = "ghapp_oauth"
SESSION_LIFETIME = timedelta(hours=8)
OAUTH_LIFETIME = timedelta(minutes=10)
CSRF_FIELD = "csrf_token"


@dataclass
class Viewer:
    """The signed-in person, as the settings page uses them."""

    session_id: str = field(repr=False)
    login: str
    user_id: int
    token: str = field(repr=False)
    csrf_token: str = field(repr=False)


@dataclass
class SessionKeys:
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        self.cookie_signer = TimestampSigner(self.secret, salt="ghapp-settings-session")
        self.oauth_serializer = URLSafeTimedSerializer(self.secret, salt="ghapp-oauth-state")
        digest = hashlib.sha256(b"ghapp-user-token\x00" + self.secret.encode()).digest()
        self.fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, token: str) -> str:
        return self.fernet.encrypt(token.encode()).decode()

    def unseal(self, sealed: str) -> str | None:
        try:
            return self.fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None  # the session secret changed: the person signs in again


async def session_keys(request: Request, services: SettingsServices) -> SessionKeys:
    """The keys for this App, resolved once per process."""
    keys: SessionKeys | None = getattr(request.app.state, "settings_session_keys", None)
    if keys is None:
        keys = SessionKeys(await services.session_secret())
        request.app.state.settings_session_keys = keys
    return keys


def is_https(request: Request) -> bool:
    base_url: str | None = request.app.state.settings.base_url
    return request.url.scheme == "https" or bool(base_url and base_url.startswith("https://"))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/settings",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/settings", httponly=True, samesite="lax", secure=is_https(request)
    )


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in; anything else (another site, `//host`,
    `/\\host`, a scheme) falls back to the settings page, so sign-in is no open redirect."""
    default = "/settings"
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(viewer: Viewer, form: Any) -> bool:
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode(), viewer.csrf_token.encode())


def _signed_cookie(request: Request, name: str, read: Callable[[str], Any]) -> Any:
    """`read(value)` of the cookie `name`; None when it is missing, tampered or expired."""
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        return read(raw)
    except BadSignature:  # also its subclass SignatureExpired
        return None


def cookie_session_id(keys: SessionKeys, request: Request) -> str | None:
    """The session id from a validly signed, unexpired cookie; None for anything else."""
    max_age = int(SESSION_LIFETIME.total_seconds())
    value = _signed_cookie(
        request, SESSION_COOKIE, lambda raw: keys.cookie_signer.unsign(raw, max_age=max_age)
    )
    return None if value is None else value.decode()


async def current_viewer(request: Request, services: SettingsServices) -> Viewer | None:
    """The signed-in person, or None (no cookie, a tampered one, an expired session)."""
    keys = await session_keys(request, services)
    session_id = cookie_session_id(keys, request)
    if session_id is None:
        return None
    found: WebSession | None = await services.sessions.get(session_id)
    if found is None:
        return None
    token = keys.unseal(found.sealed_token)
    if token is None:
        return None
    return Viewer(session_id, found.user_login, found.user_id, token, found.csrf_token)


async def start_session(
    request: Request,
    services: SettingsServices,
    response: Response,
    *,
    login: str,
    user_id: int,
    token: str,
    lifetime: timedelta = SESSION_LIFETIME,
) -> None:
    """Sign the person in under a brand-new session id (no fixation), ending any old one."""
    keys = await session_keys(request, services)
    store = services.sessions
    old = cookie_session_id(keys, request)
    if old is not None:
        await store.delete(old)
    session_id = new_session_id()
    lifetime = min(lifetime, SESSION_LIFETIME)
    await store.create(
        session_id,
        user_login=login,
        user_id=user_id,
        sealed_token=keys.seal(token),
        csrf_token=new_csrf_token(),
        lifetime=lifetime,
    )
    signed = keys.cookie_signer.sign(session_id).decode()
    set_cookie(request, response, SESSION_COOKIE, signed, int(lifetime.total_seconds()))


async def end_session(request: Request, services: SettingsServices, response: Response) -> None:
    keys = await session_keys(request, services)
    session_id = cookie_session_id(keys, request)
    if session_id is not None:
        await services.sessions.delete(session_id)
    clear_cookie(request, response, SESSION_COOKIE)


def pending_sign_in(keys: SessionKeys, state: str, next_path: str) -> str:
    return keys.oauth_serializer.dumps({"state": state, "next": next_path})


def read_pending_sign_in(keys: SessionKeys, request: Request) -> dict[str, str] | None:
    max_age = int(OAUTH_LIFETIME.total_seconds())
    data = _signed_cookie(
        request, OAUTH_COOKIE, lambda raw: keys.oauth_serializer.loads(raw, max_age=max_age)
    )
    if not isinstance(data, dict) or not isinstance(data.get("state"), str):
        return None
    return {"state": data["state"], "next": safe_next(data.get("next"))}
