"""Installation events name several repositories (`installation.created`,
`installation_repositories.added`): `for_each_added_repository` runs a skill's work once
per repository where the skill is on, so that one repository failing does not stop the
others and a GitHub outage retries the whole delivery (the work must be idempotent)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ghapp.context import Context
from ghapp.failures import is_transient


class RepositoriesFailed(Exception):
    """Some repositories of an installation event failed; the others were done."""


async def for_each_added_repository(
    ctx: Context[Any],
    act: Callable[[Context[Any]], Awaitable[object]],
    *,
    what: str,
    failed: type[RepositoriesFailed] = RepositoriesFailed,
) -> None:
    """Call `act` with the event seen from each added repository (None from `for_repo`,
    the skill switched off there, skips it). A transient failure is raised at once;
    others are logged as "`what` failed" and raised together as `failed` at the end."""
    key = "repositories" if ctx.event == "installation" else "repositories_added"
    entries = ctx.payload.get(key) or []
    names = [e["full_name"] for e in entries if isinstance(e, dict) and e.get("full_name")]
    failures: list[str] = []
    for full_name in names:
        repo_ctx = await ctx.for_repo(full_name)
        if repo_ctx is None:
            continue
        try:
            await act(repo_ctx)
        except Exception as exc:
            if is_transient(exc):
                raise
            repo_ctx.log.exception("%s failed", what)
            failures.append(f"{full_name}: {type(exc).__name__}: {exc}")
    if failures:
        raise failed("; ".join(failures))
