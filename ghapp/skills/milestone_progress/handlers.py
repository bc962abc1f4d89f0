"""milestone-progress's handlers: the `milestone` command, the events that schedule a
refresh, and the refresh itself (the one read and the one write around
`progress.plan_update`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from githubkit.exception import RequestFailed
from githubkit.utils import UNSET

from ghapp import Context, code_span
from ghapp.skills.milestone_progress.options import MilestoneOptions
from ghapp.skills.milestone_progress.progress import MilestoneCounts, plan_update
from ghapp.skills.milestone_progress.targets import (
    MilestoneRef,
    choose_milestone,
    milestone_number_in,
)

REFRESH = "refresh"
CLEAR = "clear"

SET_REPLY = "Milestone set to **{title}**."
ALREADY_REPLY = "Already in milestone **{title}**."
CLEARED_REPLY = "Milestone cleared."
NOTHING_TO_CLEAR_REPLY = "No milestone to clear."
USAGE_REPLY = "Usage: `milestone TITLE` or `milestone clear`."
NOT_AN_ISSUE_REPLY = "Milestones belong to issues and pull requests; there is none here."
UNKNOWN_REPLY = "No open milestone is titled {title}. Open milestones: {choices}."
NO_MILESTONES_REPLY = "No open milestone is titled {title}, and this repository has none open."
AMBIGUOUS_REPLY = "Several open milestones match {title}: {choices}. Use the exact title."


# -- commands ----------------------------------------------------------------------------


async def milestone_command(ctx: Context[MilestoneOptions], args: tuple[str, ...]) -> str:
    repo = ctx.require_repo()
    number = ctx.issue_number
    title = " ".join(args).strip()
    if not title:
        return USAGE_REPLY
    if number is None:
        return NOT_AN_ISSUE_REPLY
    current = ((ctx.issue or {}).get("milestone") or {}).get("title")
    if title.casefold() == CLEAR:
        if current is None:
            return NOTHING_TO_CLEAR_REPLY
        await ctx.github.rest.issues.async_update(
            repo.owner, repo.name, number, data={"milestone": None}
        )
        return CLEARED_REPLY
    milestones = await _open_milestones(ctx)
    choice = choose_milestone(title, milestones)
    if choice.milestone is None:
        if not milestones:
            return NO_MILESTONES_REPLY.format(title=code_span(title))
        listed = choice.alike if choice.outcome == "ambiguous" else tuple(milestones)
        template = AMBIGUOUS_REPLY if choice.outcome == "ambiguous" else UNKNOWN_REPLY
        return template.format(
            title=code_span(title), choices=", ".join(code_span(m.title) for m in listed)
        )
    if current == choice.milestone.title:
        return ALREADY_REPLY.format(title=current)
    await ctx.github.rest.issues.async_update(
        repo.owner, repo.name, number, data={"milestone": choice.milestone.number}
    )
    return SET_REPLY.format(title=choice.milestone.title)


async def _open_milestones(ctx: Context[MilestoneOptions]) -> list[MilestoneRef]:
    listing = ctx.paginate(ctx.github.rest.issues.async_list_milestones, state="open")
    return [MilestoneRef(milestone.number, milestone.title) async for milestone in listing]


# -- events: each one only schedules a refresh ------------------------------------------


async def item_changed(ctx: Context[MilestoneOptions]) -> None:
    number = milestone_number_in(ctx.payload, ctx.action)
    if number is not None:
        await _schedule_refresh(ctx, number)


async def milestone_changed(ctx: Context[MilestoneOptions]) -> None:
    # The App's own writes come back as milestone events; refreshing on them would loop.
    if _sent_by_this_app(ctx):
        return
    number = milestone_number_in(ctx.payload, ctx.action)
    if number is not None:
        await _schedule_refresh(ctx, number)


def _sent_by_this_app(ctx: Context[MilestoneOptions]) -> bool:
    login = str(ctx.sender.get("login", "")).casefold()
    return login == f"{ctx.app.slug}[bot]".casefold()


async def _schedule_refresh(ctx: Context[MilestoneOptions], number: int) -> None:
    repo = ctx.require_repo()
    options = ctx.options
    await ctx.defer(
        REFRESH,
        {"number": number, "delivery_id": ctx.delivery_id},
        key=f"{repo.full_name}#{number}",
        delay=options.coalesce_seconds,
    )


# -- the deferred refresh ---------------------------------------------------------------


async def refresh(ctx: Context[MilestoneOptions]) -> None:
    repo = ctx.require_repo()
    number = int(ctx.args["number"])
    options = ctx.options
    # One refresh of a milestone at a time across workers: each is a read-modify-write.
    async with ctx.lock(f"milestone:{number}"):
        try:
            response = await ctx.github.rest.issues.async_get_milestone(
                repo.owner, repo.name, number
            )
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                ctx.log.info("milestone %s is gone; nothing to refresh", number)
                return
            raise
        milestone = response.parsed_data
        counts = MilestoneCounts.of(milestone)
        update = plan_update(
            milestone.description,
            counts,
            today=datetime.now(UTC).date(),
            bar_width=options.bar_width,
            close_when_complete=options.close_when_complete,
        )
        if update.empty:
            return
        # Fields left UNSET stay out of the body: the PATCH changes only what was decided.
        await ctx.github.rest.issues.async_update_milestone(
            repo.owner,
            repo.name,
            number,
            description=UNSET if update.description is None else update.description,
            state=UNSET if update.state is None else update.state,
        )
