"""The pure core of milestone-progress: render the progress block, splice it into a
milestone description, and decide whether the milestone should be closed or reopened.

Nothing here does I/O; the handler reads the milestone, calls these functions and writes
only when `needs_update` says so.

The block looks like this (markers included, `\\n` line endings unless the description
already uses `\\r\\n`)::

    <!-- ghapp:milestone-progress:start -->
    **Progress: 7/10 closed (70%)**

    `[██████████████░░░░░░]` 70% · due in 5 days, on track
    <!-- ghapp:milestone-progress:end -->

The bar sits in a code span so that GitHub renders it in a monospace font (cells line
up) and never reads `[…]` as a link. Both the percentage and the bar are floor-rounded:
a milestone with one open item never shows 100% or a full bar.

When the App closes a milestone itself, the block also carries a hidden mark
(`<!-- ghapp:milestone-progress:closed-by-app -->`) just before the end marker: the
milestone remembers who closed it, on GitHub, so any worker can tell later whether an
item reopening should reopen it. A person who reopens a milestone the App closed is
remembered the same way (`kept-open`), so the App does not close it again under them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

MARKER_START = "<!-- ghapp:milestone-progress:start -->"
MARKER_END = "<!-- ghapp:milestone-progress:end -->"

FILLED_CELL = "█"
EMPTY_CELL = "░"
SEPARATOR = " · "

AppMark = Literal["closed-by-app", "kept-open"]
APP_MARKS: tuple[AppMark, ...] = ("closed-by-app", "kept-open")


@dataclass(frozen=True)
class MilestoneCounts:
    """What GitHub reports about a milestone that the block depends on.

    `due_on` is GitHub's `due_on` timestamp; `state` is `"open"` or `"closed"`.
    """

    open: int
    closed: int
    due_on: datetime | None
    state: str
    created_at: datetime | None = None  # the start of the schedule "on track" measures

    @classmethod
    def of(cls, milestone: Any) -> MilestoneCounts:
        """The counts of a milestone as GitHub returns it (githubkit's `Milestone`)."""
        return cls(
            open=milestone.open_issues,
            closed=milestone.closed_issues,
            due_on=milestone.due_on,
            state=milestone.state,
            created_at=milestone.created_at,
        )

    @property
    def total(self) -> int:
        return self.open + self.closed

    @property
    def complete(self) -> bool:
        """All items closed, with at least one item: an empty milestone is not done."""
        return self.total > 0 and self.open == 0


def percent_closed(counts: MilestoneCounts) -> int:
    """Closed share in whole percent, floored; 0 for an empty milestone."""
    if counts.total == 0:
        return 0
    return counts.closed * 100 // counts.total


def render_bar(counts: MilestoneCounts, width: int) -> str:
    """A `[███░░]` bar of `width` cells, filled cells floored like the percentage."""
    filled = 0 if counts.total == 0 else counts.closed * width // counts.total
    return "[" + FILLED_CELL * filled + EMPTY_CELL * (width - filled) + "]"


def due_status(counts: MilestoneCounts, *, today: date) -> str:
    """The due-date wording of the block.

    "complete" wins over any date (finished late is still finished); a milestone closed
    by hand before completion says "closed" rather than counting days nobody tracks. The
    due day is GitHub's `due_on` taken in UTC, which is how GitHub stores the date picked
    in its milestone form.
    """
    if counts.complete:
        return "complete"
    if counts.state == "closed":
        return "closed"
    if counts.due_on is None:
        return "no due date"
    due = _utc_date(counts.due_on)
    days = (due - today).days
    if days < 0:
        return f"overdue by {-days} {_days(-days)}"
    when = "due today" if days == 0 else f"due in {days} {_days(days)}"
    pace = schedule(counts, today=today)
    return when if pace is None else f"{when}, {pace}"


def schedule(counts: MilestoneCounts, *, today: date) -> str | None:
    """The pace of an open milestone not yet overdue: "on track" while its closed share
    is at least the share of days gone from its creation to its due day, else "behind
    schedule". None when there is nothing to measure (no dates, no items, no days between).
    """
    if counts.due_on is None or counts.created_at is None or counts.total == 0:
        return None
    start, due = _utc_date(counts.created_at), _utc_date(counts.due_on)
    span = (due - start).days
    if span <= 0 or today > due:
        return None
    gone = min(max((today - start).days, 0), span)
    # closed / total >= gone / span, in integers (no rounding at the boundary).
    return "on track" if counts.closed * span >= gone * counts.total else "behind schedule"


def render_progress(
    counts: MilestoneCounts, *, today: date, bar_width: int = 20, mark: AppMark | None = None
) -> str:
    """The whole progress block, start and end markers included, `\\n` line endings."""
    pct = percent_closed(counts)
    lines = [
        MARKER_START,
        f"**Progress: {counts.closed}/{counts.total} closed ({pct}%)**",
        "",
        f"`{render_bar(counts, bar_width)}` {pct}%{SEPARATOR}{due_status(counts, today=today)}",
        MARKER_END,
    ]
    if mark is not None:
        lines.insert(-1, _mark_comment(mark))
    return "\n".join(lines)


def find_block(description: str) -> tuple[int, int] | None:
    """Span `(start, end)` of the first well-formed block in `description`, or None.

    A block is an end marker and the nearest start marker before it (and after any
    earlier end marker). Taking the *nearest* start means a stray start marker left
    without its end (a hand edit gone wrong) is never paired with a later block's end,
    so the text after the stray marker is never swallowed.
    """
    floor = 0
    while True:
        end = description.find(MARKER_END, floor)
        if end == -1:
            return None
        start = description.rfind(MARKER_START, floor, end)
        if start != -1:
            return start, end + len(MARKER_END)
        floor = end + len(MARKER_END)


def apply_progress(description: str | None, block: str) -> str:
    """Put `block` into `description`, keeping everything outside the markers byte for byte.

    - A well-formed block present: the first one is replaced; any later ones are left
      alone (they are the user's text now, and deleting text is not ours to do).
    - No block (including a start marker without an end): the block is appended after a
      blank line and the broken text is left untouched; the next run finds the appended
      block because blocks pair each end with the nearest start before it.
    - A description using `\\r\\n` (as GitHub's web form saves it) gets the block with
      `\\r\\n` too, so a description edited in the browser does not look changed forever.
    """
    text = description or ""
    newline = "\r\n" if "\r\n" in text else "\n"
    block = block.replace("\r\n", "\n").replace("\n", newline)
    span = find_block(text)
    if span is not None:
        start, end = span
        return text[:start] + block + text[end:]
    if not text:
        return block
    return text + _blank_line_after(text, newline) + block


def app_mark(description: str | None) -> AppMark | None:
    """The mark the App left inside the block (see the module docstring), if any.

    Only the block counts: the same comment pasted in the user's own text means nothing.
    """
    text = description or ""
    span = find_block(text)
    if span is None:
        return None
    inside = text[span[0] : span[1]]
    return next((mark for mark in APP_MARKS if _mark_comment(mark) in inside), None)


def needs_update(old_description: str | None, new_description: str) -> bool:
    """Whether writing `new_description` would change anything (None reads as empty)."""
    return (old_description or "") != new_description


def desired_state(
    counts: MilestoneCounts, *, close_when_complete: bool, closed_by_app: bool
) -> Literal["open", "closed"] | None:
    """The state to move the milestone to, or None to leave it as it is.

    Only with `close_when_complete`: an open milestone whose items are all closed (at
    least one) is closed; a closed milestone with an open item again is reopened only if
    the App closed it, because a person who closed it by hand had their reasons.
    """
    if not close_when_complete:
        return None
    if counts.state == "open" and counts.complete:
        return "closed"
    if counts.state == "closed" and counts.open > 0 and closed_by_app:
        return "open"
    return None


@dataclass(frozen=True)
class MilestoneUpdate:
    """What to send in one PATCH: a new description and/or a new state (None: unchanged)."""

    description: str | None = None
    state: Literal["open", "closed"] | None = None

    @property
    def empty(self) -> bool:
        return self.description is None and self.state is None


def plan_update(
    description: str | None,
    counts: MilestoneCounts,
    *,
    today: date,
    bar_width: int = 20,
    close_when_complete: bool = False,
) -> MilestoneUpdate:
    """The whole decision of one refresh: the block for these counts, and the state.

    The block is rendered for the state the milestone is about to have, so closing at
    100% and reopening never need a second write. A complete milestone that a person
    reopened after the App closed it stays open (`kept-open`) until it is incomplete again;
    closing it once more would fight them.
    """
    mark = app_mark(description)
    target = desired_state(
        counts, close_when_complete=close_when_complete, closed_by_app=mark == "closed-by-app"
    )
    if target == "closed" and mark is not None:
        target = None
    state = target or counts.state
    new_mark: AppMark | None = None
    if state == "closed" and (target == "closed" or mark == "closed-by-app"):
        new_mark = "closed-by-app"
    elif state == "open" and mark is not None and counts.complete and close_when_complete:
        new_mark = "kept-open"
    after = replace(counts, state=state)
    block = render_progress(after, today=today, bar_width=bar_width, mark=new_mark)
    new_description = apply_progress(description, block)
    return MilestoneUpdate(
        description=new_description if needs_update(description, new_description) else None,
        state=target,
    )


def _mark_comment(mark: AppMark) -> str:
    return f"<!-- ghapp:milestone-progress:{mark} -->"


def _utc_date(moment: datetime) -> date:
    # A naive timestamp is taken as UTC already, as GitHub's API always speaks UTC.
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()


def _days(n: int) -> str:
    return "day" if n == 1 else "days"


def _blank_line_after(text: str, newline: str) -> str:
    """What to add after `text` so that one blank line separates it from the block."""
    if text.endswith(newline * 2):
        return ""
    if text.endswith(newline):
        return newline
    return newline * 2
