"""Options of the milestone-progress skill, read from the `milestone-progress:` section of
`.github/ghapp.yml`.

The repository-config loader turns `-` into `_` in keys before validation, so
`close-when-complete: true` and `close_when_complete: true` both land here. Unknown keys
are rejected so that a typo is reported to its author instead of silently ignored.
"""

from __future__ import annotations

from pydantic import Field

from ghapp import CommandPermission, SkillOptions


class MilestoneOptions(SkillOptions):
    """What a repository may tune about the milestone progress block."""

    close_when_complete: bool = False
    """Close the milestone at 100% and reopen it (only if the App closed it) on a reopen."""

    coalesce_seconds: float = Field(default=10.0, gt=0, le=300)
    """Window in which a burst of events for one milestone collapses into one update.

    Bounded above so a misconfiguration cannot hide progress for more than five minutes.
    """

    bar_width: int = Field(default=20, ge=5, le=50)
    """Number of cells in the text bar; below 5 the bar says nothing, above 50 it wraps."""

    command_permission: CommandPermission = "triage"
    """Least repository permission needed for `@slug milestone …`; setting a milestone
    is a triage-level action on GitHub itself."""
