"""Which milestone an event or a command is about: pure lookups, no I/O.

An event names its milestone in different places: the issue's or pull request's own
`milestone`, except for `demilestoned`, where that field is already empty and the
milestone the item left travels in the payload's top-level `milestone`. A command names a
milestone by title, which people type loosely, so an exact match is tried before a
case-insensitive one and an ambiguous title is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal


def milestone_number_in(payload: dict[str, Any], action: str | None) -> int | None:
    """The number of the milestone whose counts this delivery may have changed."""
    item = payload.get("issue") or payload.get("pull_request") or {}
    candidates: list[Any] = [payload.get("milestone")]
    if action != "demilestoned":
        # The item's own field is the truth; the top-level one (milestoned) agrees with it.
        candidates.insert(0, item.get("milestone"))
    for milestone in candidates:
        if isinstance(milestone, dict) and isinstance(milestone.get("number"), int):
            return milestone["number"]
    return None


@dataclass(frozen=True)
class MilestoneRef:
    """What a command needs to know of a milestone."""

    number: int
    title: str


@dataclass(frozen=True)
class Choice:
    """The outcome of looking a title up: one milestone, none, or several alike."""

    outcome: Literal["found", "unknown", "ambiguous"]
    milestone: MilestoneRef | None = None
    alike: tuple[MilestoneRef, ...] = ()


def choose_milestone(title: str, milestones: Sequence[MilestoneRef]) -> Choice:
    """The milestone titled `title`: exactly first, then ignoring case (and outer spaces)."""
    exact = [m for m in milestones if m.title == title]
    if len(exact) == 1:
        return Choice("found", exact[0])
    wanted = title.strip().casefold()
    loose = [m for m in milestones if m.title.strip().casefold() == wanted]
    if len(loose) == 1:
        return Choice("found", loose[0])
    if loose:
        return Choice("ambiguous", alike=tuple(loose))
    return Choice("unknown")
