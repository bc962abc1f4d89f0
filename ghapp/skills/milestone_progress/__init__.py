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

Once a day (`scheduled`), each open milestone with a due date is refreshed, so "due in 3
days" and "overdue by 2 days" stay true between events; only changed text is written.

Where it is written: `options`, the pure decisions `progress` (the block, the next
state) and `targets` (which milestone an event or a title means), and `handlers`.
"""

from __future__ import annotations

from ghapp import Skill
from ghapp.skills.milestone_progress import handlers, scheduled
from ghapp.skills.milestone_progress.options import MilestoneOptions

__all__ = ["skill"]

skill = Skill(
    "milestone-progress",
    "Writes each milestone's progress (closed/total, a bar, due date) into its description.",
    permissions={"issues": "write", "pull_requests": "write"},
    options=MilestoneOptions,
)

skill.command(
    "milestone",
    usage="milestone TITLE | milestone clear",
    description="Puts this issue or pull request in the open milestone TITLE, or out of any.",
    example="@slug milestone v1.2",
    permission="triage",
)(handlers.milestone_command)

# Events that may change a milestone's counts each only schedule a refresh.
skill.on(
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
)(handlers.item_changed)
skill.on("milestone.created", "milestone.edited", "milestone.opened", "milestone.closed")(
    handlers.milestone_changed
)
skill.task(handlers.REFRESH)(handlers.refresh)

# Daily, so the due-date status stays true between events.
skill.periodic(scheduled.DAILY, every=scheduled.EVERY, per="repository")(
    scheduled.refresh_due_dates
)
