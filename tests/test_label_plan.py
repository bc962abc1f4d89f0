"""The label plan as a table: existing labels and declarations in, ordered operations out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghapp.skills.label_sync.options import DeclaredLabel
from ghapp.skills.label_sync.plan import (
    Create,
    Delete,
    ExistingLabel,
    LabelOperation,
    LabelPlan,
    Merge,
    Rename,
    RenameCycle,
    Update,
    plan_label_changes,
)


def E(
    name: str, color: str = "000000", description: str | None = "", id: int | None = None
) -> ExistingLabel:
    return ExistingLabel(name, color, description, id)


def D(
    name: str, color: str | None = "000000", description: str | None = "", *aliases: str
) -> DeclaredLabel:
    """A declared label; a color or description of None is left out of the entry."""
    fields = {"color": color, "description": description}
    given = {key: value for key, value in fields.items() if value is not None}
    return DeclaredLabel(name=name, aliases=list(aliases), **given)


def Gone(name: str, *aliases: str) -> DeclaredLabel:
    """A label marked `delete: true` (github-label-sync's flag)."""
    return DeclaredLabel(name=name, aliases=list(aliases), delete=True)


SWAP = [D("a", "222222", "", "b"), D("b", "111111", "", "a")]


@dataclass
class Case:
    id: str
    existing: list[ExistingLabel]
    declared: list[DeclaredLabel]
    operations: list[LabelOperation]
    delete_undeclared: bool = False
    conflicts: list[str] = field(default_factory=list)  # substrings, one per conflict
    kept: list[str] = field(default_factory=list)
    due: list[RenameCycle] = field(default_factory=list)
    swaps: list[RenameCycle] | None = None  # the due swaps the plan carries out; None: all


NOT_DECLARED = (
    "holds that name and is not declared. Declare it (or list it as an alias), rename it, "
    "or set `delete_undeclared: true`."
)
SWAP_A_C = RenameCycle(((1, "a", "c"), (2, "c", "a")))

CASES = [
    Case("empty config, nothing exists", [], [], []),
    Case(
        "empty config keeps everything", [E("bug"), E("wontfix")], [], [], kept=["bug", "wontfix"]
    ),
    Case(
        "empty config with delete_undeclared deletes everything, by name",
        [E("wontfix"), E("Bug")],
        [],
        [Delete("Bug"), Delete("wontfix")],
        delete_undeclared=True,
    ),
    Case(
        "create only",
        [],
        [D("bug", "d73a4a", "Something is broken"), D("docs", "0075ca")],
        [Create("bug", "d73a4a", "Something is broken"), Create("docs", "0075ca", "")],
    ),
    Case(
        "create without color or description leaves both to GitHub",
        [],
        [D("bug", None, None)],
        [Create("bug")],
    ),
    Case("already in sync", [E("bug", "D73A4A", None)], [D("bug", "#d73a4a")], []),
    Case(
        "update color only: the description is not sent",
        [E("bug", "ffffff", "x")],
        [D("bug", "d73a4a", "x")],
        [Update("bug", "d73a4a", None, "ffffff", "x")],
    ),
    Case(
        "update description only",
        [E("bug", "d73a4a", None)],
        [D("bug", "d73a4a", "Something is broken")],
        [Update("bug", None, "Something is broken", "d73a4a", "")],
    ),
    Case(
        "no description declared: the current one is kept",
        [E("bug", "d73a4a", "Something isn't working")],
        [D("bug", "d73a4a", None)],
        [],
    ),
    Case(
        "an empty description declared clears it",
        [E("bug", "d73a4a", "Something isn't working")],
        [D("bug", "d73a4a", "")],
        [Update("bug", None, "", "d73a4a", "Something isn't working")],
    ),
    Case(
        "no color declared: the current one is kept, also through a rename",
        [E("bug", "d73a4a"), E("defect", "ee0701", "old")],
        [D("bug", None, None), D("kind:bug", None, "Broken", "defect")],
        [Rename("defect", "kind:bug", None, "Broken")],
    ),
    Case(
        "case-only change is one PATCH, never delete and create",
        [E("bug", "ffffff")],
        [D("Bug", "d73a4a")],
        [Rename("bug", "Bug", "d73a4a")],
    ),
    Case(
        "alias renamed, keeping its issues",
        [E("defect", "ffffff")],
        [D("bug", "d73a4a", "", "defect")],
        [Rename("defect", "bug", "d73a4a")],
    ),
    Case(
        "alias matched case-insensitively",
        [E("DEFECT")],
        [D("bug", "000000", "", "defect")],
        [Rename("DEFECT", "bug")],
    ),
    Case(
        "two aliases present: the first in the repository's order is renamed, the other merged",
        [E("error"), E("defect")],
        [D("bug", "000000", "", "defect", "error")],
        [Rename("error", "bug"), Merge("defect", "bug")],
    ),
    Case(
        "exact name and alias present: alias merged into the exact one",
        [E("defect"), E("bug", "ffffff")],
        [D("bug", "d73a4a", "", "defect")],
        [Update("bug", "d73a4a", None, "ffffff", ""), Merge("defect", "bug")],
    ),
    Case(
        "an alias naming another declared label moves it only while its own name is missing",
        [E("b", "222222")],
        [D("a", "111111", "", "b"), D("b", "222222")],
        [Rename("b", "a", "111111"), Create("b", "222222", "")],
    ),
    Case(
        "... and once both exist, nothing moves (issue 21's minimal case)",
        [E("a", "111111"), E("b", "222222")],
        [D("a", "111111", "", "b"), D("b", "222222")],
        [],
    ),
    Case(
        "rename chain: b becomes c before a becomes b",
        [E("a", "111111"), E("b", "222222")],
        [D("b", "111111", "", "a"), D("c", "222222", "", "b")],
        [Rename("b", "c"), Rename("a", "b")],
    ),
    Case(
        "an applied chain settles: its names all exist",
        [E("b", "111111"), E("c", "222222")],
        [D("b", "111111", "", "a"), D("c", "222222", "", "b")],
        [],
    ),
    Case(
        "a chain link stops where a name exists: only the missing end moves",
        [E("a"), E("b"), E("c")],
        [D("b", "000000", "", "a"), D("c", "000000", "", "b"), D("d", "000000", "", "c")],
        [Rename("c", "d"), Rename("b", "c"), Rename("a", "b")],
    ),
    Case(
        "with the far end there too, the chain shifts along to the missing name",
        [E("a"), E("b"), E("c"), E("d")],
        [D("b", "000000", "", "a"), D("c", "000000", "", "b"), D("e", "000000", "", "d")],
        [Merge("a", "b"), Rename("d", "e")],
    ),
    Case(
        "longer chain declared in the worst order",
        [E("b"), E("c")],
        [D("c", "000000", "", "b"), D("b", "000000", "", "a"), D("d", "000000", "", "c")],
        [Rename("c", "d"), Rename("b", "c"), Create("b", "000000", "")],
    ),
    Case(
        # Filled first, a sync stopped in between would look like an unapplied link a→b.
        "a chain's old name is filled only once the label that had it exists",
        [E("a")],
        [D("b", "000000", "", "a"), D("c", "000000", "", "b")],
        [Create("c", "000000", ""), Rename("a", "b")],
    ),
    Case(
        "a chain whose old end is gone creates the freed name",
        [E("b")],
        [D("b", "000000", "", "a"), D("c", "000000", "", "b")],
        [Rename("b", "c"), Create("b", "000000", "")],
    ),
    Case(
        "a swap that is not due is taken as applied: nothing moves",
        [E("a", "222222", id=1), E("b", "111111", id=2)],
        SWAP,
        [],
    ),
    Case(
        "a due swap goes through a temporary name",
        [E("a", "111111", id=1), E("b", "222222", id=2)],
        SWAP,
        [
            Rename("a", "ghapp-tmp-a", temporary=True),
            Rename("b", "a"),
            Rename("ghapp-tmp-a", "b"),
        ],
        due=[RenameCycle(((1, "a", "b"), (2, "b", "a")))],
    ),
    Case(
        "a due swap after a color change sends the new colors with the renames",
        [E("a", "ffffff", id=1), E("b", "ffffff", id=2)],
        SWAP,
        [
            Rename("a", "ghapp-tmp-a", temporary=True),
            Rename("b", "a", "222222"),
            Rename("ghapp-tmp-a", "b", "111111"),
        ],
        due=[RenameCycle(((1, "a", "b"), (2, "b", "a")))],
    ),
    Case(
        "a swap stopped after parking `a` is finished without being due",
        [E("ghapp-tmp-a", "111111"), E("b", "222222")],
        SWAP,
        [Rename("b", "a"), Rename("ghapp-tmp-a", "b")],
    ),
    Case(
        "a swap stopped after `b` took `a` is finished without being due",
        [E("ghapp-tmp-a", "111111"), E("a", "222222")],
        SWAP,
        [Rename("ghapp-tmp-a", "b")],
    ),
    Case(
        "an undeclared label holding the temporary name is deleted first when allowed",
        [E("a", "111111", id=1), E("b", "222222", id=2), E("ghapp-tmp-a", id=3)],
        SWAP,
        [
            Delete("ghapp-tmp-a"),
            Rename("a", "ghapp-tmp-a", temporary=True),
            Rename("b", "a"),
            Rename("ghapp-tmp-a", "b"),
        ],
        delete_undeclared=True,
        due=[RenameCycle(((1, "a", "b"), (2, "b", "a")))],
    ),
    Case(
        "conflict when the temporary names needed are held by labels that are kept",
        [E("a", id=1), E("b", id=2), E("ghapp-tmp-a"), E("ghapp-tmp-b")],
        [D("a", "000000", "", "b"), D("b", "000000", "", "a"), D("ghapp-tmp-a"), D("ghapp-tmp-b")],
        [],
        conflicts=[
            "`b` was not renamed to `a`: `a` holds that name and could not be moved aside, "
            "because its temporary name `ghapp-tmp-a` is taken",
            "`a` was not renamed to `b`: `b` holds that name",
        ],
        due=[RenameCycle(((1, "a", "b"), (2, "b", "a")))],
        swaps=[],
    ),
    Case(
        "a kept undeclared label holding one temporary name: the other side is parked",
        [E("a", "111111", id=1), E("b", "222222", id=2), E("ghapp-tmp-a", id=3)],
        SWAP,
        [
            Rename("b", "ghapp-tmp-b", temporary=True),
            Rename("a", "b"),
            Rename("ghapp-tmp-b", "a"),
        ],
        kept=["ghapp-tmp-a"],
        due=[RenameCycle(((1, "a", "b"), (2, "b", "a")))],
    ),
    Case(
        "a due swap whose other name is not declared stops at the label holding it",
        [E("a", id=1), E("c", id=2)],
        [D("c", "000000", "", "a")],
        [],
        conflicts=[f"`a` was not renamed to `c`: `c` {NOT_DECLARED}"],
        kept=["c"],
        due=[SWAP_A_C],
        swaps=[],
    ),
    Case(
        "... and with delete_undeclared, that label is deleted first to free the name",
        [E("a", id=1), E("c", id=2)],
        [D("c", "000000", "", "a")],
        [Delete("c"), Rename("a", "c")],
        delete_undeclared=True,
        due=[SWAP_A_C],
        swaps=[],
    ),
    Case(
        # Labels named with the reserved temporary prefix: today's answer, each conflict
        # naming the label, the name and why.
        "a create stopped by a label that cannot be moved aside says so",
        [E("b", id=1), E("ghapp-tmp-b", id=2), E("d", id=3)],
        [D("b"), D("ghapp-tmp-a", "000000", "", "b"), D("d", "000000", "", "c", "ghapp-tmp-a")],
        [Rename("b", "ghapp-tmp-a")],
        conflicts=[
            "`b` was not created: `b` holds that name and could not be moved aside, because "
            "its temporary name `ghapp-tmp-b` is taken. Rename or delete `ghapp-tmp-b`.",
            f"`ghapp-tmp-b` was not renamed to `d`: `d` {NOT_DECLARED}",
        ],
        kept=["d"],
        due=[RenameCycle(((3, "d", "ghapp-tmp-b"), (2, "ghapp-tmp-b", "d")))],
        swaps=[],
    ),
    Case(
        "a merge whose target could not be made is not done, and says why",
        [E("a", id=1), E("ghapp-tmp-b", id=2), E("d", id=3)],
        [D("ghapp-tmp-b", "000000", "", "a", "c", "d")],
        [],
        conflicts=[
            f"`d` was not renamed to `ghapp-tmp-b`: `ghapp-tmp-b` {NOT_DECLARED}",
            "`a` was not merged into `ghapp-tmp-b`, because `ghapp-tmp-b` could not be "
            "created or renamed.",
        ],
        kept=["ghapp-tmp-b"],
        due=[RenameCycle(((2, "ghapp-tmp-b", "d"), (3, "d", "ghapp-tmp-b")))],
        swaps=[],
    ),
    Case(
        "the temporary name is freed by deleting an undeclared label, when allowed",
        [E("a", id=1), E("b", id=2), E("ghapp-tmp-a", id=3)],
        [D("a", "000000", "", "b"), D("b", "000000", "", "a"), D("ghapp-tmp-a")],
        [
            Rename("b", "ghapp-tmp-b", temporary=True),
            Rename("a", "b"),
            Rename("ghapp-tmp-b", "a"),
        ],
        due=[RenameCycle(((1, "a", "b"), (2, "b", "a")))],
    ),
    Case(
        "undeclared labels are kept in name order, whatever their case",
        [E("bug"), E("Zeta"), E("alpha")],
        [D("bug")],
        [],
        kept=["alpha", "Zeta"],
    ),
    Case(
        "undeclared kept",
        [E("bug"), E("question")],
        [D("bug")],
        [],
        kept=["question"],
    ),
    Case(
        "undeclared deleted, after everything else",
        [E("question"), E("defect")],
        [D("bug", "000000", "", "defect"), D("docs")],
        [Rename("defect", "bug"), Create("docs", "000000", ""), Delete("question")],
        delete_undeclared=True,
    ),
    Case(
        "`delete: true` deletes that label and its aliases while other undeclared labels stay",
        [E("wontfix"), E("invalid"), E("question"), E("bug")],
        [D("bug"), Gone("wontfix", "invalid", "duplicate")],
        [Delete("invalid"), Delete("wontfix")],
        kept=["question"],
    ),
    Case(
        "`delete: true` of a label that does not exist plans nothing",
        [E("bug")],
        [D("bug"), Gone("wontfix")],
        [],
    ),
    Case(
        "mixed plan in declared order",
        [E("wontfix"), E("enhancement", "a2eeef"), E("Docs", "0075ca")],
        [
            D("docs", "0075ca", "", "documentation"),
            D("feature", "a2eeef", "", "enhancement"),
            D("bug", "d73a4a"),
        ],
        [
            Rename("Docs", "docs"),
            Rename("enhancement", "feature"),
            Create("bug", "d73a4a", ""),
        ],
        kept=["wontfix"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan(case: Case) -> None:
    plan = plan_label_changes(
        case.existing, case.declared, delete_undeclared=case.delete_undeclared, due_swaps=case.due
    )
    assert list(plan.operations) == case.operations
    assert len(plan.conflicts) == len(case.conflicts), plan.conflicts
    for conflict, expected in zip(plan.conflicts, case.conflicts, strict=True):
        assert expected in conflict
    assert list(plan.undeclared_kept) == case.kept
    assert list(plan.swaps) == (case.due if case.swaps is None else case.swaps)
    assert plan.is_empty == (not case.operations)


def replay(existing: list[ExistingLabel], declared: list[DeclaredLabel], plan: LabelPlan) -> None:
    """Apply `plan` to a model of the repository: no request may hit a taken name, and
    without conflicts the repository ends with exactly the declared and kept labels."""
    names = {label.name.casefold(): label.name for label in existing}
    for op in plan.operations:
        match op:
            case Create(name):
                assert name.casefold() not in names
                names[name.casefold()] = name
            case Rename(old, new):
                assert new.casefold() not in names or new.casefold() == old.casefold()
                del names[old.casefold()]
                names[new.casefold()] = new
            case Update(name):
                assert names[name.casefold()] == name
            case Merge(source, into):
                assert names[into.casefold()] == into
                del names[source.casefold()]
            case Delete(name):
                del names[name.casefold()]
    if not plan.conflicts:
        wanted = {label.name for label in declared if not label.delete}
        assert wanted <= set(names.values())
        assert set(names.values()) - wanted == set(plan.undeclared_kept)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan_never_asks_for_a_taken_name(case: Case) -> None:
    plan = plan_label_changes(
        case.existing, case.declared, delete_undeclared=case.delete_undeclared
    )
    replay(case.existing, case.declared, plan)


_names = st.sampled_from(["a", "B", "b", "c", "ghapp-tmp-a", "ghapp-tmp-b", "d", "E"])


@st.composite
def _inputs(draw: st.DrawFn) -> tuple[list[ExistingLabel], list[DeclaredLabel], bool]:
    existing_names = draw(st.lists(_names, unique_by=str.casefold, max_size=6))
    declared_names = draw(st.lists(_names, unique_by=str.casefold, max_size=5))
    aliases = draw(st.lists(_names, unique_by=str.casefold, max_size=6))
    owners = draw(st.lists(st.integers(0, 4), min_size=len(aliases), max_size=len(aliases)))
    declared = [
        D(name, "000000", "", *(a for a, o in zip(aliases, owners, strict=True) if o == i))
        for i, name in enumerate(declared_names)
    ]
    return [E(name) for name in existing_names], declared, draw(st.booleans())


@given(_inputs())
@settings(max_examples=300, deadline=None)
def test_any_valid_declaration_plans_safely(
    inputs: tuple[list[ExistingLabel], list[DeclaredLabel], bool],
) -> None:
    existing, declared, delete_undeclared = inputs
    plan = plan_label_changes(existing, declared, delete_undeclared=delete_undeclared)
    replay(existing, declared, plan)
    if not delete_undeclared:
        # Only merges may take a label away when deletion is off.
        assert not any(isinstance(op, Delete) for op in plan.operations)


def test_plan_is_deterministic() -> None:
    existing = [E("a"), E("b"), E("z"), E("y")]
    declared = [D("a", "000000", "", "b"), D("b", "000000", "", "a")]
    first = plan_label_changes(existing, declared, delete_undeclared=True)
    assert all(
        plan_label_changes(existing, declared, delete_undeclared=True) == first for _ in range(5)
    )


def test_destructive_count_counts_merges_and_deletions() -> None:
    plan = plan_label_changes(
        [E("error"), E("defect"), E("old")],
        [D("bug", "000000", "", "defect", "error"), D("new")],
        delete_undeclared=True,
    )
    assert plan.destructive_count == 2
    assert plan_label_changes([E("x")], [D("y")], delete_undeclared=False).destructive_count == 0


def test_hundreds_of_labels_plan_quickly() -> None:
    existing = [E(f"label-{i}", "ffffff") for i in range(300)]
    declared = [
        D(f"area:{i}", "000000", "", f"label-{i}") if i % 2 else D(f"label-{i}", "000000")
        for i in range(300)
    ]
    started = time.perf_counter()
    plan = plan_label_changes(existing, declared, delete_undeclared=True)
    elapsed = time.perf_counter() - started
    assert len(plan.operations) == 300
    assert plan.destructive_count == 0
    # Loose: the real budget is 50 ms; CI machines vary.
    assert elapsed < 0.5


def test_markdown_mentions_every_operation() -> None:
    plan = LabelPlan(
        operations=(
            Create("bug", "d73a4a", "Something is broken"),
            Rename("defect", "kind:bug", "d73a4a", ""),
            Rename("a", "ghapp-tmp-a", "000000", "", temporary=True),
            Update("docs", "0075ca", "", "ffffff", "old"),
            Merge("error", "bug"),
            Delete("question"),
        ),
        conflicts=("`x` was not renamed to `y`: `y` holds that name.",),
        undeclared_kept=("wontfix",),
    )
    text = plan.render_markdown()
    for expected in [
        "1 to create",
        "2 to rename",
        "1 to update",
        "**1 to merge**",
        "**1 to delete**",
        "Create `bug` (color `#d73a4a`, description “Something is broken”)",
        "Rename `defect` → `kind:bug`",
        "Rename `a` → `ghapp-tmp-a` (a temporary name",
        "Update `docs`: color `#0075ca`, no description",
        "**Merge** `error` into `bug`",
        "**Delete** `question`",
        "`x` was not renamed to `y`",
        "`wontfix`",
    ]:
        assert expected in text, expected
    numbered = [line for line in text.splitlines() if line[:1].isdigit()]
    assert len(numbered) == 6


def test_markdown_for_an_empty_plan_and_awkward_names() -> None:
    assert "nothing to change" in LabelPlan().render_markdown()
    text = LabelPlan(operations=(Delete("a`b"),)).render_markdown()
    assert "``a`b``" in text
    many = LabelPlan(undeclared_kept=tuple(f"l{i}" for i in range(40))).render_markdown()
    assert "and 10 more" in many
