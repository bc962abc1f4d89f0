"""Label plans settle (issue 21): properties of the planner over random label sets.

The declarations are drawn the way people write them, through `LabelSyncOptions`, with
aliases that name other declared labels on purpose: rename chains (`c` ← `b` ← `a`),
swaps (`a` ↔ `b`) and longer cycles come up in most examples. Each plan is applied to a
model repository with issues on every label (`tests/support/label_repo.py`) and held to
what issue 21 asks:

- the result is exactly the declared labels, plus the undeclared ones unless
  `delete_undeclared`, with the declared colors and descriptions;
- no issue loses a label that a rename or merge keeps, and no issue gains one it had no
  claim to;
- no name is deleted (or merged away) and then created again;
- no issue is moved (merged) onto a label the plan creates, where a rename would keep it;
- a second plan of the applied result is empty, with or without label-sync's swap memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ghapp.skills.label_sync.matching import find_rename_cycles
from ghapp.skills.label_sync.options import DeclaredLabel, LabelSyncOptions
from ghapp.skills.label_sync.plan import (
    Create,
    Delete,
    LabelPlan,
    Merge,
    Rename,
    plan_label_changes,
)
from tests.support.label_repo import LabelRepo

# Few names, so that declared names, aliases and existing labels collide often; `B` and
# `b` differ only in case, which GitHub ignores.
DECLARED_NAMES = ["a", "b", "c", "d", "e", "B"]
OTHER_NAMES = ["old", "older", "x", "y"]
COLORS = ["111111", "222222", "333333"]


@dataclass
class Example:
    declared: list[DeclaredLabel]
    delete_undeclared: bool
    repo: LabelRepo

    def kept(self) -> list[DeclaredLabel]:
        return [label for label in self.declared if not label.delete]


@st.composite
def examples(draw: st.DrawFn) -> Example:
    names = draw(st.lists(st.sampled_from(DECLARED_NAMES), unique_by=str.casefold, max_size=5))
    # Links between declared labels: links[i] = j puts label i's name among label j's old
    # names. Every name is an old name of at most one label, so links make chains and
    # cycles; some examples get a cycle (a swap, or a rotation of three) on purpose.
    count = len(names)
    links: list[int | None] = draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, max(count - 1, 0))),
            min_size=count,
            max_size=count,
        )
    )
    ring = draw(st.lists(st.integers(0, max(count - 1, 0)), unique=True, max_size=3))
    if count and len(ring) >= 2:
        for position, member in enumerate(ring):
            links[member] = ring[(position + 1) % len(ring)]
    entries: list[dict[str, object]] = [{"name": name, "aliases": []} for name in names]
    used = {name.casefold() for name in names}
    for source, owner in enumerate(links):
        if owner is not None and owner != source:
            entries[owner]["aliases"].append(names[source])  # type: ignore[union-attr]
    for entry in entries:
        for alias in draw(st.lists(st.sampled_from(OTHER_NAMES), max_size=2)):
            if alias.casefold() not in used:
                used.add(alias.casefold())
                entry["aliases"].append(alias)  # type: ignore[union-attr]
        color = draw(st.sampled_from([None, *COLORS]))
        if color is not None:
            entry["color"] = color
        description = draw(st.sampled_from([None, "", "declared"]))
        if description is not None:
            entry["description"] = description
        if draw(st.integers(0, 5)) == 0:
            entry["delete"] = True
    delete_undeclared = draw(st.booleans())
    try:
        options = LabelSyncOptions.model_validate(
            {"labels": entries, "delete_undeclared": delete_undeclared}
        )
    except ValidationError:
        reject()  # a deleted label that another one keeps: refused, as tested elsewhere

    repo = LabelRepo()
    # Mostly the declared names (so swaps and chains find their labels), some others.
    present = draw(st.lists(st.sampled_from(names), unique_by=str.casefold)) if names else []
    pool = [*DECLARED_NAMES, *OTHER_NAMES]
    others = draw(st.lists(st.sampled_from(pool), unique_by=str.casefold, max_size=4))
    taken = {name.casefold() for name in present}
    present += [name for name in others if name.casefold() not in taken]
    for name in draw(st.permutations(present)):
        repo.add_label(
            name,
            draw(st.sampled_from(COLORS)),
            draw(st.sampled_from([None, "", "existing"])),
        )
    for label in list(repo.labels.values()):
        repo.add_issue(label.name)
    if len(repo.labels) >= 2:
        pair = draw(st.lists(st.sampled_from(sorted(repo.names())), min_size=2, max_size=2))
        repo.add_issue(*pair)
    example = Example(list(options.labels), delete_undeclared, repo)
    _classify(example)
    return example


def _classify(example: Example) -> None:
    """Hypothesis statistics (`--hypothesis-show-statistics`): how often each shape comes up."""
    names = {label.name.casefold() for label in example.kept()}
    links = sum(a.casefold() in names for label in example.kept() for a in label.aliases)
    if links:
        event("aliases naming other declared labels")
    if find_rename_cycles(example.repo.existing(), example.declared):
        event("a swap whose names all exist")
    if any(label.delete for label in example.declared):
        event("delete: true")


def _destinations(declared: list[DeclaredLabel], name: str) -> set[str]:
    """The declared names a label called `name` may end up as: its own, or the label
    listing it as an old name."""
    return {
        label.name
        for label in declared
        if not label.delete
        and name.casefold() in {n.casefold() for n in (label.name, *label.aliases)}
    }


def _snapshot(repo: LabelRepo) -> dict[int, set[str]]:
    return {number: repo.issue_labels(number) for number in repo.issues}


def check_result(example: Example, before: dict[int, set[str]], original: set[str]) -> None:
    """The repository now holds what was declared, and every issue kept its labels."""
    repo, declared = example.repo, example.declared
    kept = example.kept()
    claimed = {name.casefold() for label in declared for name in (label.name, *label.aliases)}
    undeclared = {name for name in original if name.casefold() not in claimed}
    expected = {label.name for label in kept}
    if not example.delete_undeclared:
        expected |= undeclared
    assert repo.names() == expected

    for label in kept:
        model = repo.find(label.name)
        assert model is not None and model.name == label.name
        if label.color is not None:
            assert model.color == label.color, label
        if label.description is not None:
            assert (model.description or "") == label.description, label

    for number, had in before.items():
        now = repo.issue_labels(number)
        for name in had:
            destinations = _destinations(declared, name)
            if destinations:
                # A declared label or an old name of one: the issue still carries it.
                assert now & destinations, (number, name, now)
            elif name in undeclared and not example.delete_undeclared:
                assert name in now, (number, name, now)
        # Nothing it had no claim to: every label it has came from one it had.
        reachable = set(had)
        for name in had:
            reachable |= _destinations(declared, name)
        assert now <= reachable, (number, had, now)


def check_plan(plan: LabelPlan, declared: list[DeclaredLabel]) -> None:
    """No name deleted then re-created; no issue moved where a rename keeps it; deletions
    only of labels marked `delete: true` or not declared at all."""
    assert plan.conflicts == ()
    gone: set[str] = set()
    created = {op.name.casefold() for op in plan.operations if isinstance(op, Create)}
    kept_names = {
        name.casefold()
        for label in declared
        if not label.delete
        for name in (label.name, *label.aliases)
    }
    for op in plan.operations:
        match op:
            case Delete(name):
                assert name.casefold() not in kept_names, op
                gone.add(name.casefold())
            case Merge(source, into):
                # Issues move only onto a label that existed: never onto a new one, which
                # renaming `source` would have made without moving anything.
                assert into.casefold() not in created, op
                gone.add(source.casefold())
            case Create(name):
                assert name.casefold() not in gone, op
            case Rename(_, new):
                assert new.casefold() not in gone, op


def _sync_and_check(example: Example, *, remember: bool) -> LabelPlan:
    repo = example.repo
    before, original = _snapshot(repo), repo.names()
    cycles = find_rename_cycles(repo.existing(), example.declared) if remember else ()
    plan = repo.sync(
        example.declared, delete_undeclared=example.delete_undeclared, remember=remember
    )
    check_plan(plan, example.declared)
    check_result(example, before, original)
    # A swap that was due is applied once: each of its labels now has its new name.
    for cycle in cycles:
        for label_id, _, new in cycle.moves:
            assert repo.labels[label_id].name == new
    return plan


SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


@given(examples())
@SETTINGS
def test_a_synced_repository_plans_nothing_the_second_time(example: Example) -> None:
    _sync_and_check(example, remember=True)
    again = example.repo.sync(example.declared, delete_undeclared=example.delete_undeclared)
    assert again.operations == (), again.render_markdown()
    # The planner alone, with no memory of swaps, agrees that nothing is left to do.
    existing = example.repo.existing()
    alone = plan_label_changes(
        existing, example.declared, delete_undeclared=example.delete_undeclared
    )
    assert alone.operations == ()


@given(examples())
@SETTINGS
def test_the_planner_alone_settles_too(example: Example) -> None:
    """Called from outside, with no swap memory: the same guarantees, and a swap is left
    as it is (it cannot be told from its result)."""
    _sync_and_check(example, remember=False)
    again = example.repo.sync(
        example.declared, delete_undeclared=example.delete_undeclared, remember=False
    )
    assert again.operations == (), again.render_markdown()


@given(examples(), st.integers(0, 12))
@SETTINGS
def test_a_sync_stopped_part_way_is_finished_by_the_next(example: Example, stop: int) -> None:
    """A crash or an outage after `stop` requests: the retry finishes the job, swaps
    included (a label parked under `ghapp-tmp-…` is found again), and loses nothing."""
    repo = example.repo
    before, original = _snapshot(repo), repo.names()
    repo.sync(example.declared, delete_undeclared=example.delete_undeclared, stop_after=stop)
    repo.sync(example.declared, delete_undeclared=example.delete_undeclared)
    check_result(example, before, original)
    again = repo.sync(example.declared, delete_undeclared=example.delete_undeclared)
    assert again.operations == (), again.render_markdown()


def _example(labels: list[dict[str, object]], existing: list[str]) -> Example:
    """A hand-picked example: `existing` labels, each on an issue of its own."""
    repo = LabelRepo()
    for name in existing:
        repo.add_label(name, "111111", "")
        repo.add_issue(name)
    options = LabelSyncOptions.model_validate({"labels": labels})
    return Example(list(options.labels), False, repo)


SCENARIOS = {
    # The far end of the chain is created before `older` takes `b`: in between, `b`
    # holding its name while `c` is missing would read as a link still to apply.
    "chain whose far end is created": (
        [{"name": "b", "aliases": ["older"]}, {"name": "c", "aliases": ["b"]}],
        ["older"],
    ),
    "chain of three, all present": (
        [
            {"name": "b", "aliases": ["a"]},
            {"name": "c", "aliases": ["b"]},
            {"name": "d", "aliases": ["c"]},
        ],
        ["a", "b", "c"],
    ),
    "swap": ([{"name": "a", "aliases": ["b"]}, {"name": "b", "aliases": ["a"]}], ["a", "b"]),
    "rotation of three": (
        [
            {"name": "a", "aliases": ["c"]},
            {"name": "b", "aliases": ["a"]},
            {"name": "c", "aliases": ["b"]},
        ],
        ["a", "b", "c"],
    ),
    "swap with an old name merged and a chain into it": (
        [
            {"name": "a", "aliases": ["b", "old-a"]},
            {"name": "b", "aliases": ["a"]},
            {"name": "x", "aliases": ["y"]},
            {"name": "y", "aliases": ["older"]},
        ],
        ["a", "old-a", "b", "y", "older"],
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_stopping_point_is_finished_by_the_next_sync(name: str) -> None:
    """Each scenario stopped after each of its requests in turn: the next sync finishes
    the job, loses no issue's label and settles."""
    labels, existing = SCENARIOS[name]
    full = _example(labels, existing).repo.sync(
        _example(labels, existing).declared, delete_undeclared=False
    )
    assert full.operations, "the scenario must plan something"
    for stop in range(len(full.operations) + 1):
        example = _example(labels, existing)
        repo = example.repo
        before, original = _snapshot(repo), repo.names()
        repo.sync(example.declared, delete_undeclared=False, stop_after=stop)
        repo.sync(example.declared, delete_undeclared=False)
        check_result(example, before, original)
        again = repo.sync(example.declared, delete_undeclared=False)
        assert again.operations == (), (stop, again.render_markdown())


