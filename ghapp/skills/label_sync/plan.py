"""The label plan: which requests turn a repository's labels into the declared ones.

This module owns the decision, not the requests: `plan_label_changes` compares the labels
a repository has with the declared ones and returns an ordered `LabelPlan` that the
label-sync handler applies one operation at a time (or shows, for `--dry-run` and for the
check run on a pull request that changes `.github/ghapp.yml`).

The plan makes as few destructive changes as it can. An existing label that matches a
declared one is kept and changed in place (a PATCH, so its issues keep it); only a
duplicate match is merged (its issues relabelled, then deleted), and only with
`delete_undeclared` is a label nobody declared deleted.

Matching ignores case, like GitHub's label names. An existing label listed as an alias
belongs to that declared label even when it also carries another declared label's
name: "`b` is the old name of `c`" is what makes a rename chain (`b` → `c`, `a` → `b`)
or a swap possible. Operations are ordered so that no request ever asks for a name still
held by another label; a cycle of renames goes through a temporary name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ghapp import code_span as _code
from ghapp.skills.label_sync.options import MAX_NAME_LENGTH, DeclaredLabel, normalise_color

__all__ = [
    "TEMPORARY_PREFIX",
    "Create",
    "Delete",
    "ExistingLabel",
    "LabelOperation",
    "LabelPlan",
    "Merge",
    "Rename",
    "Update",
    "plan_label_changes",
]

TEMPORARY_PREFIX = "ghapp-tmp-"

# How many kept-but-undeclared labels the rendered plan names before summarising.
_KEPT_SHOWN = 30


@dataclass(frozen=True, slots=True)
class ExistingLabel:
    """A label as the repository has it now (GitHub returns `description` as null)."""

    name: str
    color: str
    description: str | None = ""


@dataclass(frozen=True, slots=True)
class Rename:
    """PATCH the label `old` with `new_name=new`; its issues keep it."""

    old: str
    new: str
    color: str
    description: str
    # True for the first step of a swap: `old` moves aside under a temporary name.
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class Merge:
    """Add `into` to every issue and pull request labelled `source`, then delete `source`."""

    source: str
    into: str


@dataclass(frozen=True, slots=True)
class Update:
    """PATCH the color and description of `name`; the old values are kept for the plan."""

    name: str
    color: str
    description: str
    old_color: str | None = None
    old_description: str | None = None


@dataclass(frozen=True, slots=True)
class Create:
    """POST a new label."""

    name: str
    color: str
    description: str


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
        if self.conflicts:
            lines.append("")
            lines.append("**Not applied, because it would clobber another label:**")
            lines.extend(f"- {conflict}" for conflict in self.conflicts)
        if self.undeclared_kept:
            shown = ", ".join(_code(name) for name in self.undeclared_kept[:_KEPT_SHOWN])
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


def _describe(op: LabelOperation) -> str:
    match op:
        case Create(name, color, description):
            return f"Create {_code(name)} (color `#{color}`{_described(description)})"
        case Rename(old, new, _, _, temporary=True):
            return f"Rename {_code(old)} → {_code(new)} (a temporary name, so names can swap)"
        case Rename(old, new):
            return f"Rename {_code(old)} → {_code(new)} (its issues keep it)"
        case Update(name, color, description, old_color, old_description):
            changes = []
            if old_color is None or normalise_color(old_color) != color:
                changes.append(f"color `#{color}`")
            if old_description is None or old_description != description:
                changes.append(f"description “{description}”" if description else "no description")
            return f"Update {_code(name)}: {', '.join(changes)}"
        case Merge(source, into):
            return (
                f"**Merge** {_code(source)} into {_code(into)} "
                f"(its issues get {_code(into)}, then {_code(source)} is deleted)"
            )
        case Delete(name):
            return f"**Delete** {_code(name)}"


def _described(description: str) -> str:
    return f", description “{description}”" if description else ""


# --- planning -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Step:
    """One pending operation while the plan is ordered; `label` is a label id."""

    kind: Literal["rename", "create", "merge"]
    label: int
    declared: int


@dataclass(slots=True)
class _Planner:
    """Simulates the repository's names while operations are put in a safe order.

    Label ids: existing labels are their index in `existing`; a label created for
    declared label `d` gets id `len(existing) + d`.
    """

    existing: Sequence[ExistingLabel]
    declared: Sequence[DeclaredLabel]
    delete_undeclared: bool
    claimed: dict[int, int] = field(default_factory=dict)  # existing id → declared index
    name_of: dict[int, str] = field(default_factory=dict)
    holder: dict[str, int] = field(default_factory=dict)
    ready: set[int] = field(default_factory=set)  # declared labels whose target is final
    moved_aside: set[int] = field(default_factory=set)
    to_delete: list[int] = field(default_factory=list)
    operations: list[LabelOperation] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def plan(self) -> LabelPlan:
        for index, label in enumerate(self.existing):
            self.name_of[index] = label.name
            # GitHub keeps names unique regardless of case, so the first holder is the only one.
            self.holder.setdefault(label.name.casefold(), index)

        self.claimed = self._claims()
        steps: list[_Step] = []
        for d, declared in enumerate(self.declared):
            steps.extend(self._steps_for(d, declared))

        undeclared = sorted(
            (index for index in range(len(self.existing)) if index not in self.claimed),
            key=lambda index: (self.existing[index].name.casefold(), index),
        )
        kept: tuple[str, ...] = ()
        if self.delete_undeclared:
            self.to_delete = undeclared
        else:
            kept = tuple(self.existing[index].name for index in undeclared)

        self._order(steps)
        # Deletions come last: if a sync stops half way, nothing was lost before the
        # labels that replace them exist.
        for index in self.to_delete:
            self.operations.append(Delete(self.name_of[index]))
        return LabelPlan(tuple(self.operations), tuple(self.conflicts), kept)

    def _claims(self) -> dict[int, int]:
        """Which declared label each existing label belongs to (existing id → declared)."""
        claimed: dict[int, int] = {}
        # Aliases first: listing a current name as an old name is an explicit request to
        # move that label, which is what rename chains and swaps are made of.
        for d, declared in enumerate(self.declared):
            for alias in declared.aliases:
                index = self.holder.get(alias.casefold())
                if index is not None:
                    claimed.setdefault(index, d)
        for d, declared in enumerate(self.declared):
            index = self.holder.get(declared.name.casefold())
            if index is not None:
                claimed.setdefault(index, d)
        return claimed

    def _steps_for(self, d: int, declared: DeclaredLabel) -> list[_Step]:
        claimed = self.claimed
        exact = self.holder.get(declared.name.casefold())
        if exact is not None and claimed.get(exact) != d:
            exact = None
        by_alias: list[int] = []
        for alias in declared.aliases:
            index = self.holder.get(alias.casefold())
            if index is not None and claimed.get(index) == d and index not in by_alias:
                by_alias.append(index)

        # The exact name wins, else the first alias in declared order; never delete the target.
        target = exact if exact is not None else (by_alias[0] if by_alias else None)
        merges = [_Step("merge", index, d) for index in by_alias if index != target]
        color = normalise_color(declared.color)
        if target is None:
            return [_Step("create", len(self.existing) + d, d), *merges]
        current = self.existing[target]
        if current.name != declared.name:
            return [_Step("rename", target, d), *merges]
        old_description = current.description or ""
        old_color = normalise_color(current.color)
        if old_color != color or old_description != declared.description:
            self.operations.append(
                Update(declared.name, color, declared.description, old_color, old_description)
            )
        self.ready.add(d)
        return merges

    def _order(self, steps: list[_Step]) -> None:
        pending = steps
        while pending:
            progressed = False
            remaining: list[_Step] = []
            for step in pending:
                if self._is_ready(step):
                    self._apply(step)
                    progressed = True
                else:
                    remaining.append(step)
            pending = remaining
            if pending and not progressed:
                pending = self._unblock(pending)

    def _is_ready(self, step: _Step) -> bool:
        if step.kind == "merge":
            return step.declared in self.ready
        holder = self.holder.get(self.declared[step.declared].name.casefold())
        return holder is None or holder == step.label

    def _apply(self, step: _Step) -> None:
        declared = self.declared[step.declared]
        color = normalise_color(declared.color)
        if step.kind == "merge":
            self.operations.append(Merge(self.name_of[step.label], declared.name))
            self._forget(step.label)
            return
        if step.kind == "create":
            self.operations.append(Create(declared.name, color, declared.description))
        else:
            self.operations.append(
                Rename(self.name_of[step.label], declared.name, color, declared.description)
            )
            self._forget(step.label)
        self.name_of[step.label] = declared.name
        self.holder[declared.name.casefold()] = step.label
        self.ready.add(step.declared)

    def _forget(self, label: int) -> None:
        key = self.name_of[label].casefold()
        if self.holder.get(key) == label:
            del self.holder[key]

    def _unblock(self, pending: list[_Step]) -> list[_Step]:
        """Free one blocked name, or give up on one step and say why. Always progresses."""
        moving = {step.label for step in pending if step.kind != "create"}
        wanting = [step for step in pending if step.kind != "merge"]
        for step in wanting:
            if self._free_name_for(step, moving):
                return pending
        if not wanting:
            # Only merges are left, and their target was never made: nothing to merge into.
            for step in pending:
                into = self.declared[step.declared].name
                self.conflicts.append(
                    f"{_code(self.name_of[step.label])} was not merged into {_code(into)}, "
                    f"because {_code(into)} could not be created or renamed."
                )
            return []
        dropped = wanting[0]
        self.conflicts.append(self._conflict_message(dropped))
        return [step for step in pending if step is not dropped]

    def _free_name_for(self, step: _Step, moving: set[int]) -> bool:
        blocker = self.holder[self.declared[step.declared].name.casefold()]
        if blocker in self.to_delete:
            self._delete_now(blocker)
            return True
        if blocker not in moving or blocker in self.moved_aside:
            return False
        # The blocker will move anyway (a rename cycle or a merge that waits for this
        # name): park it under a temporary name, which needs a free name of its own.
        temporary = self._temporary_name(blocker)
        key = temporary.casefold()
        if any(key == declared.name.casefold() for declared in self.declared):
            return False
        holder = self.holder.get(key)
        if holder is not None:
            if holder not in self.to_delete:
                return False
            self._delete_now(holder)
        current = self.existing[blocker]  # only existing labels move; created ones are final
        self.operations.append(
            Rename(
                self.name_of[blocker],
                temporary,
                normalise_color(current.color),
                current.description or "",
                temporary=True,
            )
        )
        self._forget(blocker)
        self.name_of[blocker] = temporary
        self.holder[key] = blocker
        self.moved_aside.add(blocker)
        return True

    def _temporary_name(self, label: int) -> str:
        return (TEMPORARY_PREFIX + self.name_of[label])[:MAX_NAME_LENGTH]

    def _delete_now(self, label: int) -> None:
        # An undeclared label slated for deletion holds a name we need: delete it earlier.
        self.to_delete.remove(label)
        self.operations.append(Delete(self.name_of[label]))
        self._forget(label)

    def _conflict_message(self, step: _Step) -> str:
        name = self.declared[step.declared].name
        blocker = self.holder[name.casefold()]
        held_by = _code(self.name_of[blocker])
        what = (
            f"{_code(name)} was not created"
            if step.kind == "create"
            else f"{_code(self.name_of[step.label])} was not renamed to {_code(name)}"
        )
        if blocker < len(self.existing) and blocker not in self.moved_aside:
            if blocker not in self.claimed:
                return (
                    f"{what}: {held_by} holds that name and is not declared. Declare it "
                    "(or list it as an alias), rename it, or set `delete_undeclared: true`."
                )
            temporary = _code(self._temporary_name(blocker))
            return (
                f"{what}: {held_by} holds that name and could not be moved aside, because "
                f"its temporary name {temporary} is taken. Rename or delete {temporary}."
            )
        return f"{what}: {held_by} holds that name."


def plan_label_changes(
    existing: Sequence[ExistingLabel],
    declared: Sequence[DeclaredLabel],
    *,
    delete_undeclared: bool,
) -> LabelPlan:
    """Plan the changes that make `existing` match `declared`, in a safe order.

    Deterministic: the same inputs give the same plan. Steps follow the declared order
    (updates, renames, creates, and merges once their target exists), a cycle of renames
    is broken with a temporary name, and deletions of undeclared labels come last, by name.
    """
    return _Planner(existing, declared, delete_undeclared).plan()
