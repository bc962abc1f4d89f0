"""What the mutation run of `ghapp/skills/label_sync/matching.py` found unjudged, as behaviour.

Each test syncs a model repository (`tests.support.label_repo.LabelRepo`, which does what
label-sync's `sync_labels` does around the planner, swap memory included, and can stop part
way like a crash) and looks at which label (by GitHub id) ends up with which name, or at
the swaps label-sync would offer the planner as due. docs/testing.md ("Mutation testing")
keeps the score and the mutants left alive with their reasons.
"""

from __future__ import annotations

import pytest

from ghapp.skills.label_sync.matching import (
    ExistingLabel,
    RenameCycle,
    arrangement_key,
    find_rename_cycles,
    swap_signature,
)
from ghapp.skills.label_sync.options import DeclaredLabel
from ghapp.skills.label_sync.swap_memory import SwapWatch
from tests.support.label_repo import LabelRepo


def D(name: str, *aliases: str, delete: bool = False) -> DeclaredLabel:
    return DeclaredLabel(name=name, aliases=list(aliases), delete=delete)


def repo(*names: str) -> LabelRepo:
    """Labels with ids 1, 2, … in the order given, and an issue carrying each."""
    model = LabelRepo()
    for name in names:
        model.add_label(name)
        model.add_issue(name)
    return model


def held(model: LabelRepo) -> dict[int, str]:
    """Which label (GitHub id) holds which name."""
    return {label.id: label.name for label in model.labels.values()}


SWAP_AB = [D("a", "b"), D("b", "a")]
# 40 characters: a temporary name (`ghapp-tmp-` and the name) is cut to GitHub's 50 there.
LONG = "needs-triage-by-the-platform-team-before"
ONE, TWO = f"{LONG}-one", f"{LONG}-two"
PARKED_LONG = f"ghapp-tmp-{LONG}"


@pytest.mark.parametrize(
    ("names", "declared", "after"),
    [
        pytest.param(["a", "b"], SWAP_AB, {1: "b", 2: "a"}, id="two names"),
        pytest.param(
            ["a", "b", "c"],
            [D("b", "a"), D("c", "b"), D("a", "c")],
            {1: "b", 2: "c", 3: "a"},
            id="three names in a circle",
        ),
        pytest.param(
            ["A", "b"], SWAP_AB, {1: "b", 2: "a"}, id="the repository spells a name otherwise"
        ),
        pytest.param(
            ["wontfix", "a", "b"],
            [D("wontfix", delete=True), *SWAP_AB],
            {2: "b", 3: "a"},
            id="declared after a label marked delete",
        ),
        pytest.param(
            ["a", "b", "ghapp-tmp-a"],
            [*SWAP_AB, D("ghapp-tmp-a")],
            {1: "b", 2: "a", 3: "ghapp-tmp-a"},
            id="a declared label named like a temporary name is no parked label",
        ),
    ],
)
def test_a_declared_swap_is_applied_once_and_then_left(
    names: list[str], declared: list[DeclaredLabel], after: dict[int, str]
) -> None:
    model = repo(*names)
    model.sync(declared, delete_undeclared=False)
    assert held(model) == after
    again = model.sync(declared, delete_undeclared=False)
    assert again.operations == ()
    assert held(model) == after


def test_a_swap_with_a_name_missing_creates_the_name_and_moves_nothing() -> None:
    model = repo("a")
    plan = model.sync(SWAP_AB, delete_undeclared=False)
    assert held(model) == {1: "a", 2: "b"}
    assert plan.swaps == ()


def test_a_swap_that_stopped_after_its_last_rename_is_not_applied_again() -> None:
    """The sync crashed once the swap was done, before it was noted as synced: the
    arrangement the renames left is what keeps the next sync from swapping back."""
    model = repo("a", "b")
    plan = model.sync(SWAP_AB, delete_undeclared=False)
    assert len(plan.operations) == 3
    assert held(model) == {1: "b", 2: "a"}
    model.swaps_synced.clear()  # the crash came before the swap was noted as synced
    assert model.sync(SWAP_AB, delete_undeclared=False).operations == ()
    assert held(model) == {1: "b", 2: "a"}


