"""What label-sync remembers about swaps of names, so that a swap is applied once.

A swap (`a` ↔ `b`) cannot be told from its own result by the labels' names, so the
planner moves a swap's labels only when told the swap is due. This module owns what makes
that decision: the arrangement of label ids a sync leaves a swap's names in is
remembered (as a finished effect, by `apply`), and a swap is due only over an arrangement
not remembered. `SwapWatch` follows a sync's requests one by one and names each
arrangement the moment it comes about, so a sync that fails a request later has still
settled it; whether the swap made it or renames and creates did (a swap over labels it
just created is no swap), the next sync leaves it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ghapp.skills.label_sync.matching import ExistingLabel, arrangement_key, declared_swaps
from ghapp.skills.label_sync.operations import Create, Delete, LabelOperation, Merge, Rename
from ghapp.skills.label_sync.options import DeclaredLabel

__all__ = ["SwapWatch", "swap_effect_key"]


def swap_effect_key(arrangement: str) -> str:
    """The effect key under which a settled arrangement is remembered."""
    return f"label-swap:{arrangement}"


class SwapWatch:
    """Which label (by GitHub id) holds each name of the declared swaps, request by request."""

    def __init__(self, existing: Sequence[ExistingLabel], declared: Sequence[DeclaredLabel]):
        self._swaps = declared_swaps(declared)
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
