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

import asyncio
import hashlib
import importlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from githubkit import GitHub
from githubkit.exception import GitHubException, RequestFailed

from ghapp.github import GitHubUnavailable
from ghapp.web.services import GitHubAccess

log = logging.getLogger("ghapp.web.settings")
PER_PAGE = 100  # GitHub's most per page
MAX_PAGES = 100  # 10,000 repositories
T = TypeVar("T")


# The GitHub models the page's access checks parse: githubkit builds each group of models
# on first use, half a second of the process's first view for these.
MODELS = (
    "UserInstallationsGetResponse200",
    "Installation",
    "AppInstallationsInstallationIdAccessTokensPostBody",
    "InstallationToken",
    "OrgMembership",
    "RepositoryCollaboratorPermission",
    "BasicError",
    "ValidationError",
)


def warm_up() -> None:
    """Load the REST groups and models the access checks use, when the app is built
    (a client that makes no request tells which version's modules they are)."""
    client = GitHub("warm-up")  # held: githubkit's `.rest` keeps only a weak reference
    module = ""
    for group in ("apps", "orgs", "repos"):
        module = type(getattr(client.rest, group)).__module__
    models = importlib.import_module(module.rsplit(".rest.", 1)[0] + ".models")
    for name in MODELS:
        getattr(models, name, None)


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
    """The installation's repositories the person can see, by name.

    Read page by page with githubkit, but from each answer's JSON rather than its parsed
    models: validating 100 full repository models per page is most of the page's server
    time with hundreds of repositories, and three fields are all the page uses. The
    pages after the first are asked for at once, their count known from `total_count`.
    """
    gh = github.user(token)  # held: githubkit's `.rest` keeps only a weak reference
    endpoint = gh.rest.apps.async_list_installation_repos_for_authenticated_user

    async def page(number: int) -> dict[str, Any]:
        async with as_person():
            response = await endpoint(installation_id, per_page=PER_PAGE, page=number)
        try:
            answer: Any = orjson.loads(response.content)  # several times json's speed
        except orjson.JSONDecodeError:
            raise GitHubUnavailable("GitHub answered with something other than JSON") from None
        return answer if isinstance(answer, dict) else {}

    first = await page(1)
    total = first.get("total_count")
    # Exactly the pages that hold `total` (200 repositories: 2, never an empty third).
    pages = min(-(-total // PER_PAGE), MAX_PAGES) if isinstance(total, int) and total > 0 else 1
    found = list(first.get("repositories") or [])
    for more in await asyncio.gather(*(page(n) for n in range(2, pages + 1))):
        found.extend(more.get("repositories") or [])
    views = {
        str(repo["full_name"]): RepositoryView(
            full_name=str(repo["full_name"]),
            private=bool(repo.get("private")),
            html_url=repo.get("html_url") if isinstance(repo.get("html_url"), str) else None,
        )
        for repo in found
        if isinstance(repo, dict) and isinstance(repo.get("full_name"), str)
    }
    return sorted(views.values(), key=lambda r: r.full_name.lower())


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


class SeenRecently:
    """What GitHub listed for one person a moment ago, for page views only.

    A person pages, searches and filters the same installation many times a minute; each
    view asking GitHub for every repository again (three pages for 201 repositories) is
    most of its time. Views reuse the answer for `ttl` seconds, keyed by a hash of the
    person's token (never the token); a change (POST) always asks GitHub afresh.
    """

    def __init__(self, ttl: float = 60.0, size: int = 512) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[tuple[str, str, int], tuple[float, Any]] = {}

    @staticmethod
    def _key(kind: str, token: str, number: int) -> tuple[str, str, int]:
        return kind, hashlib.sha256(token.encode()).hexdigest(), number

    async def get(self, kind: str, token: str, number: int, read: Callable[[], Awaitable[T]]) -> T:
        key = self._key(kind, token, number)
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = await read()
        if len(self._entries) >= self.size:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.size:
                self._entries.clear()
        self._entries[key] = (now + self.ttl, value)
        return value


# By the identity of each app's GitHub access (a dataclass: not hashable), forgotten
# with it.
_recent: dict[int, tuple[weakref.ref[Any], SeenRecently]] = {}


def seen_recently(github: GitHubAccess) -> SeenRecently:
    """The short memory of one app's GitHub access (each app has its own)."""
    found = _recent.get(id(github))
    if found is not None and found[0]() is github:
        return found[1]
    memory = SeenRecently()
    key = id(github)
    _recent[key] = (weakref.ref(github, lambda _ref: _recent.pop(key, None)), memory)
    return memory


async def recent_installation(
    github: GitHubAccess, token: str, installation_id: int
) -> InstallationView | None:
    return await seen_recently(github).get(
        "installation",
        token,
        installation_id,
        lambda: visible_installation(github, token, installation_id),
    )


async def recent_repositories(
    github: GitHubAccess, token: str, installation_id: int
) -> list[RepositoryView]:
    return await seen_recently(github).get(
        "repositories",
        token,
        installation_id,
        lambda: visible_repositories(github, token, installation_id),
    )


async def recent_installation_and_manages(
    github: GitHubAccess, token: str, installation_id: int, login: str
) -> tuple[InstallationView | None, bool]:
    """The installation as the person sees it (None: they cannot) and whether they manage
    it: the second question is asked only once GitHub listed the installation for them."""
    found = await recent_installation(github, token, installation_id)
    if found is None:
        return None, False
    return found, await recent_manages(github, token, found, login)


async def recent_manages(
    github: GitHubAccess, token: str, installation: InstallationView, login: str
) -> bool:
    return await seen_recently(github).get(
        "manages",
        token,
        installation.id,
        lambda: manages_installation(github, installation, login),
    )
