"""What label-sync remembers about swaps of names, so that a swap is applied once.

A swap (`a` ↔ `b`) cannot be told from its own result by the labels' names, so the
planner moves a swap's labels only when told the swap is due. This module owns the two
memories that decide it (`apply` keeps them as finished effects):

- **Swaps synced**: a swap is due only until a sync of a file declaring it finishes.
  After that it never moves again, even when its labels are deleted and created anew (by
  hand, or by `strict` restoring one), which would otherwise look like a swap to apply.
  A sync in which the swap could not be applied (a conflict) does not count.
- **Arrangements left**: which label ids hold a swap's names, remembered the moment a
  request brings that arrangement about (`SwapWatch`). A sync that fails a request after
  its swap is done is retried with the swap not yet synced; this memory stops the retry
  from swapping the names back.
"""

from __future__ import annotations

from collections.abc import Sequence

from ghapp.skills.label_sync.matching import (
    ExistingLabel,
    RenameCycle,
    arrangement_key,
    declared_swaps,
    swap_signature,
)
from ghapp.skills.label_sync.operations import (
    Create,
    Delete,
    LabelOperation,
    LabelPlan,
    Merge,
    Rename,
)
from ghapp.skills.label_sync.options import DeclaredLabel

__all__ = ["SwapWatch", "arrangement_effect_key", "swaps_synced_by", "synced_effect_key"]


def synced_effect_key(signature: str) -> str:
    """The effect key that marks a declared swap as synced."""
    return f"label-swap-synced:{signature}"


def arrangement_effect_key(arrangement: str) -> str:
    """The effect key that marks an arrangement of a swap's labels as left by a sync."""
    return f"label-swap:{arrangement}"


def swaps_synced_by(
    plan: LabelPlan, due: Sequence[RenameCycle], declared: Sequence[DeclaredLabel]
) -> list[str]:
    """The signatures of the declared swaps that a finished sync of `plan` has synced:
    all of them, except a due swap the plan could not apply."""
    applied = {cycle.signature for cycle in plan.swaps}
    unapplied = {cycle.signature for cycle in due} - applied
    signatures = (swap_signature(moves) for moves in declared_swaps(declared))
    return [signature for signature in signatures if signature not in unapplied]


class SwapWatch:
    """Which label (by GitHub id) holds each name of the declared swaps, request by request."""

    def __init__(self, existing: Sequence[ExistingLabel], declared: Sequence[DeclaredLabel]):
        self._swaps = [tuple(old for old, _ in moves) for moves in declared_swaps(declared)]
        self._held = {label.name.casefold(): label.id for label in existing}
        self._complete = [self._is_complete(names) for names in self._swaps]

    def _is_complete(self, names: tuple[str, ...]) -> bool:
        return all(self._held.get(name) is not None for name in names)

    def follow(self, op: LabelOperation, created_id: int | None = None) -> list[str]:
        """Take one applied operation into account (`created_id`: what GitHub answered to a
        Create); the arrangements it brought about, to remember."""
        match op:
            case Rename(old, new):
                self._held[new.casefold()] = self._held.pop(old.casefold(), None)
            case Create(name):
                self._held[name.casefold()] = created_id
            case Merge(source) | Delete(source):
                self._held.pop(source.casefold(), None)
            case _:
                pass
        settled: list[str] = []
        for position, names in enumerate(self._swaps):
            complete = self._is_complete(names)
            if complete and not self._complete[position]:
                settled.append(arrangement_key((self._held[name] or 0, name) for name in names))
            self._complete[position] = complete
        return settled
