"""label-sync's decisions from payloads and command words, as tables (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from ghapp.skills.label_sync.issue_labels import (
    LabelNames,
    labels_after_adding,
    labels_after_removing,
    render_label_reply,
    resolve_label_names,
)
from ghapp.skills.label_sync.options import DeclaredLabel
from ghapp.skills.label_sync.plan import Create, Delete, LabelPlan, Merge, Rename
from ghapp.skills.label_sync.swaps import exclusive_swap_for_label_event, is_exclusive
from ghapp.skills.label_sync.triggers import (
    MAX_SUMMARY,
    config_changed_on_default_branch,
    invalid_config_check,
    label_to_restore,
    plan_preview_check,
)
from tests.support.payloads import label_event, push_event

CONFIG = ".github/ghapp.yml"


def _push(
    ref: str,
    *,
    files_changed: tuple[str, ...] = (),
    files_added: tuple[str, ...] = (),
    files_removed: tuple[str, ...] = (),
) -> dict[str, Any]:
    payload = push_event(
        ref, files_changed=files_changed, files_added=files_added, files_removed=files_removed
    )
    payload["repository"]["default_branch"] = "main"
    return payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_push("refs/heads/main", files_changed=(CONFIG,)), True),
        (_push("refs/heads/main", files_added=(CONFIG,)), True),
        (_push("refs/heads/main", files_removed=(CONFIG,)), True),
        (_push("refs/heads/main", files_changed=("README.md",)), False),
        (_push("refs/heads/feature", files_changed=(CONFIG,)), False),
        (_push("refs/tags/v1.0.0", files_changed=(CONFIG,)), False),
        ({**_push("refs/heads/main", files_changed=(CONFIG,)), "deleted": True}, False),
        ({"ref": "refs/heads/main", "commits": []}, False),
    ],
)
def test_config_changed_on_default_branch(payload: dict[str, Any], expected: bool) -> None:
    assert config_changed_on_default_branch(payload) is expected


BUG = DeclaredLabel(name="bug", color="d73a4a", aliases=["defect"])
DOCS = DeclaredLabel(name="docs", color="0075ca")


def _edited(name: str, old_name: str | None) -> dict[str, Any]:
    payload = label_event("edited", name=name)
    payload["changes"] = {"name": {"from": old_name}} if old_name else {"color": {"from": "000"}}
    return payload


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        # Color edited by hand on a declared label: that label.
        ("edited", _edited("bug", None), BUG),
        ("edited", _edited("BUG", None), BUG),
        # Renamed away by hand: the new name becomes an alias so the plan renames it back.
        (
            "edited",
            _edited("kaputt", "bug"),
            BUG.model_copy(update={"aliases": ["defect", "kaputt"]}),
        ),
        # Renamed onto another declared name: not ours to take back.
        ("edited", _edited("docs", "bug"), BUG),
        ("deleted", label_event("deleted", name="bug"), BUG),
        # Labels nobody declared are left alone.
        ("edited", _edited("wontfix", None), None),
        ("deleted", label_event("deleted", name="defect"), None),
        ("created", label_event("created", name="bug"), None),
    ],
)
def test_label_to_restore(
    action: str, payload: dict[str, Any], expected: DeclaredLabel | None
) -> None:
    assert label_to_restore(action, payload, [BUG, DOCS]) == expected


def test_label_to_restore_drops_aliases_that_name_other_declared_labels() -> None:
    """Restoring `c` alone must not take `b` over: with `strict`, a hand edit of the end of
    an applied chain (`c` ← `b` ← `a`) restores `c` and nothing else."""
    chain = [
        DeclaredLabel(name="b", color="111111", aliases=["a"]),
        DeclaredLabel(name="c", color="222222", aliases=["b", "old-c"]),
    ]
    restored = label_to_restore("deleted", label_event("deleted", name="c"), chain)
    assert restored == DeclaredLabel(name="c", color="222222", aliases=["old-c"])
    renamed = label_to_restore("edited", _edited("kaputt", "c"), chain)
    assert renamed is not None and renamed.aliases == ["old-c", "kaputt"]


SCOPES = ["priority"]


@pytest.mark.parametrize(
    ("current", "at_event", "added", "expected"),
    [
        # The usual case: the rival was there before the event, so it goes.
        (
            ["bug", "priority:low", "priority:high"],
            ["bug", "priority:low", "priority:high"],
            "priority:high",
            ["bug", "priority:high"],
        ),
        # The payload is stale (it lacks a label added meanwhile); current labels decide.
        (
            ["bug", "area:ui", "priority:low", "priority:high"],
            ["priority:low", "priority:high"],
            "priority:high",
            ["bug", "area:ui", "priority:high"],
        ),
        # `priority:low` arrived after this event: its own event wins, this one does nothing.
        (["priority:high", "priority:low"], ["priority:high"], "priority:high", None),
        # The label was taken off since: out of date.
        (["priority:low"], ["priority:low", "priority:high"], "priority:high", None),
        # Not an exclusive scope, or nothing to remove.
        (["area:ui", "area:api"], ["area:ui", "area:api"], "area:api", None),
        (["bug", "priority:high"], ["bug", "priority:high"], "priority:high", None),
    ],
)
def test_exclusive_swap_for_label_event(
    current: list[str], at_event: list[str], added: str, expected: list[str] | None
) -> None:
    assert exclusive_swap_for_label_event(current, at_event, added, SCOPES, ":") == expected


def test_is_exclusive() -> None:
    assert is_exclusive("Priority: high", SCOPES, ":")
    assert not is_exclusive("priority", SCOPES, ":")
    assert not is_exclusive("area:ui", SCOPES, ":")


REPO_LABELS = ["bug", "good first issue", "priority:high", "priority:low", "documentation"]


@pytest.mark.parametrize(
    ("words", "found", "unknown"),
    [
        (["BUG"], ("bug",), ()),
        (["good first issue"], ("good first issue",), ()),
        # Unquoted names with spaces still resolve, longest first.
        (["good", "first", "issue", "bug"], ("good first issue", "bug"), ()),
        (["bug", "bug"], ("bug",), ()),
        (["bgu"], (), (("bgu", ("bug",)),)),
        (["documentaton", "zzz"], (), (("documentaton", ("documentation",)), ("zzz", ()))),
    ],
)
def test_resolve_label_names(
    words: list[str], found: tuple[str, ...], unknown: tuple[tuple[str, tuple[str, ...]], ...]
) -> None:
    assert resolve_label_names(words, REPO_LABELS) == LabelNames(found, unknown)


def test_adding_honours_exclusive_scopes_and_removing_ignores_case() -> None:
    assert labels_after_adding(["bug", "priority:low"], ["priority:high"], SCOPES, ":") == [
        "bug",
        "priority:high",
    ]
    assert labels_after_adding(["bug"], ["bug", "docs"], SCOPES, ":") == ["bug", "docs"]
    assert labels_after_removing(["Bug", "docs"], ["bug"]) == ["docs"]


def test_label_reply_says_what_happened() -> None:
    asked = resolve_label_names(["priority:high", "bug", "bgu"], REPO_LABELS)
    reply = render_label_reply(
        adding=True,
        before=["bug", "priority:low"],
        after=["bug", "priority:high"],
        asked=asked,
    )
    assert reply.splitlines() == [
        "Added `priority:high`.",
        "Removed `priority:low`: only one label of a scope stays.",
        "Already there: `bug`.",
        "This repository has no label `bgu`. Did you mean `bug`?",
    ]
    removed = render_label_reply(
        adding=False,
        before=["bug"],
        after=[],
        asked=resolve_label_names(["bug", "documentation"], REPO_LABELS),
        thing="pull request",
    )
    assert removed.splitlines() == [
        "Removed `bug`.",
        "Not on this pull request, so nothing to remove: `documentation`.",
    ]


def test_preview_check_flags_destructive_plans() -> None:
    quiet = plan_preview_check(LabelPlan((Create("bug", "d73a4a", ""),)))
    assert (quiet.conclusion, quiet.title) == ("success", "1 label change(s) on merge")
    loud = plan_preview_check(
        LabelPlan((Rename("defect", "bug", "d73a4a", ""), Merge("Bug2", "bug"), Delete("x")))
    )
    assert loud.conclusion == "neutral"
    assert loud.title == "3 label change(s) on merge, 2 removing a label from issues"
    assert "**Delete** `x`" in loud.summary
    assert plan_preview_check(LabelPlan()).title == "No label changes"


def test_invalid_config_check_fails_with_reasons_and_fits_github_limit() -> None:
    check = invalid_config_check(["label-sync.labels.0.color: bad", "x" * 70_000])
    assert check.conclusion == "failure"
    assert "- label-sync.labels.0.color: bad" in check.summary
    assert len(check.summary) <= MAX_SUMMARY
