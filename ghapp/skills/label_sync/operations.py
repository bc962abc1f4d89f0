"""The label plan's vocabulary: its operations, and the plan as people read it.

This module owns what a plan says (each operation one request, or one merge) and how it
reads in a `--dry-run` reply or a check run; `plan` decides which operations and in which
order, `apply` sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ghapp import code_span
from ghapp.skills.label_sync.matching import RenameCycle

__all__ = [
    "Create",
    "Delete",
    "LabelOperation",
    "LabelPlan",
    "Merge",
    "Rename",
    "Update",
    "describe_operation",
]

# How many kept-but-undeclared labels the rendered plan names before summarising.
_KEPT_SHOWN = 30


@dataclass(frozen=True, slots=True)
class Rename:
    """PATCH the label `old` with `new_name=new`; its issues keep it. A color or
    description of None is left as it is."""

    old: str
    new: str
    color: str | None = None
    description: str | None = None
    # True for the first step of a swap: `old` moves aside under a temporary name.
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class Merge:
    """Add `into` to every issue and pull request labelled `source`, then delete `source`."""

    source: str
    into: str


@dataclass(frozen=True, slots=True)
class Update:
    """PATCH the color and/or description of `name` (None: unchanged); the old values are
    kept for the plan's text."""

    name: str
    color: str | None = None
    description: str | None = None
    old_color: str | None = None
    old_description: str | None = None


@dataclass(frozen=True, slots=True)
class Create:
    """POST a new label (no color: GitHub picks one; no description: none)."""

    name: str
    color: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    """DELETE the label `name` (it comes off every issue that had it)."""

    name: str


LabelOperation = Rename | Merge | Update | Create | Delete


@dataclass(frozen=True, slots=True)
class LabelPlan:
    """Operations in the order they must be applied, and what could not be planned."""

    operations: tuple[LabelOperation, ...] = ()
    # Changes left out because applying them would clobber a label; written for people.
    conflicts: tuple[str, ...] = ()
    # Labels that nobody declared and that stay because `delete_undeclared` is off.
    undeclared_kept: tuple[str, ...] = ()
    # Swaps of names this plan applies in full.
    swaps: tuple[RenameCycle, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.operations

    @property
    def destructive_count(self) -> int:
        """How many operations take a label off issues (merges and deletions)."""
        return sum(isinstance(op, Merge | Delete) for op in self.operations)

    def render_markdown(self) -> str:
        """The plan for people: a `--dry-run` reply or a check run summary."""
        lines: list[str] = []
        if self.operations:
            lines.append(f"**Label plan:** {_summary(self.operations)}.")
            lines.append("")
            lines.extend(
                f"{number}. {_describe(op)}" for number, op in enumerate(self.operations, 1)
            )
        else:
            lines.append("Labels already match the declaration; nothing to change.")
        if self.swaps:
            lines.append("")
            lines.append("Swapped names are applied once: later syncs of the same file leave them.")
        if self.conflicts:
            lines.append("")
            lines.append("**Not applied, because it would clobber another label:**")
            lines.extend(f"- {conflict}" for conflict in self.conflicts)
        if self.undeclared_kept:
            shown = ", ".join(code_span(name) for name in self.undeclared_kept[:_KEPT_SHOWN])
            more = len(self.undeclared_kept) - _KEPT_SHOWN
            if more > 0:
                shown += f" and {more} more"
            lines.append("")
            lines.append(
                f"Kept {len(self.undeclared_kept)} label(s) not declared "
                f"(`delete_undeclared` is off): {shown}."
            )
        return "\n".join(lines) + "\n"


_KIND_WORDS: tuple[tuple[type, str], ...] = (
    (Create, "to create"),
    (Rename, "to rename"),
    (Update, "to update"),
    (Merge, "to merge"),
    (Delete, "to delete"),
)


def _summary(operations: Sequence[LabelOperation]) -> str:
    parts = []
    for kind, words in _KIND_WORDS:
        count = sum(isinstance(op, kind) for op in operations)
        if count:
            part = f"{count} {words}"
            parts.append(f"**{part}**" if kind in (Merge, Delete) else part)
    return ", ".join(parts)


def _changes(color: str | None, description: str | None) -> list[str]:
    changes = []
    if color is not None:
        changes.append(f"color `#{color}`")
    if description is not None:
        changes.append(f"description “{description}”" if description else "no description")
    return changes


def describe_operation(op: LabelOperation) -> str:
    """One operation in words, as the rendered plan lists it."""
    return _describe(op)


def _describe(op: LabelOperation) -> str:
    match op:
        case Create(name, color, description):
            what = [f"color `#{color}`" if color else "GitHub's default color"]
            if description:
                what.append(f"description “{description}”")
            return f"Create {code_span(name)} ({', '.join(what)})"
        case Rename(old, new, temporary=True):
            return (
                f"Rename {code_span(old)} → {code_span(new)} (a temporary name, so names can swap)"
            )
        case Rename(old, new, color, description):
            changes = "".join(f"; {change}" for change in _changes(color, description))
            return f"Rename {code_span(old)} → {code_span(new)} (its issues keep it){changes}"
        case Update(name, color, description):
            return f"Update {code_span(name)}: {', '.join(_changes(color, description))}"
        case Merge(source, into):
            return (
                f"**Merge** {code_span(source)} into {code_span(into)} "
                f"(its issues get {code_span(into)}, then {code_span(source)} is deleted)"
            )
        case Delete(name):
            return f"**Delete** {code_span(name)}"
