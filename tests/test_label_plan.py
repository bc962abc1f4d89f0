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
    Update,
    plan_label_changes,
)


def E(name: str, color: str = "000000", description: str | None = "") -> ExistingLabel:
    return ExistingLabel(name, color, description)


def D(name: str, color: str = "000000", description: str = "", *aliases: str) -> DeclaredLabel:
    return DeclaredLabel(name=name, color=color, description=description, aliases=list(aliases))


@dataclass
class Case:
    id: str
    existing: list[ExistingLabel]
    declared: list[DeclaredLabel]
    operations: list[LabelOperation]
    delete_undeclared: bool = False
    conflicts: list[str] = field(default_factory=list)  # substrings, one per conflict
    kept: list[str] = field(default_factory=list)


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
    Case("already in sync", [E("bug", "D73A4A", None)], [D("bug", "#d73a4a")], []),
    Case(
        "update color",
        [E("bug", "ffffff", "x")],
        [D("bug", "d73a4a", "x")],
        [Update("bug", "d73a4a", "x", "ffffff", "x")],
    ),
    Case(
        "update description",
        [E("bug", "d73a4a", None)],
        [D("bug", "d73a4a", "Something is broken")],
        [Update("bug", "d73a4a", "Something is broken", "d73a4a", "")],
    ),
    Case(
        "case-only change is one PATCH, never delete and create",
        [E("bug", "ffffff")],
        [D("Bug", "d73a4a")],
        [Rename("bug", "Bug", "d73a4a", "")],
    ),
    Case(
        "alias renamed, keeping its issues",
        [E("defect", "ffffff")],
        [D("bug", "d73a4a", "", "defect")],
        [Rename("defect", "bug", "d73a4a", "")],
    ),
    Case(
        "alias matched case-insensitively",
        [E("DEFECT")],
        [D("bug", "000000", "", "defect")],
        [Rename("DEFECT", "bug", "000000", "")],
    ),
    Case(
        "two aliases present: first in declared order is renamed, the other merged",
        [E("error"), E("defect")],
        [D("bug", "000000", "", "defect", "error")],
        [Rename("defect", "bug", "000000", ""), Merge("error", "bug")],
    ),
    Case(
        "exact name and alias present: alias merged into the exact one",
        [E("defect"), E("bug", "ffffff")],
        [D("bug", "d73a4a", "", "defect")],
        [Update("bug", "d73a4a", "", "ffffff", ""), Merge("defect", "bug")],
    ),
    Case(
        "rename chain: b becomes c before a becomes b",
        [E("a", "111111"), E("b", "222222")],
        [D("b", "111111", "", "a"), D("c", "222222", "", "b")],
        [Rename("b", "c", "222222", ""), Rename("a", "b", "111111", "")],
    ),
    Case(
        "longer chain declared in the worst order",
        [E("a"), E("b"), E("c")],
        [D("b", "000000", "", "a"), D("c", "000000", "", "b"), D("d", "000000", "", "c")],
        [
            Rename("c", "d", "000000", ""),
            Rename("b", "c", "000000", ""),
            Rename("a", "b", "000000", ""),
        ],
    ),
    Case(
        "swapped names go through a temporary name",
        [E("a", "111111"), E("b", "222222")],
        [D("a", "222222", "", "b"), D("b", "111111", "", "a")],
        [
            Rename("a", "ghapp-tmp-a", "111111", "", temporary=True),
            Rename("b", "a", "222222", ""),
            Rename("ghapp-tmp-a", "b", "111111", ""),
        ],
    ),
    Case(
        "swap uses the other temporary name when one is taken by a kept label",
        [E("a", "111111"), E("b", "222222"), E("ghapp-tmp-a")],
        [D("a", "222222", "", "b"), D("b", "111111", "", "a")],
        [
            Rename("b", "ghapp-tmp-b", "222222", "", temporary=True),
            Rename("a", "b", "111111", ""),
            Rename("ghapp-tmp-b", "a", "222222", ""),
        ],
        kept=["ghapp-tmp-a"],
    ),
    Case(
        "an undeclared label holding the temporary name is deleted first when allowed",
        [E("a", "111111"), E("b", "222222"), E("ghapp-tmp-a")],
        [D("a", "222222", "", "b"), D("b", "111111", "", "a")],
        [
            Delete("ghapp-tmp-a"),
            Rename("a", "ghapp-tmp-a", "111111", "", temporary=True),
            Rename("b", "a", "222222", ""),
            Rename("ghapp-tmp-a", "b", "111111", ""),
        ],
        delete_undeclared=True,
    ),
    Case(
        "conflict when the names needed are held by undeclared labels that are kept",
        [E("a"), E("b"), E("ghapp-tmp-a"), E("ghapp-tmp-b")],
        [D("a", "000000", "", "b"), D("b", "000000", "", "a")],
        [],
        conflicts=[
            "`b` was not renamed to `a`: `a` holds that name and could not be moved aside, "
            "because its temporary name `ghapp-tmp-a` is taken",
            "`a` was not renamed to `b`: `b` holds that name",
        ],
        kept=["ghapp-tmp-a", "ghapp-tmp-b"],
    ),
    Case(
        "a merge source holding a declared name is moved aside to break the cycle",
        [E("x"), E("d"), E("y")],
        # d's old names are x then y; y's old name is d: d must leave its name for x.
        [D("d", "000000", "", "x", "y"), D("y", "000000", "", "d")],
        [
            Rename("d", "ghapp-tmp-d", "000000", "", temporary=True),
            Rename("x", "d", "000000", ""),
            Merge("y", "d"),
            Rename("ghapp-tmp-d", "y", "000000", ""),
        ],
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
        [Rename("defect", "bug", "000000", ""), Create("docs", "000000", ""), Delete("question")],
        delete_undeclared=True,
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
            Rename("Docs", "docs", "0075ca", ""),
            Rename("enhancement", "feature", "a2eeef", ""),
            Create("bug", "d73a4a", ""),
        ],
        kept=["wontfix"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan(case: Case) -> None:
    plan = plan_label_changes(
        case.existing, case.declared, delete_undeclared=case.delete_undeclared
    )
    assert list(plan.operations) == case.operations
    assert len(plan.conflicts) == len(case.conflicts), plan.conflicts
    for conflict, expected in zip(plan.conflicts, case.conflicts, strict=True):
        assert expected in conflict
    assert list(plan.undeclared_kept) == case.kept
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
        wanted = {label.name for label in declared}
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
