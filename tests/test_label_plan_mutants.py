"""What the mutation run of `ghapp/skills/label_sync/plan.py` left open, as behaviour.

docs/testing.md ("Mutation testing") keeps the score and the equivalent mutants.
"""

from __future__ import annotations

from ghapp.skills.label_sync.options import DeclaredLabel
from ghapp.skills.label_sync.plan import (
    ExistingLabel,
    Rename,
    RenameCycle,
    plan_label_changes,
)

# 40 characters: `ghapp-tmp-` and either name is cut to the same 50-character temporary name.
LONG = "needs-triage-by-the-platform-team-before"
ONE, TWO = f"{LONG}-one", f"{LONG}-two"
PARKED = f"ghapp-tmp-{LONG}"


def test_two_labels_are_never_parked_under_one_temporary_name() -> None:
    """The planner is told a swap of `…-one` and `…-two` is due, while the declaration
    also makes `…-one` wait for `…-two` (a chain link): `…-two` is parked, and `…-one`
    cannot be parked too, its temporary name being the same. The plan says so instead of
    asking GitHub to give two labels one name (a 422 half way through the sync)."""
    existing = [ExistingLabel(ONE, "000000", "", 1), ExistingLabel(TWO, "000000", "", 2)]
    declared = [DeclaredLabel(name=TWO), DeclaredLabel(name=ONE, aliases=[TWO])]
    due = [RenameCycle(((1, ONE, TWO), (2, TWO, ONE)))]
    plan = plan_label_changes(existing, declared, delete_undeclared=False, due_swaps=due)
    assert plan.operations == (Rename(TWO, PARKED, temporary=True), Rename(ONE, TWO))
    assert plan.conflicts == (
        f"`{PARKED}` was not renamed to `{ONE}`: `{ONE}` holds that name and could not be "
        f"moved aside, because its temporary name `{PARKED}` is taken. "
        f"Rename or delete `{PARKED}`.",
    )
    parked = [op.new for op in plan.operations if isinstance(op, Rename) and op.temporary]
    assert len(parked) == len(set(parked))
