"""Which existing label becomes which declared label: the decision that lets plans settle.

This module owns the matching behind the label plan (pure, no I/O). Names are compared
ignoring case, as GitHub does. The rules, in the order they apply:

1. A label carrying a declared label's name is that label.
2. A label carrying an old name that no declared label has now (a *plain* alias) belongs
   to the label that lists it: renamed if it is the only match, merged otherwise.
3. A declared label that still has no label takes one through an alias that names another
   declared label: a link of a rename chain (`c` ← `b` ← `a`: `b` moves to `c`, and `b`,
   now missing, takes `a`). A link acts only while its new name is missing, so a chain
   that was applied plans nothing: all its names exist.
4. A swap (links in a circle: `a` ↔ `b`, or `a` → `b` → `c` → `a`) cannot be told from
   its own result by names, so its links do not act by rule 3. Its labels move only when
   the caller passes it as *due*: label-sync remembers the swaps it has synced and passes
   a swap as due only until then (`swap_memory`), so a swap is applied once. Without that
   memory (no `due`), a swap's labels stay. A swap with a name missing never moves (its
   missing names are created): a gap in a swap would look like one that stopped half way.
5. A label parked under `ghapp-tmp-<name>` means a swap stopped half way: that swap's
   links act by rule 3, with the parked label standing for `<name>`, so the next sync
   finishes it instead of stranding the parked label.
6. Labels marked `delete: true` are deleted wherever they (or their aliases) exist.

When several labels belong to one declared label, the one that becomes it is the exact
name, else the one a link moved, else the first alias match in the repository's order
(github-label-sync's rule); the others are merged into it.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ghapp.skills.label_sync.options import MAX_NAME_LENGTH, DeclaredLabel

__all__ = [
    "TEMPORARY_PREFIX",
    "ExistingLabel",
    "Matching",
    "RenameCycle",
    "arrangement_key",
    "chain_links",
    "declared_swaps",
    "find_rename_cycles",
    "match_labels",
    "swap_signature",
]

TEMPORARY_PREFIX = "ghapp-tmp-"


@dataclass(frozen=True, slots=True)
class ExistingLabel:
    """A label as the repository has it now (GitHub returns `description` as null)."""

    name: str
    color: str
    description: str | None = ""
    # GitHub's label id: it survives renames, which is how a swap's result is recognised.
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RenameCycle:
    """Labels that trade names in a circle (a swap): `(label id, name now, name after)`."""

    moves: tuple[tuple[int, str, str], ...]

    def arrangement(self, *, after: bool) -> str:
        """A short key for which label holds which name, now or once the swap is done."""
        pairs = ((label_id, new if after else old) for label_id, old, new in self.moves)
        return arrangement_key(pairs)

    @property
    def signature(self) -> str:
        """A short key for the swap as declared: which name moves to which."""
        return swap_signature((old, new) for _, old, new in self.moves)


def arrangement_key(pairs: Iterable[tuple[int, str]]) -> str:
    """A short key for an arrangement: which label (GitHub id) holds which name."""
    ordered = sorted((label_id, name.casefold()) for label_id, name in pairs)
    return hashlib.sha256(json.dumps(ordered).encode()).hexdigest()[:32]


def swap_signature(moves: Iterable[tuple[str, str]]) -> str:
    """A short key for a declared swap: its (old name, new name) pairs, ignoring case."""
    ordered = sorted((old.casefold(), new.casefold()) for old, new in moves)
    return hashlib.sha256(json.dumps(ordered).encode()).hexdigest()[:32]


@dataclass(slots=True)
class Matching:
    """The outcome: declared index → the existing label (index) that becomes it and the
    ones merged into it; what to delete because it is marked so; what nobody declared."""

    targets: dict[int, int] = field(default_factory=dict)
    merged: dict[int, list[int]] = field(default_factory=dict)
    marked_for_deletion: list[int] = field(default_factory=list)
    undeclared: list[int] = field(default_factory=list)


def _declared_names(declared: Sequence[DeclaredLabel]) -> dict[str, int]:
    """Casefolded name → index, for the labels that are kept (not `delete: true`)."""
    names: dict[str, int] = {}
    for index, label in enumerate(declared):
        if not label.delete:
            names.setdefault(label.name.casefold(), index)
    return names


def _holders(existing: Sequence[ExistingLabel]) -> dict[str, int]:
    holder: dict[str, int] = {}
    for index, label in enumerate(existing):
        # GitHub keeps names unique regardless of case, so the first holder is the only one.
        holder.setdefault(label.name.casefold(), index)
    return holder


def _parked(existing: Sequence[ExistingLabel], names: dict[str, int]) -> dict[str, int]:
    """Declared name → a label parked under its temporary name by an unfinished swap."""
    parked: dict[str, int] = {}
    for index, label in enumerate(existing):
        key = label.name.casefold()
        if not key.startswith(TEMPORARY_PREFIX) or key in names:
            continue
        rest = key.removeprefix(TEMPORARY_PREFIX)
        if rest in names:
            parked.setdefault(rest, index)
        elif len(label.name) == MAX_NAME_LENGTH:
            # The temporary name was cut to GitHub's limit: a unique declared name that
            # starts with what is left is the one it stands for.
            starting = [name for name in names if name.startswith(rest)]
            if len(starting) == 1:
                parked.setdefault(starting[0], index)
    return parked


def _links(declared: Sequence[DeclaredLabel], names: dict[str, int]) -> dict[int, int]:
    """Rename-chain links: declared index whose name is an alias → the label listing it."""
    links: dict[int, int] = {}
    for index, label in enumerate(declared):
        if label.delete:
            continue
        for alias in label.aliases:
            source = names.get(alias.casefold())
            if source is not None and source != index:
                links.setdefault(source, index)
    return links


def _link_cycles(declared: Sequence[DeclaredLabel]) -> list[list[int]]:
    """Cycles of rename-chain links, as lists of declared indices (each link once)."""
    links = _links(declared, _declared_names(declared))
    cycles: list[list[int]] = []
    seen: set[int] = set()
    for start in sorted(links):
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in seen and node not in path:
            path.append(node)
            node = links.get(node)
        seen.update(path)
        if node is not None and node in path:
            cycles.append(path[path.index(node) :])
    return cycles


def chain_links(declared: Sequence[DeclaredLabel]) -> dict[int, int]:
    """Links of rename chains, outside swaps: declared index → the label listing its name."""
    links = _links(declared, _declared_names(declared))
    in_swaps = {member for members in _link_cycles(declared) for member in members}
    return {source: owner for source, owner in links.items() if source not in in_swaps}


def declared_swaps(declared: Sequence[DeclaredLabel]) -> list[tuple[tuple[str, str], ...]]:
    """Each swap the declaration describes (labels that list each other's names as old
    names, in a circle), as its (old name, new name) pairs, casefolded."""
    links = _links(declared, _declared_names(declared))
    return [
        tuple(
            (declared[member].name.casefold(), declared[links[member]].name.casefold())
            for member in members
        )
        for members in _link_cycles(declared)
    ]


def find_rename_cycles(
    existing: Sequence[ExistingLabel], declared: Sequence[DeclaredLabel]
) -> tuple[RenameCycle, ...]:
    """The swaps the declaration describes whose every name exists now, each with its
    GitHub id, none parked: the swaps that could be applied, or were applied already.

    A swap with a name missing is not a swap of labels: its missing names are created and
    its labels stay (moving them would leave a gap that looks like a half-done swap).
    """
    names = _declared_names(declared)
    holder = _holders(existing)
    parked = _parked(existing, names)
    links = _links(declared, names)
    cycles: list[RenameCycle] = []
    for members in _link_cycles(declared):
        moves: list[tuple[int, str, str]] = []
        for member in members:
            key = declared[member].name.casefold()
            index = holder.get(key)
            label_id = existing[index].id if index is not None else None
            if index is None or label_id is None or key in parked:
                break
            moves.append((label_id, existing[index].name, declared[links[member]].name))
        else:
            cycles.append(RenameCycle(tuple(moves)))
    return tuple(cycles)


def match_labels(
    existing: Sequence[ExistingLabel],
    declared: Sequence[DeclaredLabel],
    due: Sequence[RenameCycle] = (),
) -> Matching:
    """Match existing labels to declared ones by the rules in the module docstring."""
    names = _declared_names(declared)
    holder = _holders(existing)
    parked = _parked(existing, names)
    claims: dict[int, int] = {}  # existing index → declared index
    moved: set[int] = set()  # labels a link or a due swap takes to another name
    count = dict.fromkeys(names.values(), 0)

    def claim(index: int, owner: int, *, moving: bool = False) -> None:
        previous = claims.get(index)
        if previous is not None:
            count[previous] -= 1
        claims[index] = owner
        count[owner] += 1
        if moving:
            moved.add(index)

    swapping: set[int] = set()
    by_id = {label.id: i for i, label in enumerate(existing) if label.id is not None}
    for cycle in due:
        for label_id, _, new in cycle.moves:
            index, owner = by_id.get(label_id), names.get(new.casefold())
            if index is not None and owner is not None and index not in claims:
                claim(index, owner, moving=True)
                swapping.add(owner)

    for key, owner in names.items():  # rule 1
        index = holder.get(key)
        if owner not in swapping and index is not None and index not in claims:
            claim(index, owner)
    for owner in names.values():  # rule 2
        for alias in declared[owner].aliases:
            key = alias.casefold()
            index = holder.get(key)
            if key not in names and index is not None and index not in claims:
                claim(index, owner)

    # Links inside a swap act only when it is due (above) or under way (a parked label);
    # a label of a swap under way takes its name from the swap's own link, nothing else.
    still: set[int] = set()
    resuming: dict[int, str] = {}  # owner in a swap under way → the old name it takes
    links = _links(declared, names)
    for members in _link_cycles(declared):
        if any(declared[member].name.casefold() in parked for member in members):
            resuming.update((links[member], declared[member].name) for member in members)
        else:
            still.update(members)

    def needs_label(owner: int) -> bool:
        if owner not in resuming:
            return count[owner] == 0
        # In a swap under way an old name (rule 2) does not hold the place: the label
        # the swap moves there does.
        exact = holder.get(declared[owner].name.casefold())
        return not any(o == owner and (i == exact or i in moved) for i, o in claims.items())

    missing = deque(owner for owner in names.values() if needs_label(owner))
    while missing:  # rules 3 and 5
        owner = missing.popleft()
        if not needs_label(owner):
            continue
        old_names = [resuming[owner]] if owner in resuming else declared[owner].aliases
        for alias in old_names:
            key = alias.casefold()
            source = names.get(key, owner)
            if source == owner or source in still:
                continue  # a plain alias (rule 2 had its chance), its own name, or a swap
            index = parked.get(key)
            if index is None or index in claims:
                index = holder.get(key)
            if index is None or index in moved:
                continue
            loser = claims.get(index)
            claim(index, owner, moving=True)
            if loser is not None and needs_label(loser):
                missing.append(loser)
            break

    matching = Matching()
    for label in declared:  # rule 6
        if not label.delete:
            continue
        for name in (label.name, *label.aliases):
            index = holder.get(name.casefold())
            if index is not None and index not in claims:
                claims[index] = -1
                matching.marked_for_deletion.append(index)

    by_owner: dict[int, list[int]] = {}
    for index in sorted(claims):
        by_owner.setdefault(claims[index], []).append(index)
    for owner in names.values():
        mine = by_owner.get(owner)
        if not mine:
            continue
        exact = holder.get(declared[owner].name.casefold())
        mine.sort(key=lambda index: (index != exact, index not in moved, index))
        matching.targets[owner] = mine[0]
        if len(mine) > 1:
            matching.merged[owner] = mine[1:]
    matching.undeclared = [index for index in range(len(existing)) if index not in claims]
    return matching
