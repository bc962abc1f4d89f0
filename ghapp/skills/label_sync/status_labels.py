"""Status labels set on GitHub: the swap itself, and the status that follows CI.

`set_status` is the one way a status label is set: the issue's labels read now (not the
payload's), the swap computed (`swaps.status_swap`), and set in one request. GitHub
creates a missing label in grey when it is set on an issue; a status label that `labels:`
does not declare is therefore created first, in the color its state usually has
(`swaps.STATUS_COLORS`), when the repository does not have it yet (looked up once per
label and repository; an existing label keeps its color).

`follow_checks` turns a pull request's status to `pr_checks_failed` when a check suite or
workflow run on its head commit fails, and back to the in-progress label once every check
run on that commit has passed (`ci_checks`).
"""

from __future__ import annotations

from urllib.parse import quote

from githubkit.exception import RequestFailed

from ghapp import Context
from ghapp.skills.label_sync.apply import read_issue_labels
from ghapp.skills.label_sync.ci_checks import all_checks_passed, ci_completion, passed_label
from ghapp.skills.label_sync.options import LabelSyncOptions
from ghapp.skills.label_sync.swaps import STATUS_COLORS, status_swap


async def set_status(
    ctx: Context[LabelSyncOptions],
    number: int,
    event: str,
    status: str,
    current: list[str] | None = None,
) -> bool:
    """Make `status` the issue's one status label; False when it already was. `current`:
    the issue's labels when the caller just read them."""
    options = ctx.options
    if current is None:
        current = await read_issue_labels(ctx, number)
    labels = status_swap(
        current,
        status,
        options.status_labels.all_labels(),
        options.exclusive_scopes,
        options.scope_separator,
    )
    if labels is None:
        return False
    undeclared = status.casefold() not in {d.name.casefold() for d in options.labels}
    if undeclared and status.casefold() not in {name.casefold() for name in current}:
        await _ensure_status_label(ctx, status, STATUS_COLORS.get(event))
    repo = ctx.require_repo()
    await ctx.github.rest.issues.async_set_labels(
        repo.owner, repo.name, number, data={"labels": labels}
    )
    return True


async def _ensure_status_label(
    ctx: Context[LabelSyncOptions], name: str, color: str | None
) -> None:
    """Create an undeclared status label in its state's color before GitHub creates it
    grey; looked up once per label and repository, so an existing label (whatever its
    color) is never touched."""
    if color is None:
        return
    repo = ctx.require_repo()
    issues = ctx.github.rest.issues

    async def create(retrying: bool) -> None:
        try:
            await issues.async_get_label(repo.owner, repo.name, quote(name, safe=""))
            return
        except RequestFailed as exc:
            if exc.response.status_code != 404:
                raise
        try:
            await issues.async_create_label(repo.owner, repo.name, name=name, color=color)
        except RequestFailed as exc:
            if exc.response.status_code != 422:  # 422: created meanwhile; it exists
                raise

    await ctx.once(f"status-label:{name.casefold()}", create)


async def follow_checks(ctx: Context[LabelSyncOptions]) -> None:
    """A check suite or workflow run on a pull request's head commit finished."""
    status_labels = ctx.options.status_labels
    failed = status_labels.pr_checks_failed
    completion = ci_completion(ctx.event, ctx.payload)
    if failed is None or completion is None:
        return
    repo = ctx.require_repo()
    for number in completion.pulls:
        pull = (await ctx.github.rest.pulls.async_get(repo.owner, repo.name, number)).json()
        head = (pull.get("head") or {}).get("sha")
        if pull.get("state") != "open" or head != completion.head_sha:
            ctx.log.info("pull request #%s moved on from %s", number, completion.head_sha)
            continue
        if completion.outcome == "failed":
            await set_status(ctx, number, "pr_checks_failed", failed)
            continue
        back = passed_label(status_labels, draft=bool(pull.get("draft")))
        current = await read_issue_labels(ctx, number)
        if back is None or failed.casefold() not in {name.casefold() for name in current}:
            continue  # a pass only undoes a failure
        if not await _head_checks_passed(ctx, completion.head_sha):
            continue
        await set_status(ctx, number, back[0], back[1], current)


async def _head_checks_passed(ctx: Context[LabelSyncOptions], sha: str) -> bool:
    """Whether every check run on `sha` (the latest of each name) completed and passed."""
    repo = ctx.require_repo()
    rest = ctx.github.rest
    listing = rest.paginate(
        rest.checks.async_list_for_ref,
        map_func=lambda response: response.json().get("check_runs") or [],
        owner=repo.owner,
        repo=repo.name,
        ref=sha,
        filter_="latest",
        per_page=100,
    )
    checks: list[tuple[str | None, str | None]] = []
    async for run in listing:
        checks.append((run.get("status"), run.get("conclusion")))
    return all_checks_passed(checks)