@pytest.mark.parametrize(
    ("names", "declared", "after"),
    [
        pytest.param(["bug", "a", "b"], SWAP_AB, {1: "bug", 2: "b", 3: "a"}, id="short names"),
        pytest.param(
            ["bug", ONE, "x"],
            [D(ONE, "x"), D("x", ONE)],
            {1: "bug", 2: "x", 3: ONE},
            id="a name whose temporary name is cut to 50 characters",
        ),
    ],
)
def test_a_swap_that_stopped_after_parking_a_label_is_finished_by_the_next_sync(
    names: list[str], declared: list[DeclaredLabel], after: dict[int, str]
) -> None:
    model = repo(*names)
    model.sync(declared, delete_undeclared=False, stop_after=1)
    assert any(name.startswith("ghapp-tmp-") for name in held(model).values())
    model.sync(declared, delete_undeclared=False)
    assert held(model) == after
    assert model.sync(declared, delete_undeclared=False).operations == ()


def test_a_cut_temporary_name_that_fits_two_declared_names_is_left_where_it_is() -> None:
    """`ghapp-tmp-` and 40 characters could stand for `…-one` or `…-two`: the next sync
    does not guess, it keeps the parked label and creates the missing name."""
    model = repo(ONE, "x")
    model.sync([D(ONE, "x"), D("x", ONE)], delete_undeclared=False, stop_after=1)
    assert held(model) == {1: PARKED_LONG, 2: "x"}
    plan = model.sync([D(ONE, "x"), D("x", ONE), D(TWO)], delete_undeclared=False)
    assert held(model) == {1: PARKED_LONG, 2: "x", 3: ONE, 4: TWO}
    assert plan.undeclared_kept == (PARKED_LONG,)


def test_a_label_losing_its_name_to_a_chain_keeps_its_old_name_label() -> None:
    """`b` moves on to `c` (a chain link); `b` still has a label of its own, the one named
    by its plain old name `old`, so it does not also take `a` through its other alias."""
    model = repo("a", "b", "old")
    model.sync([D("a"), D("b", "old", "a"), D("c", "b")], delete_undeclared=False)
    assert held(model) == {1: "a", 2: "c", 3: "b"}


@pytest.mark.parametrize(
    ("existing", "why"),
    [
        (
            [ExistingLabel("a", "000000", "", None), ExistingLabel("b", "000000", "", 2)],
            "a label without a GitHub id cannot be recognised after the swap",
        ),
        (
            [
                ExistingLabel("a", "000000", "", 1),
                ExistingLabel("b", "000000", "", 2),
                ExistingLabel("ghapp-tmp-a", "000000", "", 3),
            ],
            "a label is parked under one of its names: the swap is under way, not due",
        ),
    ],
)
def test_swaps_not_offered_as_due(existing: list[ExistingLabel], why: str) -> None:
    assert find_rename_cycles(existing, SWAP_AB) == (), why
    complete = [ExistingLabel("a", "000000", "", 1), ExistingLabel("b", "000000", "", 2)]
    assert find_rename_cycles(complete, SWAP_AB) == (RenameCycle(((1, "a", "b"), (2, "b", "a"))),)


def test_the_arrangement_a_swap_leaves_is_the_one_swap_memory_records() -> None:
    existing = [ExistingLabel("a", "000000", "", 1), ExistingLabel("b", "000000", "", 2)]
    (cycle,) = find_rename_cycles(existing, SWAP_AB)
    model = repo("a", "b")
    plan = model.sync(SWAP_AB, delete_undeclared=False)
    watch = SwapWatch(existing, SWAP_AB)
    recorded = [key for op in plan.operations for key in watch.follow(op)]
    assert recorded == [cycle.arrangement(after=True)]
    assert cycle.arrangement(after=True) != cycle.arrangement(after=False)


