"""milestone-progress: live progress in each milestone's description.

Any event that may change a milestone's counts (an item closed, reopened, added, removed,
deleted, transferred; the milestone itself created, edited, opened or closed) only defers
a refresh of that milestone, keyed by repository and number: a burst of fifty events
inside the coalescing window ends in one read and one write. The refresh reads the
milestone (GitHub counts its open and closed items), lets `progress.plan_update` decide
the new description and state, and writes only when something changed. With
`close_when_complete`, the state change rides in the same write as the block.

Commands: `@slug milestone TITLE` puts the issue or pull request in a milestone,
`@slug milestone clear` takes it out. The milestone events those cause refresh the block.
"""

from __future__ import annotations

from datetime import UTC, datetime

from githubkit.exception import RequestFailed
from githubkit.utils import UNSET

from ghapp.context import Context
from ghapp.skill import Skill
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

skill = Skill(
    "milestone-progress",
    "Writes each milestone's progress (closed/total, a bar, due date) into its description.",
    permissions={"issues": "write", "pull_requests": "write"},
    options=MilestoneOptions,
)


# -- commands ----------------------------------------------------------------------------


@skill.command(
    "milestone",
    usage="milestone TITLE | milestone clear",
    description="Puts this issue or pull request in the open milestone TITLE, or out of any.",
    example="@slug milestone v1.2",
    permission="triage",
)
async def milestone_command(ctx: Context, args: tuple[str, ...]) -> str:
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
            return NO_MILESTONES_REPLY.format(title=_code(title))
        listed = choice.alike if choice.outcome == "ambiguous" else tuple(milestones)
        template = AMBIGUOUS_REPLY if choice.outcome == "ambiguous" else UNKNOWN_REPLY
        return template.format(
            title=_code(title), choices=", ".join(_code(m.title) for m in listed)
        )
    if current == choice.milestone.title:
        return ALREADY_REPLY.format(title=current)
    await ctx.github.rest.issues.async_update(
        repo.owner, repo.name, number, data={"milestone": choice.milestone.number}
    )
    return SET_REPLY.format(title=choice.milestone.title)


def _code(text: str) -> str:
    """`text` as a code span that survives backticks in it: echoed titles stay inert."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


async def _open_milestones(ctx: Context) -> list[MilestoneRef]:
    repo = ctx.require_repo()
    found: list[MilestoneRef] = []
    async for milestone in ctx.github.rest.paginate(
        ctx.github.rest.issues.async_list_milestones,
        owner=repo.owner,
        repo=repo.name,
        state="open",
        per_page=100,
    ):
        found.append(MilestoneRef(milestone.number, milestone.title))
    return found


# -- events: each one only schedules a refresh ------------------------------------------


@skill.on(
    "issues.closed",
    "issues.reopened",
    "issues.milestoned",
    "issues.demilestoned",
    "issues.deleted",
    "issues.transferred",
    "pull_request.closed",
    "pull_request.reopened",
    "pull_request.milestoned",
    "pull_request.demilestoned",
)
async def item_changed(ctx: Context) -> None:
    number = milestone_number_in(ctx.payload, ctx.action)
    if number is not None:
        await _schedule_refresh(ctx, number)


@skill.on("milestone.created", "milestone.edited", "milestone.opened", "milestone.closed")
async def milestone_changed(ctx: Context) -> None:
    # The App's own writes come back as milestone events; refreshing on them would loop.
    if _sent_by_this_app(ctx):
        return
    number = milestone_number_in(ctx.payload, ctx.action)
    if number is not None:
        await _schedule_refresh(ctx, number)


def _sent_by_this_app(ctx: Context) -> bool:
    login = str(ctx.sender.get("login", "")).casefold()
    return login == f"{ctx.app.slug}[bot]".casefold()


async def _schedule_refresh(ctx: Context, number: int) -> None:
    repo = ctx.require_repo()
    options: MilestoneOptions = ctx.options
    await ctx.defer(
        REFRESH,
        {"number": number, "delivery_id": ctx.delivery_id},
        key=f"{repo.full_name}#{number}",
        delay=options.coalesce_seconds,
    )


# -- the deferred refresh ---------------------------------------------------------------


@skill.task(REFRESH)
async def refresh(ctx: Context) -> None:
    repo = ctx.require_repo()
    number = int(ctx.args["number"])
    options: MilestoneOptions = ctx.options
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
        counts = MilestoneCounts(
            open=milestone.open_issues,
            closed=milestone.closed_issues,
            due_on=milestone.due_on,
            state=milestone.state,
            created_at=milestone.created_at,
        )
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
