"""Exclusive scopes, status swaps and the lifecycle events that drive them, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from ghapp.skills.label_sync.swaps import (
    LifecycleEvent,
    apply_exclusive,
    lifecycle_event,
    scope_of,
    status_swap,
)


@pytest.mark.parametrize(
    ("label", "separator", "scope"),
    [
        ("priority:high", ":", "priority"),
        ("priority: high", ":", "priority"),
        ("area/ui/button", "/", "area"),
        ("bug", ":", None),
        ("priority:", ":", None),
        (":high", ":", None),
        ("priority:high", "/", None),
        ("priority:high", "", None),
    ],
)
def test_scope_of(label: str, separator: str, scope: str | None) -> None:
    assert scope_of(label, separator) == scope


EXCLUSIVE = ["priority", "Status"]


@pytest.mark.parametrize(
    ("current", "added", "expected"),
    [
        # Adding a scoped label removes its rivals, keeping everything else in order.
        (["bug", "priority:low", "area:ui"], "priority:high", ["bug", "area:ui", "priority:high"]),
        # The label event already put it on the issue: rivals go, its position stays.
        (["priority:low", "priority:high", "bug"], "priority:high", ["priority:high", "bug"]),
        # Case-insensitive scopes and names; the spelling is kept.
        (["PRIORITY:low", "Priority:High"], "priority:high", ["Priority:High"]),
        (["status:open"], "STATUS:done", ["STATUS:done"]),
        # No-ops.
        (["bug", "priority:high"], "priority:high", None),
        (["bug", "Priority:High"], "priority:high", None),
        # Scopes not listed are not exclusive: adding just adds.
        (["area:ui"], "area:api", ["area:ui", "area:api"]),
        (["area:ui", "area:api"], "area:api", None),
        ([], "bug", ["bug"]),
    ],
)
def test_apply_exclusive(current: list[str], added: str, expected: list[str] | None) -> None:
    assert apply_exclusive(current, added, EXCLUSIVE, ":") == expected


def test_apply_exclusive_with_another_separator() -> None:
    assert apply_exclusive(["priority/low", "priority:x"], "priority/high", EXCLUSIVE, "/") == [
        "priority:x",
        "priority/high",
    ]


STATUS = ["status:in-progress", "status:done", "wontfix"]


@pytest.mark.parametrize(
    ("current", "status", "exclusive", "expected"),
    [
        (["bug", "status:in-progress"], "status:done", [], ["bug", "status:done"]),
        # Status labels outside any scope are swapped too.
        (["wontfix", "bug"], "status:done", [], ["bug", "status:done"]),
        (["Status:Done", "bug"], "status:done", [], None),
        (["bug"], "status:done", [], ["bug", "status:done"]),
        # The exclusive rule applies on top: an unconfigured label of the scope goes as well.
        (["status:triage", "bug"], "status:done", ["status"], ["bug", "status:done"]),
        (["status:triage", "bug"], "status:done", [], ["status:triage", "bug", "status:done"]),
        (["status:done", "status:in-progress"], "status:done", [], ["status:done"]),
    ],
)
def test_status_swap(
    current: list[str], status: str, exclusive: list[str], expected: list[str] | None
) -> None:
    assert status_swap(current, status, STATUS, exclusive, ":") == expected


@pytest.mark.parametrize(
    ("event", "action", "payload", "expected"),
    [
        ("issues", "opened", {}, "issue_opened"),
        ("issues", "assigned", {}, "issue_assigned"),
        ("issues", "closed", {"issue": {"state_reason": "completed"}}, "issue_closed_completed"),
        ("issues", "closed", {"issue": {"state_reason": None}}, "issue_closed_completed"),
        ("issues", "closed", {"issue": {}}, "issue_closed_completed"),
        # A payload without its issue object reads as a close without a reason.
        ("issues", "closed", {}, "issue_closed_completed"),
        ("issues", "closed", {"issue": None}, "issue_closed_completed"),
        (
            "issues",
            "closed",
            {"issue": {"state_reason": "not_planned"}},
            "issue_closed_not_planned",
        ),
        ("issues", "closed", {"issue": {"state_reason": "duplicate"}}, "issue_closed_not_planned"),
        ("issues", "closed", {"issue": {"state_reason": "something-new"}}, None),
        ("issues", "labeled", {}, None),
        ("pull_request", "opened", {}, "pr_opened"),
        ("pull_request", "ready_for_review", {}, "pr_ready_for_review"),
        ("pull_request", "closed", {"pull_request": {"merged": True}}, "pr_merged"),
        ("pull_request", "closed", {"pull_request": {"merged": False}}, "pr_closed_unmerged"),
        (
            "pull_request",
            "closed",
            {"pull_request": {"merged_at": "2024-01-01T00:00:00Z"}},
            "pr_merged",
        ),
        ("pull_request", "closed", {"pull_request": {"merged_at": None}}, "pr_closed_unmerged"),
        ("pull_request", "closed", {}, None),
        # Only a pull_request event closes a pull request, whatever else its payload holds.
        ("milestone", "closed", {"pull_request": {"merged": True}}, None),
        ("pull_request", "synchronize", {}, None),
        ("issue_comment", "created", {}, None),
    ],
)
def test_lifecycle_event(
    event: str, action: str, payload: dict[str, Any], expected: LifecycleEvent | None
) -> None:
    assert lifecycle_event(event, action, payload) == expected


def test_lifecycle_events_name_status_label_fields() -> None:
    from typing import get_args

    from ghapp.skills.label_sync.options import StatusLabels

    assert set(get_args(LifecycleEvent)) == set(StatusLabels.model_fields)