def test_swap_memory_keys_are_stable_across_releases() -> None:
    """These keys are stored as effects (`label-swap:…`, `label-swap-synced:…`): an
    upgraded ghapp must read the ones an older one wrote, or it would swap names back.
    A key ignores case and the order of its pairs."""
    arrangement = "b7e2db32d018977eb011883bc6d0e603"
    assert arrangement_key([(1, "b"), (2, "a")]) == arrangement
    assert arrangement_key([(2, "A"), (1, "B")]) == arrangement
    signature = "967a6b5af58ae5fc88da56e2a86bc99c"
    assert swap_signature([("a", "b"), ("b", "a")]) == signature
    assert swap_signature([("B", "A"), ("A", "B")]) == signature
    assert RenameCycle(((1, "a", "b"), (2, "b", "a"))).signature == signature


THREE_SWAP = [D("d", "b"), D("a", "d"), D("b", "a")]  # a's label → b, b's → d, d's → a


@pytest.mark.parametrize("stop_after", [1, 2, 3])
def test_a_three_name_swap_stopped_anywhere_is_finished_by_the_next_sync(
    stop_after: int,
) -> None:
    model = repo("a", "b", "d")
    model.sync(THREE_SWAP, delete_undeclared=False, stop_after=stop_after)
    model.sync(THREE_SWAP, delete_undeclared=False)
    assert held(model) == {1: "b", 2: "d", 3: "a"}
    assert {number: model.issue_labels(number) for number in model.issues} == {
        1: {"b"},
        2: {"d"},
        3: {"a"},
    }


def test_a_half_done_swap_takes_its_own_name_not_another_declared_one() -> None:
    """`a` also lists `old`, a label declared in its own right: finishing the swap moves the
    parked label to `b`, and `old` stays."""
    declared = [D("a", "old", "b"), D("b", "a"), D("old")]
    model = repo("a", "b", "old")
    model.sync(declared, delete_undeclared=False, stop_after=1)
    model.sync(declared, delete_undeclared=False)
    assert held(model) == {1: "b", 2: "a", 3: "old"}


def test_a_half_done_swap_keeps_the_swapped_label_and_merges_a_plain_old_name() -> None:
    declared = [D("a", "b"), D("b", "a", "old")]
    model = repo("old", "a", "b")
    model.sync(declared, delete_undeclared=False, stop_after=1)
    model.sync(declared, delete_undeclared=False)
    assert held(model) == {2: "b", 3: "a"}
    assert model.issue_labels(1) == {"b"}, "the issue labelled `old` now has `b`"


@pytest.mark.parametrize(
    ("names", "declared", "after"),
    [
        pytest.param(
            ["a", "old"],
            [D("old"), D("d", "a", "old")],
            {1: "d", 2: "old"},
            id="a plain old name is taken before another declared label's name",
        ),
        pytest.param(
            ["a"],
            [D("c", "d", "a"), D("a")],
            {1: "c", 2: "a"},
            id="a chain link listed after a plain old name that does not exist",
        ),
        pytest.param(
            ["b"],
            [D("d", "a", "b"), D("a"), D("b")],
            {1: "d", 2: "a", 3: "b"},
            id="a chain link listed after one whose label does not exist",
        ),
        pytest.param(
            ["b", "old"],
            [D("old", delete=True), D("c")],
            {1: "b", 3: "c"},
            id="a label marked delete is deleted, not turned into another",
        ),
    ],
)
def test_which_label_becomes_which_after_one_sync(
    names: list[str], declared: list[DeclaredLabel], after: dict[int, str]
) -> None:
    model = repo(*names)
    model.sync(declared, delete_undeclared=False)
    assert held(model) == after
