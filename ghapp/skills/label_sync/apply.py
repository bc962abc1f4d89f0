"""label-sync's requests to GitHub: read labels, apply a plan, set an issue's labels.

This module owns the I/O around the pure plan and swaps: it reads every page (a
repository may have hundreds of labels), turns each planned operation into its REST
request in the plan's order, and sets an issue's labels in one request. Label names go
into URL paths percent-encoded, because names such as `area/api` or `needs: review?`
are common and githubkit puts path parameters in as they are.

It also keeps `swap_memory`'s two memories as finished effects, so that a swap of names,
which cannot be told from its result by the names, is applied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from githubkit.exception import RequestFailed
from githubkit.utils import UNSET

from ghapp import Context
from ghapp.skills.label_sync.matching import find_rename_cycles
from ghapp.skills.label_sync.options import DeclaredLabel, LabelSyncOptions
from ghapp.skills.label_sync.plan import (
    Create,
    Delete,
    ExistingLabel,
    LabelOperation,
    LabelPlan,
    Merge,
    Rename,
    RenameCycle,
    Update,
    plan_label_changes,
)
from ghapp.skills.label_sync.swap_memory import (
    SwapWatch,
    arrangement_effect_key,
    swaps_synced_by,
    synced_effect_key,
)

__all__ = [
    "apply_plan",
    "plan_for",
    "read_issue_labels",
    "read_repo_labels",
    "set_issue_labels",
    "sync_labels",
]


def _in_path(name: str) -> str:
    return quote(name, safe="")


async def read_repo_labels(ctx: Context[Any]) -> list[ExistingLabel]:
    """Every label of the repository, all pages."""
    listing = ctx.paginate(ctx.github.rest.issues.async_list_labels_for_repo)
    return [
        ExistingLabel(label.name, label.color, label.description, label.id)
        async for label in listing
    ]


async def read_issue_labels(ctx: Context[Any], number: int) -> list[str]:
    """The labels an issue or pull request carries now (not the payload's snapshot)."""
    listing = ctx.paginate(ctx.github.rest.issues.async_list_labels_on_issue, issue_number=number)
    return [label.name async for label in listing]


async def set_issue_labels(ctx: Context[Any], number: int, labels: list[str]) -> None:
    """Replace the issue's labels in one request, so a swap is never half done."""
    repo = ctx.require_repo()
    await ctx.github.rest.issues.async_set_labels(
        repo.owner, repo.name, number, data={"labels": labels}
    )


async def swaps_due(
    ctx: Context[Any], existing: Sequence[ExistingLabel], declared: Sequence[DeclaredLabel]
) -> list[RenameCycle]:
    """The swaps in `declared` to apply now: never synced, and not over an arrangement of
    labels that a sync left (see `swap_memory`). Only a finished effect counts.
    """
    due: list[RenameCycle] = []
    for cycle in find_rename_cycles(existing, declared):
        if await ctx.happened(synced_effect_key(cycle.signature)):
            continue
        if await ctx.happened(arrangement_effect_key(cycle.arrangement(after=False))):
            continue
        due.append(cycle)
    return due


async def plan_for(ctx: Context[Any], options: LabelSyncOptions) -> LabelPlan:
    """The plan that makes the repository's labels match `options`, from its labels now."""
    existing = await read_repo_labels(ctx)
    return plan_label_changes(
        existing,
        options.labels,
        delete_undeclared=options.delete_undeclared,
        due_swaps=await swaps_due(ctx, existing, options.labels),
    )


async def sync_labels(
    ctx: Context[Any],
    declared: Sequence[DeclaredLabel],
    *,
    delete_undeclared: bool,
    apply: bool,
) -> LabelPlan:
    """Plan, log and (with `apply`) carry out a sync; one sync at a time per repository.

    Redelivered or repeated, a sync is harmless: the plan is computed from the labels as
    they are now, so a finished sync plans nothing the second time.
    """
    async with ctx.lock("sync"):
        existing = await read_repo_labels(ctx)
        due = await swaps_due(ctx, existing, declared)
        plan = plan_label_changes(
            existing, declared, delete_undeclared=delete_undeclared, due_swaps=due
        )
        ctx.log.info(
            "label plan: %d operation(s)%s\n%s",
            len(plan.operations),
            "" if apply else " (not applied)",
            plan.render_markdown(),
        )
        if apply:
            await apply_plan(ctx, plan, SwapWatch(existing, declared))
            if not ctx.dry_run:
                for signature in swaps_synced_by(plan, due, declared):
                    await _remember(ctx, synced_effect_key(signature))
    return plan


async def apply_plan(ctx: Context[Any], plan: LabelPlan, watch: SwapWatch | None = None) -> None:
    """Carry out the plan's operations in order (the order keeps every name free).

    With a `watch`, an arrangement of a swap's labels is remembered the moment a request
    brings it about, not at the end: if a later request fails and the sync is retried,
    the retry must not swap the names back.
    """
    for op in plan.operations:
        created_id = await _apply_operation(ctx, op)
        if watch is not None and not ctx.dry_run:
            for arrangement in watch.follow(op, created_id):
                await _remember(ctx, arrangement_effect_key(arrangement))


async def _remember(ctx: Context[Any], key: str) -> None:
    """Record the effect `key` as finished (see `swap_memory` for what it means): the
    requests were already sent, so there is nothing left to do under it."""
    await ctx.once(key, _nothing_left)


async def _nothing_left(retrying: bool) -> None:
    return None


def _given(value: str | None) -> Any:
    """A body field, or githubkit's UNSET (left out of the request) where the plan keeps
    the label's current value."""
    return UNSET if value is None else value


async def _apply_operation(ctx: Context[Any], op: LabelOperation) -> int | None:
    """Send one operation; for a Create, the new label's id."""
    repo = ctx.require_repo()
    issues = ctx.github.rest.issues
    owner, name = repo.owner, repo.name
    match op:
        case Rename(old, new, color, description):
            await issues.async_update_label(
                owner,
                name,
                _in_path(old),
                new_name=new,
                color=_given(color),
                description=_given(description),
            )
        case Merge(source, into):
            await _merge(ctx, source, into)
        case Update(label, color, description):
            await issues.async_update_label(
                owner, name, _in_path(label), color=_given(color), description=_given(description)
            )
        case Create(label, color, description):
            return await _create(ctx, label, color, description)
        case Delete(label):
            await _delete(ctx, label)
    return None


async def _merge(ctx: Context[Any], source: str, into: str) -> None:
    """Give every issue and pull request labelled `source` the label `into`, then delete
    `source`: nothing loses its label, whatever state it is in."""
    repo = ctx.require_repo()
    issues = ctx.github.rest.issues
    listing = ctx.paginate(issues.async_list_for_repo, labels=source, state="all")
    numbers = [issue.number async for issue in listing]
    for number in numbers:
        await issues.async_add_labels(repo.owner, repo.name, number, data={"labels": [into]})
    await _delete(ctx, source)


async def _create(
    ctx: Context[Any], label: str, color: str | None, description: str | None
) -> int | None:
    repo = ctx.require_repo()
    issues = ctx.github.rest.issues
    try:
        response = await issues.async_create_label(
            repo.owner, repo.name, name=label, color=_given(color), description=_given(description)
        )
    except RequestFailed as exc:
        if exc.response.status_code != 422:
            raise
        # Someone created it meanwhile (a person, or GitHub when it was put on an issue):
        # make it match instead.
        response = await issues.async_update_label(
            repo.owner,
            repo.name,
            _in_path(label),
            new_name=label,
            color=_given(color),
            description=_given(description),
        )
    # A dry run answers writes with an empty body: nothing was created.
    return None if ctx.dry_run else response.parsed_data.id


async def _delete(ctx: Context[Any], label: str) -> None:
    repo = ctx.require_repo()
    try:
        await ctx.github.rest.issues.async_delete_label(repo.owner, repo.name, _in_path(label))
    except RequestFailed as exc:
        if exc.response.status_code != 404:  # already gone is what we wanted
            raise
