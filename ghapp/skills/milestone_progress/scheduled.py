"""milestone-progress's daily refresh: "due in 3 days", "overdue by 2 days" and "on
track" stay true between events.

Once a day per repository (ghapp's scheduler, once across all workers), the open
milestones are listed (one paginated read, which carries each milestone's counts and
description) and each one with a due date gets the block a refresh would write today.
A milestone whose text is already right costs nothing more; one whose text changed costs
one PATCH. Where `.github/ghapp.yml` has no `milestone-progress:` section, only the
milestones that already carry the block (written on an earlier event) are refreshed:
keeping true what the App wrote is not bulk work nobody asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from githubkit.utils import UNSET

from ghapp import Context
from ghapp.skills.milestone_progress.options import MilestoneOptions
from ghapp.skills.milestone_progress.progress import MilestoneCounts, find_block, plan_update

DAILY = "due-dates"
EVERY = timedelta(days=1)


async def refresh_due_dates(ctx: Context[MilestoneOptions]) -> None:
    repo = ctx.require_repo()
    options = ctx.options
    today = datetime.now(UTC).date()
    listing = ctx.paginate(ctx.github.rest.issues.async_list_milestones, state="open")
    written = 0
    async for milestone in listing:
        if milestone.due_on is None:
            continue
        if not ctx.configured and find_block(milestone.description or "") is None:
            continue
        counts = MilestoneCounts.of(milestone)
        update = plan_update(
            milestone.description,
            counts,
            today=today,
            bar_width=options.bar_width,
            close_when_complete=options.close_when_complete,
        )
        if update.empty:
            continue
        # Serialised with the event-driven refresh of the same milestone.
        async with ctx.lock(f"milestone:{milestone.number}"):
            await ctx.github.rest.issues.async_update_milestone(
                repo.owner,
                repo.name,
                milestone.number,
                description=UNSET if update.description is None else update.description,
                state=UNSET if update.state is None else update.state,
            )
        written += 1
    ctx.log.info("daily milestone refresh: %d milestone(s) updated", written)
