"""GitHub's OAuth web flow for the settings page: the authorize URL and the sign-in code.

GITHUB_URL is the web root (github.com, or a GitHub Enterprise Server host) and is used
as configured; githubkit's own exchange derives it from the API URL instead, which would
ignore GITHUB_URL, so the one POST is made here (GitHub's documented form).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import httpx
from githubkit.exception import GitHubException, RequestFailed

from ghapp.config import Settings
from ghapp.github import GitHubUnavailable
from ghapp.web.services import GitHubAccess
from ghapp.web.settings.access import SignInAgain

log = logging.getLogger("ghapp.web.settings")


class SignInFailed(Exception):
    """The code exchange was refused (expired or reused code, wrong client secret)."""


@dataclass
class SignedInUser:
    login: str
    user_id: int
    token: str = field(repr=False)
    lifetime: timedelta


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    query = urlencode(
        {"client_id": settings.client_id or "", "redirect_uri": redirect_uri, "state": state}
    )
    return f"{settings.github_url}/login/oauth/authorize?{query}"


async def sign_in_with_code(
    github: GitHubAccess, settings: Settings, code: str, redirect_uri: str
) -> SignedInUser:
    """Trade the callback's code for the person's token, then ask GitHub who they are."""
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(
                f"{settings.github_url}/login/oauth/access_token",
                data={
                    "client_id": settings.client_id or "",
                    "client_secret": (
                        settings.client_secret.get_secret_value() if settings.client_secret else ""
                    ),
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"Accept": "application/json", "User-Agent": "ghapp"},
            )
    except httpx.HTTPError as exc:
        log.warning("OAuth code exchange failed: %s", type(exc).__name__)
        raise GitHubUnavailable("GitHub could not be reached") from None
    if response.status_code >= 500:
        raise GitHubUnavailable(f"GitHub answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise GitHubUnavailable("GitHub's answer to the sign-in was not understood") from None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        # GitHub answers 200 with an `error` field; only its name is logged, never the body.
        error = data.get("error") if isinstance(data, dict) else None
        log.warning("OAuth code exchange refused: %s", error)
        raise SignInFailed(str(error or "no token"))
    expires_in = data.get("expires_in")
    lifetime = timedelta(hours=8)
    if isinstance(expires_in, int | str) and str(expires_in).isdigit() and int(expires_in) > 0:
        lifetime = min(lifetime, timedelta(seconds=int(expires_in)))
    gh = github.user(token)  # held: githubkit's `.rest` keeps only a weak reference
    try:
        user = (await gh.rest.users.async_get_authenticated()).parsed_data
    except RequestFailed as exc:
        if exc.response.status_code == 401:
            raise SignInAgain("GitHub refused the new sign-in") from None
        raise GitHubUnavailable(f"GitHub answered {exc.response.status_code}") from None
    except GitHubException:
        raise GitHubUnavailable("GitHub could not be reached") from None
    return SignedInUser(login=user.login, user_id=user.id, token=token, lifetime=lifetime)
