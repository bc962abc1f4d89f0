"""The label plan as people read it, word for word (`ghapp/skills/label_sync/operations.py`).

A `--dry-run` reply and the check run on a pull request that changes `.github/ghapp.yml`
show `LabelPlan.render_markdown()`; the settings page's preview lists
`describe_operation` for each change. The mutation run of that module found parts of the
text no test read (the default-color wording, the swap note, the conflicts heading, where
the list of kept labels is cut), so these tests hold whole texts. docs/testing.md
("Mutation testing") keeps the score.
"""

from __future__ import annotations

import pytest

from ghapp.skills.label_sync.matching import RenameCycle
from ghapp.skills.label_sync.operations import (
    Create,
    Delete,
    LabelPlan,
    Merge,
    Rename,
    Update,
    describe_operation,
)

EVERY_KIND = (
    Create("bug", "d73a4a", "Something is broken"),
    Create("triage"),
    Rename("defect", "kind:bug", "d73a4a", "Broken"),
    Rename("docs", "Docs"),
    Rename("a", "ghapp-tmp-a", temporary=True),
    Update("docs", None, "", "0075ca", "old"),
    Merge("error", "bug"),
    Delete("question"),
)


def test_a_whole_plan_reads_as_written() -> None:
    plan = LabelPlan(
        operations=EVERY_KIND,
        conflicts=("`x` was not renamed to `y`: `y` holds that name.",),
        undeclared_kept=("wontfix", "help wanted"),
        swaps=(RenameCycle(((1, "a", "b"), (2, "b", "a"))),),
    )
    assert plan.render_markdown() == (
        "**Label plan:** 2 to create, 3 to rename, 1 to update, **1 to merge**, "
        "**1 to delete**.\n"
        "\n"
        "1. Create `bug` (color `#d73a4a`, description “Something is broken”)\n"
        "2. Create `triage` (GitHub's default color)\n"
        "3. Rename `defect` → `kind:bug` (its issues keep it); color `#d73a4a`; "
        "description “Broken”\n"
        "4. Rename `docs` → `Docs` (its issues keep it)\n"
        "5. Rename `a` → `ghapp-tmp-a` (a temporary name, so names can swap)\n"
        "6. Update `docs`: no description\n"
        "7. **Merge** `error` into `bug` (its issues get `bug`, then `error` is deleted)\n"
        "8. **Delete** `question`\n"
        "\n"
        "Swapped names are applied once: later syncs of the same file leave them.\n"
        "\n"
        "**Not applied, because it would clobber another label:**\n"
        "- `x` was not renamed to `y`: `y` holds that name.\n"
        "\n"
        "Kept 2 label(s) not declared (`delete_undeclared` is off): `wontfix`, `help wanted`.\n"
    )


def test_an_empty_plan_says_there_is_nothing_to_change() -> None:
    assert LabelPlan().render_markdown() == (
        "Labels already match the declaration; nothing to change.\n"
    )


def test_a_plan_with_only_a_conflict_shows_it_under_its_heading() -> None:
    plan = LabelPlan(conflicts=("`b` was not created: `b` holds that name.",))
    assert plan.render_markdown() == (
        "Labels already match the declaration; nothing to change.\n"
        "\n"
        "**Not applied, because it would clobber another label:**\n"
        "- `b` was not created: `b` holds that name.\n"
    )


@pytest.mark.parametrize(
    ("kept", "ending"),
    [
        (30, "`l28`, `l29`."),
        (31, "`l28`, `l29` and 1 more."),
        (32, "`l28`, `l29` and 2 more."),
    ],
)
def test_the_kept_labels_are_named_up_to_thirty(kept: int, ending: str) -> None:
    text = LabelPlan(undeclared_kept=tuple(f"l{i}" for i in range(kept))).render_markdown()
    last = text.splitlines()[-1]
    assert last.startswith(f"Kept {kept} label(s) not declared (`delete_undeclared` is off): ")
    assert last.endswith(ending)
    assert "`l30`" not in last


@pytest.mark.parametrize("op", EVERY_KIND, ids=lambda op: type(op).__name__)
def test_the_preview_describes_each_change_as_the_plan_lists_it(
    op: Create | Rename | Update | Merge | Delete,
) -> None:
    listed = LabelPlan(operations=(op,)).render_markdown().splitlines()[2]
    assert listed == f"1. {describe_operation(op)}"
