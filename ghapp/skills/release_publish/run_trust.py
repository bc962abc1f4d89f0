"""Which workflow run may count as a release's build (PRODUCT.md §5.4): a pure decision.

The correlation id a build run carries is public: it is in the dispatch run's title for
anyone who can see the repository's Actions tab. A title is therefore never proof. A
pull request from a fork can name its run `… ghapp-build-<id>`, and if ghapp took that
run's word, the fork's artifacts would be attached to the release and the draft
published (or, with a failing run, the build marked failed).

Only a run that the dispatch itself started counts, and every fact checked here comes
from GitHub's signed `workflow_run` payload, not from anything the workflow controls:

- `event` is `repository_dispatch` (a pull request's, a push's or a schedule's run never
  counts, whatever its title);
- it ran in this repository: `workflow_run.repository` and `workflow_run.head_repository`
  are both the repository the delivery is about (a fork's run has the fork as its head
  repository);
- its actor is the App's own bot user (`<slug>[bot]`), which only the App's installation
  token can be; `triggering_actor` too when the payload has it (a re-run by a person
  is not the dispatch's run). GitHub user names cannot contain `[`, so no person can
  register that login;
- and its title carries the release's correlation id (`releases.correlation_in`).

`untrusted_reason` says why a run fails the first three; the handler logs it and ignores
the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DISPATCH_EVENT", "bot_login", "untrusted_reason"]

DISPATCH_EVENT = "repository_dispatch"


def bot_login(slug: str) -> str:
    """The login of an App's bot user, the actor of everything its token does."""
    return f"{slug}[bot]"


def _same_repository(run_repo: Any, repository: Mapping[str, Any]) -> bool:
    """Both name the same repository: by id where both have one, and by full name where
    both have one; at least one of the two must be comparable."""
    if not isinstance(run_repo, Mapping):
        return False
    compared = False
    run_id, repo_id = run_repo.get("id"), repository.get("id")
    if isinstance(run_id, int) and isinstance(repo_id, int):
        if run_id != repo_id:
            return False
        compared = True
    run_name, repo_name = run_repo.get("full_name"), repository.get("full_name")
    if isinstance(run_name, str) and isinstance(repo_name, str):
        if run_name.casefold() != repo_name.casefold():
            return False
        compared = True
    return compared


def _login(user: Any) -> str | None:
    login = user.get("login") if isinstance(user, Mapping) else None
    return login if isinstance(login, str) else None


def untrusted_reason(
    run: Mapping[str, Any], repository: Mapping[str, Any], app_slug: str
) -> str | None:
    """Why `run` (a `workflow_run` payload object) is not a build the dispatch started in
    `repository` (the delivery's `repository`), or None when it is."""
    event = run.get("event")
    if event != DISPATCH_EVENT:
        return f"it was started by {event!r}, not by {DISPATCH_EVENT}"
    for key in ("repository", "head_repository"):
        if not _same_repository(run.get(key), repository):
            name = _login_or_name(run.get(key))
            return f"its {key} is {name}, not {repository.get('full_name')}"
    expected = bot_login(app_slug).casefold()
    actors = [("actor", run.get("actor")), ("triggering_actor", run.get("triggering_actor"))]
    present = [(key, _login(user)) for key, user in actors if user is not None]
    if not present:
        return "the payload names no actor"
    for key, login in present:
        if login is None or login.casefold() != expected:
            return f"its {key} is {login!r}, not the App's bot {bot_login(app_slug)!r}"
    return None


def _login_or_name(repo: Any) -> str:
    name = repo.get("full_name") if isinstance(repo, Mapping) else None
    return repr(name) if isinstance(name, str) else "missing"