SWAP_LABELS = [{"name": "a", "aliases": ["b"]}, {"name": "b", "aliases": ["a"]}]


def test_a_swap_is_applied_once_and_never_again() -> None:
    """Once synced, a swap stays applied: labels of the swap deleted and made anew (by
    hand, or by `strict` restoring one) are not swapped, though no arrangement of them
    was ever seen."""
    example = _example(SWAP_LABELS, ["a", "b"])
    repo = example.repo
    first = repo.sync(example.declared, delete_undeclared=False)
    assert [op.new for op in first.operations if isinstance(op, Rename)] == [
        "ghapp-tmp-a",
        "a",
        "b",
    ]
    assert repo.issue_labels(1) == {"b"} and repo.issue_labels(2) == {"a"}

    # A person deletes `a` and creates it again: a new label id under the name.
    repo.apply(Delete("a"))
    repo.add_label("a", "111111", "")
    again = repo.sync(example.declared, delete_undeclared=False)
    assert again.operations == ()


def test_a_swap_synced_before_its_names_existed_never_moves_them() -> None:
    """A swap over names that did not all exist: the missing one is created, and when the
    names later all exist (a person made one), nothing is swapped."""
    example = _example(SWAP_LABELS, ["a"])
    repo = example.repo
    first = repo.sync(example.declared, delete_undeclared=False)
    assert [type(op).__name__ for op in first.operations] == ["Create"]
    repo.apply(Delete("b"))
    repo.add_label("b", "111111", "")
    assert repo.sync(example.declared, delete_undeclared=False).operations == ()
    assert repo.issue_labels(1) == {"a"}


def test_a_swap_that_a_conflict_stopped_is_still_due() -> None:
    """Both temporary names taken by labels that are kept: the swap cannot be applied, is
    not counted as synced, and is applied once the way is clear."""
    example = _example(
        [*SWAP_LABELS, {"name": "ghapp-tmp-a"}, {"name": "ghapp-tmp-b"}],
        ["a", "b", "ghapp-tmp-a", "ghapp-tmp-b"],
    )
    repo = example.repo
    blocked = repo.sync(example.declared, delete_undeclared=False)
    assert blocked.operations == () and len(blocked.conflicts) == 2
    cleared = [label for label in example.declared if not label.name.startswith("ghapp-tmp")]
    repo.apply(Delete("ghapp-tmp-a"))
    repo.apply(Delete("ghapp-tmp-b"))
    swapped = repo.sync(cleared, delete_undeclared=False)
    assert swapped.swaps and repo.issue_labels(1) == {"b"}
