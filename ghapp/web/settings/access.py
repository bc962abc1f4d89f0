"""What the signed-in person can see and change, asked of GitHub, never of the browser.

- Seeing: the installations and repositories GitHub lists for the person's own token
  (`GET /user/installations`, `GET /user/installations/{id}/repositories`).
- Changing an installation's switches: the account itself (a user installation) or an
  owner of the organization (`GET /orgs/{org}/memberships/{login}`, role `admin`, read
  with the installation's token: the manifest asks for `members: read`).
- Changing one repository's override: the above, or an admin of that repository
  (`role_name` of the collaborator permission API; the legacy `permission` field hides
  custom and maintain roles).

GitHub failures become two exceptions the page turns into advice: `SignInAgain` (the
person's token was refused) and `ghapp.github.GitHubUnavailable` (GitHub could not answer).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from githubkit.exception import GitHubException, RequestFailed

from ghapp.github import GitHubUnavailable
from ghapp.web.services import GitHubAccess

log = logging.getLogger("ghapp.web.settings")


class SignInAgain(Exception):
    """GitHub refused the person's token (revoked, expired): they must sign in again."""


@dataclass
class InstallationView:
    id: int
    account: str
    account_type: str  # Organization | User
    html_url: str | None
    repository_selection: str | None


@dataclass
class RepositoryView:
    full_name: str
    private: bool
    html_url: str | None


@asynccontextmanager
async def as_person() -> AsyncIterator[None]:
    """GitHub errors on requests made with the person's token, as page-level advice."""
    try:
        yield
    except RequestFailed as exc:
        status = exc.response.status_code
        if status == 401:
            raise SignInAgain("GitHub no longer accepts your sign-in") from None
        log.warning("GitHub refused a settings-page request", extra={"status": status})
        raise GitHubUnavailable(f"GitHub answered {status}") from None
    except GitHubException as exc:
        log.warning("GitHub unreachable from the settings page: %s", type(exc).__name__)
        raise GitHubUnavailable("GitHub could not be reached") from None


def _account_name(account: Any) -> str:
    return str(getattr(account, "login", None) or getattr(account, "slug", None) or "?")


async def _every_page(
    github: GitHubAccess,
    token: str,
    endpoint: Callable[[Any], Any],
    items: Callable[[Any], list[Any]],
    **params: Any,
) -> list[Any]:
    """Every item of one GitHub list, read with the person's token."""
    gh = github.user(token)  # held: githubkit's `.rest` keeps only a weak reference
    async with as_person():
        return [
            item
            async for item in gh.rest.paginate(
                endpoint(gh.rest), map_func=items, per_page=100, **params
            )
        ]


async def visible_installations(github: GitHubAccess, token: str) -> list[InstallationView]:
    """Installations of this App the person can see, in GitHub's order (every page)."""
    found = await _every_page(
        github,
        token,
        lambda rest: rest.apps.async_list_installations_for_authenticated_user,
        lambda response: response.parsed_data.installations,
    )
    return [
        InstallationView(
            id=item.id,
            account=_account_name(item.account),
            account_type=str(item.target_type or getattr(item.account, "type", "") or ""),
            html_url=getattr(item, "html_url", None),
            repository_selection=getattr(item, "repository_selection", None),
        )
        for item in found
    ]


async def visible_installation(
    github: GitHubAccess, token: str, installation_id: int
) -> InstallationView | None:
    for installation in await visible_installations(github, token):
        if installation.id == installation_id:
            return installation
    return None


async def visible_repositories(
    github: GitHubAccess, token: str, installation_id: int
) -> list[RepositoryView]:
    """The installation's repositories the person can see, by name."""
    found = await _every_page(
        github,
        token,
        lambda rest: rest.apps.async_list_installation_repos_for_authenticated_user,
        lambda response: response.parsed_data.repositories,
        installation_id=installation_id,
    )
    views = [
        RepositoryView(
            full_name=repo.full_name,
            private=bool(repo.private),
            html_url=getattr(repo, "html_url", None),
        )
        for repo in found
    ]
    return sorted(views, key=lambda r: r.full_name.lower())


async def manages_installation(
    github: GitHubAccess, installation: InstallationView, login: str
) -> bool:
    """The account itself, or an active owner of the organization."""
    if installation.account_type != "Organization":
        return installation.account.lower() == login.lower()
    try:
        gh = await github.installation(installation.id)
        membership = (
            await gh.rest.orgs.async_get_membership_for_user(installation.account, login)
        ).parsed_data
    except RequestFailed as exc:
        if exc.response.status_code in (403, 404):
            if exc.response.status_code == 403:
                log.warning(
                    "cannot read org membership: does the App have members: read?",
                    extra={"installation": installation.id},
                )
            return False
        raise GitHubUnavailable(f"GitHub answered {exc.response.status_code}") from None
    except GitHubException:
        raise GitHubUnavailable("GitHub could not be reached") from None
    return membership.role == "admin" and membership.state == "active"


async def administers_repository(
    github: GitHubAccess, installation_id: int, full_name: str, login: str
) -> bool:
    owner, _, name = full_name.partition("/")
    try:
        gh = await github.installation(installation_id)
        permission = (
            await gh.rest.repos.async_get_collaborator_permission_level(owner, name, login)
        ).parsed_data
    except RequestFailed as exc:
        if exc.response.status_code in (403, 404):
            return False
        raise GitHubUnavailable(f"GitHub answered {exc.response.status_code}") from None
    except GitHubException:
        raise GitHubUnavailable("GitHub could not be reached") from None
    return permission.role_name == "admin"
