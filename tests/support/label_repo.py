"""A model of one repository's labels and issues that label plans are applied to in tests.

It answers each operation the way GitHub does (a rename keeps the label's id and so its
issues; a name is unique regardless of case; deleting a label takes it off every issue)
and refuses what GitHub would refuse, so a plan that asks for a taken name or touches a
label that is not there fails the test. `sync` does what label-sync's `sync_labels` does
around the pure planner, swap memory included, and can stop part way like a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ghapp.skills.label_sync.matching import find_rename_cycles
from ghapp.skills.label_sync.options import DeclaredLabel
from ghapp.skills.label_sync.plan import (
    Create,
    Delete,
    ExistingLabel,
    LabelOperation,
    LabelPlan,
    Merge,
    Rename,
    Update,
    plan_label_changes,
)
from ghapp.skills.label_sync.swap_memory import SwapWatch, swaps_synced_by

GITHUB_DEFAULT_COLOR = "ededed"


class Refused(AssertionError):
    """What GitHub would answer with a 404 or a 422."""


@dataclass
class ModelLabel:
    id: int
    name: str
    color: str
    description: str | None


@dataclass
class LabelRepo:
    labels: dict[int, ModelLabel] = field(default_factory=dict)
    issues: dict[int, set[int]] = field(default_factory=dict)  # number → label ids
    # What label-sync keeps as effects (see `swap_memory`): the arrangements of swaps'
    # labels that syncs left, and the swaps synced.
    swap_memory: set[str] = field(default_factory=set)
    swaps_synced: set[str] = field(default_factory=set)
    _next_id: int = 1

    # -- setting up -------------------------------------------------------------------------

    def add_label(self, name: str, color: str = "000000", description: str | None = "") -> int:
        if self.find(name) is not None:
            raise Refused(f"label {name!r} exists")
        label_id = self._next_id
        self._next_id += 1
        self.labels[label_id] = ModelLabel(label_id, name, color, description)
        return label_id

    def add_issue(self, *names: str) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {self._require(name).id for name in names}
        return number

    # -- reading ----------------------------------------------------------------------------

    def find(self, name: str) -> ModelLabel | None:
        return next(
            (lb for lb in self.labels.values() if lb.name.casefold() == name.casefold()), None
        )

    def _require(self, name: str) -> ModelLabel:
        label = self.find(name)
        if label is None:
            raise Refused(f"no label {name!r}")
        return label

    def existing(self) -> list[ExistingLabel]:
        """The labels as `read_repo_labels` returns them (the fake lists them by id)."""
        return [
            ExistingLabel(lb.name, lb.color, lb.description, lb.id)
            for lb in sorted(self.labels.values(), key=lambda lb: lb.id)
        ]

    def names(self) -> set[str]:
        return {lb.name for lb in self.labels.values()}

    def issue_labels(self, number: int) -> set[str]:
        return {self.labels[i].name for i in self.issues[number]}

    # -- GitHub's answers ---------------------------------------------------------------------

    def _take_name(self, name: str, label_id: int | None) -> None:
        holder = self.find(name)
        if holder is not None and holder.id != label_id:
            raise Refused(f"name {name!r} is taken by label {holder.id}")

    def apply(self, op: LabelOperation) -> int | None:
        """Apply one operation; for a Create, the new label's id (GitHub's answer)."""
        match op:
            case Create(name, color, description):
                self._take_name(name, None)
                return self.add_label(name, color or GITHUB_DEFAULT_COLOR, description)
            case Rename(old, new, color, description):
                label = self._require(old)
                self._take_name(new, label.id)
                label.name = new
                label.color = label.color if color is None else color
                label.description = label.description if description is None else description
            case Update(name, color, description):
                label = self._require(name)
                label.color = label.color if color is None else color
                label.description = label.description if description is None else description
            case Merge(source, into):
                source_label, target = self._require(source), self._require(into)
                for labels in self.issues.values():
                    if source_label.id in labels:
                        labels.add(target.id)
                self._delete(source_label)
            case Delete(name):
                self._delete(self._require(name))
        return None

    def _delete(self, label: ModelLabel) -> None:
        del self.labels[label.id]
        for labels in self.issues.values():
            labels.discard(label.id)

    # -- what label-sync does around the planner ------------------------------------------------

    def sync(
        self,
        declared: Sequence[DeclaredLabel],
        *,
        delete_undeclared: bool,
        stop_after: int | None = None,
        remember: bool = True,
    ) -> LabelPlan:
        """Plan and apply like `sync_labels`; `stop_after` operations, then stop (a crash).

        With `remember`, the swap memories that `sync_labels` keeps as effects are kept
        here (`swap_memory`); without, the planner runs with no memory, as a caller from
        outside sees it.
        """
        existing = self.existing()
        due = []
        if remember:
            due = [
                cycle
                for cycle in find_rename_cycles(existing, declared)
                if cycle.signature not in self.swaps_synced
                and cycle.arrangement(after=False) not in self.swap_memory
            ]
        plan = plan_label_changes(
            existing, declared, delete_undeclared=delete_undeclared, due_swaps=due
        )
        watch = SwapWatch(existing, declared)
        for index, op in enumerate(plan.operations):
            if stop_after is not None and index >= stop_after:
                return plan
            created = self.apply(op)
            if remember:
                self.swap_memory.update(watch.follow(op, created))
        if remember:
            self.swaps_synced.update(swaps_synced_by(plan, due, declared))
        return plan
