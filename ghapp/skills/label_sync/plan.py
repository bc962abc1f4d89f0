"""The label plan: which requests turn a repository's labels into the declared ones.

This module owns the order of the requests, not the matching (`matching` decides which
existing label becomes which declared one), the operations' text (`operations`, re-exported
here) nor the requests themselves (`apply`).
`plan_label_changes` returns an ordered `LabelPlan` that the label-sync handler applies
one operation at a time, or shows (`--dry-run`, and the check run on a pull request that
changes `.github/ghapp.yml`).

The plan makes as few destructive changes as it can: a matched label is changed in place
(a PATCH, so its issues keep it), only a second match is merged (its issues relabelled,
then deleted), and only `delete: true` or `delete_undeclared` deletes a label. A color
or description the declaration leaves out is left as it is. Plans settle: applying a
plan and planning again gives an empty plan, whatever the aliases (see `matching`).

Operations are ordered so that no request asks for a name another label still holds; a
swap goes through a temporary name. Deletions come last, so a sync that stops half way
has lost nothing the labels that replace it do not already carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ghapp import code_span
from ghapp.skills.label_sync.matching import (
    TEMPORARY_PREFIX,
    ExistingLabel,
    RenameCycle,
    chain_links,
    match_labels,
)
from ghapp.skills.label_sync.operations import (
    Create,
    Delete,
    LabelOperation,
    LabelPlan,
    Merge,
    Rename,
    Update,
)
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
    "RenameCycle",
    "Update",
    "changed_fields",
    "plan_label_changes",
]


def changed_fields(
    declared: DeclaredLabel, current: ExistingLabel
) -> tuple[str | None, str | None]:
    """The color and description to send for `current` to match `declared`: None where
    the declaration leaves it out or it already matches."""
    color = declared.color
    if color is not None and normalise_color(current.color) == color:
        color = None
    description = declared.description
    if description is not None and (current.description or "") == description:
        description = None
    return color, description


# --- ordering -----------------------------------------------------------------------------


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
    due: Sequence[RenameCycle]
    name_of: dict[int, str] = field(default_factory=dict)
    holder: dict[str, int] = field(default_factory=dict)
    ready: set[int] = field(default_factory=set)  # declared labels whose target is final
    moved_aside: set[int] = field(default_factory=set)
    # A name that is another declared label's old name is filled only once that label
    # exists: filled earlier, a sync stopped in between would look like an unapplied
    # chain link, and the next sync would move the label on.
    waits_for: dict[int, int] = field(default_factory=dict)
    released: set[int] = field(default_factory=set)
    matched: set[int] = field(default_factory=set)
    to_delete: list[int] = field(default_factory=list)
    operations: list[LabelOperation] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def plan(self) -> LabelPlan:
        for index, label in enumerate(self.existing):
            self.name_of[index] = label.name
            self.holder.setdefault(label.name.casefold(), index)

        matching = match_labels(self.existing, self.declared, self.due)
        self.waits_for = chain_links(self.declared)
        self.matched = set(matching.targets.values())
        steps: list[_Step] = []
        for d, declared in enumerate(self.declared):
            if not declared.delete:
                target = matching.targets.get(d)
                merges = matching.merged.get(d, [])
                steps.extend(self._steps_for(d, declared, target, merges))

        undeclared = matching.undeclared
        kept: tuple[str, ...] = ()
        if self.delete_undeclared:
            self.to_delete = [*matching.marked_for_deletion, *undeclared]
        else:
            self.to_delete = list(matching.marked_for_deletion)
            kept = tuple(sorted((self.existing[i].name for i in undeclared), key=str.casefold))
        self.to_delete.sort(key=lambda index: (self.existing[index].name.casefold(), index))

        self._order(steps)
        for index in self.to_delete:
            self.operations.append(Delete(self.name_of[index]))
        return LabelPlan(tuple(self.operations), tuple(self.conflicts), kept, self._swaps())

    def _steps_for(
        self, d: int, declared: DeclaredLabel, target: int | None, merges: list[int]
    ) -> list[_Step]:
        steps = [_Step("merge", index, d) for index in merges]
        if target is None:
            return [_Step("create", len(self.existing) + d, d), *steps]
        current = self.existing[target]
        if current.name != declared.name:
            return [_Step("rename", target, d), *steps]
        color, description = changed_fields(declared, current)
        if color is not None or description is not None:
            self.operations.append(
                Update(
                    declared.name,
                    color,
                    description,
                    normalise_color(current.color),
                    current.description or "",
                )
            )
        self.ready.add(d)
        return steps

    def _swaps(self) -> tuple[RenameCycle, ...]:
        """The due swaps whose every rename made it into the plan (a conflict can cut one)."""
        swaps: list[RenameCycle] = []
        for cycle in self.due:
            wanted = {new.casefold() for _, _, new in cycle.moves}
            renamed = {
                op.new.casefold()
                for op in self.operations
                if isinstance(op, Rename) and not op.temporary
            }
            if wanted <= renamed:
                swaps.append(cycle)
        return tuple(swaps)

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
        owner = self.waits_for.get(step.declared)
        if owner is not None and owner not in self.ready and step.declared not in self.released:
            return False
        return self._name_is_free(step)

    def _name_is_free(self, step: _Step) -> bool:
        holder = self.holder.get(self.declared[step.declared].name.casefold())
        return holder is None or holder == step.label

    def _apply(self, step: _Step) -> None:
        declared = self.declared[step.declared]
        if step.kind == "merge":
            self.operations.append(Merge(self.name_of[step.label], declared.name))
            self._forget(step.label)
            return
        if step.kind == "create":
            self.operations.append(Create(declared.name, declared.color, declared.description))
        else:
            color, description = changed_fields(declared, self.existing[step.label])
            self.operations.append(
                Rename(self.name_of[step.label], declared.name, color, description)
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
        blocked = [step for step in wanting if not self._name_is_free(step)]
        if wanting and not blocked:
            # Only waiting for labels that could not be made: go ahead without them.
            self.released.update(step.declared for step in wanting)
            return pending
        for step in blocked:
            if self._free_name_for(step, moving):
                return pending
        if not wanting:
            # Only merges are left, and their target was never made: nothing to merge into.
            for step in pending:
                into = self.declared[step.declared].name
                self.conflicts.append(
                    f"{code_span(self.name_of[step.label])} was not merged into {code_span(into)}, "
                    f"because {code_span(into)} could not be created or renamed."
                )
            return []
        dropped = blocked[0]
        self.conflicts.append(self._conflict_message(dropped))
        return [step for step in pending if step is not dropped]

    def _free_name_for(self, step: _Step, moving: set[int]) -> bool:
        blocker = self.holder[self.declared[step.declared].name.casefold()]
        if blocker in self.to_delete:
            self._delete_now(blocker)
            return True
        if blocker not in moving or blocker in self.moved_aside:
            return False
        # The blocker will move anyway (a swap): park it under a temporary name, which
        # needs a free name of its own.
        temporary = self._temporary_name(blocker)
        key = temporary.casefold()
        if any(key == declared.name.casefold() for declared in self.declared):
            return False
        holder = self.holder.get(key)
        if holder is not None:
            if holder not in self.to_delete:
                return False
            self._delete_now(holder)
        self.operations.append(Rename(self.name_of[blocker], temporary, temporary=True))
        self._forget(blocker)
        self.name_of[blocker] = temporary
        self.holder[key] = blocker
        self.moved_aside.add(blocker)
        return True

    def _temporary_name(self, label: int) -> str:
        return (TEMPORARY_PREFIX + self.name_of[label])[:MAX_NAME_LENGTH]

    def _delete_now(self, label: int) -> None:
        # A label slated for deletion holds a name we need: delete it earlier.
        self.to_delete.remove(label)
        self.operations.append(Delete(self.name_of[label]))
        self._forget(label)

    def _conflict_message(self, step: _Step) -> str:
        name = self.declared[step.declared].name
        blocker = self.holder[name.casefold()]
        held_by = code_span(self.name_of[blocker])
        what = (
            f"{code_span(name)} was not created"
            if step.kind == "create"
            else f"{code_span(self.name_of[step.label])} was not renamed to {code_span(name)}"
        )
        if blocker < len(self.existing) and blocker not in self.moved_aside:
            if blocker not in self.matched:
                return (
                    f"{what}: {held_by} holds that name and is not declared. Declare it "
                    "(or list it as an alias), rename it, or set `delete_undeclared: true`."
                )
            temporary = code_span(self._temporary_name(blocker))
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
    due_swaps: Sequence[RenameCycle] = (),
) -> LabelPlan:
    """Plan the changes that make `existing` match `declared`, in a safe order.

    Deterministic: the same inputs give the same plan. Steps follow the declared order
    (updates, renames, creates, and merges once their target exists), a swap in
    `due_swaps` goes through a temporary name, and deletions come last, by name. Without
    `due_swaps` a swap is taken as applied already: its labels stay as they are.
    """
    return _Planner(existing, declared, delete_undeclared, due_swaps).plan()
