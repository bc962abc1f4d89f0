"""Table tests of milestone-progress's decisions: one refresh's write, and which milestone
an event or a command means. Payloads are GitHub's examples (tests/support/payloads.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from ghapp import code_span
from ghapp.skills.milestone_progress.progress import (
    MARKER_END,
    MARKER_START,
    AppMark,
    MilestoneCounts,
    MilestoneUpdate,
    app_mark,
    plan_update,
    render_progress,
)
from ghapp.skills.milestone_progress.targets import (
    Choice,
    MilestoneRef,
    choose_milestone,
    milestone_number_in,
)
from tests.support.payloads import issues_event, milestone_event, pull_request_event

TODAY = date(2024, 5, 10)
CLOSED_MARK = "<!-- ghapp:milestone-progress:closed-by-app -->"
KEPT_MARK = "<!-- ghapp:milestone-progress:kept-open -->"


def counts(open_: int, closed: int, state: str = "open") -> MilestoneCounts:
    return MilestoneCounts(open=open_, closed=closed, due_on=None, state=state)


def block(open_: int, closed: int, state: str = "open", mark: AppMark | None = None) -> str:
    return render_progress(counts(open_, closed, state), today=TODAY, mark=mark)


# --- app_mark ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("Plans", None, id="no-block"),
        pytest.param(block(1, 1), None, id="unmarked-block"),
        pytest.param(
            "x\n\n" + block(0, 2, "closed", "closed-by-app"), "closed-by-app", id="closed"
        ),
        pytest.param(block(0, 2, mark="kept-open"), "kept-open", id="kept-open"),
        # The mark pasted in the user's own text is not the App's memory.
        pytest.param(CLOSED_MARK + "\n" + block(1, 1), None, id="outside-block"),
        pytest.param(MARKER_START + "\n" + CLOSED_MARK, None, id="unterminated-block"),
    ],
)
def test_app_mark(description: str | None, expected: str | None) -> None:
    assert app_mark(description) == expected


def test_mark_sits_inside_the_markers() -> None:
    text = block(0, 2, "closed", "closed-by-app")
    assert text.startswith(MARKER_START) and text.endswith(CLOSED_MARK + "\n" + MARKER_END)


# --- plan_update -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "c", "close", "expected"),
    [
        pytest.param(
            "Goals",
            counts(1, 1),
            False,
            MilestoneUpdate("Goals\n\n" + block(1, 1)),
            id="first-block-appended",
        ),
        pytest.param(
            "Goals\n\n" + block(1, 1), counts(1, 1), False, MilestoneUpdate(), id="unchanged"
        ),
        pytest.param(
            "Goals\n\n" + block(1, 1) + "\ntail",
            counts(0, 2),
            False,
            MilestoneUpdate("Goals\n\n" + block(0, 2) + "\ntail"),
            id="complete-option-off",
        ),
        pytest.param(
            block(1, 1),
            counts(0, 2),
            True,
            MilestoneUpdate(block(0, 2, "closed", "closed-by-app"), "closed"),
            id="complete-closes-and-marks",
        ),
        pytest.param(
            block(0, 2, "closed", "closed-by-app"),
            counts(1, 2, "closed"),
            True,
            MilestoneUpdate(block(1, 2), "open"),
            id="app-closed-reopens-unmarked",
        ),
        pytest.param(
            block(0, 2, "closed"),
            counts(1, 2, "closed"),
            True,
            MilestoneUpdate(block(1, 2, "closed")),
            id="person-closed-stays-closed",
        ),
        pytest.param(
            block(0, 2, "closed", "closed-by-app"),
            counts(0, 2, "closed"),
            True,
            MilestoneUpdate(),
            id="app-closed-still-complete",
        ),
        pytest.param(
            block(0, 2, "closed", "closed-by-app"),
            counts(0, 2),
            True,
            MilestoneUpdate(block(0, 2, mark="kept-open")),
            id="person-reopened-complete-stays-open",
        ),
        pytest.param(
            block(0, 2, mark="kept-open"), counts(0, 2), True, MilestoneUpdate(), id="kept-open"
        ),
        pytest.param(
            block(0, 2, mark="kept-open"),
            counts(1, 2),
            True,
            MilestoneUpdate(block(1, 2)),
            id="kept-open-forgotten-when-incomplete",
        ),
        pytest.param(
            block(1, 2),
            counts(0, 3),
            True,
            MilestoneUpdate(block(0, 3, "closed", "closed-by-app"), "closed"),
            id="closes-again-after-forgetting",
        ),
        pytest.param(
            block(0, 2, mark="kept-open"),
            counts(0, 2, "closed"),
            True,
            MilestoneUpdate(block(0, 2, "closed")),
            id="person-closed-kept-open",
        ),
        pytest.param(None, counts(0, 0), True, MilestoneUpdate(block(0, 0)), id="empty-new"),
    ],
)
def test_plan_update(
    description: str | None, c: MilestoneCounts, close: bool, expected: MilestoneUpdate
) -> None:
    assert plan_update(description, c, today=TODAY, close_when_complete=close) == expected


def test_plan_keeps_crlf_text_and_bar_width() -> None:
    description = "Line one\r\nLine two\r\n"
    update = plan_update(description, counts(3, 1), today=TODAY, bar_width=5)
    assert update.description is not None
    assert update.description.startswith(description + "\r\n" + MARKER_START + "\r\n")
    assert "`[█░░░░]` 25%" in update.description
    again = plan_update(update.description, counts(3, 1), today=TODAY, bar_width=5)
    assert again.empty


# --- milestone_number_in -----------------------------------------------------------------


def with_milestone(payload: dict[str, Any], key: str, number: int | None) -> dict[str, Any]:
    """Point the example's milestone (under `key`, or the item's) at `number`."""
    holder = payload if key == "payload" else payload[key]
    if number is None:
        holder["milestone"] = None
    else:
        holder["milestone"] = {**(holder.get("milestone") or {}), "number": number}
    return payload


def demilestoned() -> dict[str, Any]:
    payload = issues_event("demilestoned", milestone="v1.0")
    payload["issue"]["milestone"] = None  # GitHub sends the item already out of it
    return with_milestone(payload, "payload", 7)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            with_milestone(issues_event("closed", milestone="v1.0"), "issue", 3), 3, id="closed"
        ),
        pytest.param(issues_event("closed", milestone=None), None, id="closed-no-milestone"),
        pytest.param(
            with_milestone(issues_event("reopened", milestone="v1.0"), "issue", 4), 4, id="reopen"
        ),
        pytest.param(
            with_milestone(issues_event("milestoned", milestone="v1.0"), "issue", 5),
            5,
            id="milestoned",
        ),
        pytest.param(demilestoned(), 7, id="demilestoned-left-one"),
        pytest.param(
            with_milestone(issues_event("transferred", milestone="v1.0"), "issue", 2),
            2,
            id="transferred",
        ),
        pytest.param(
            with_milestone(pull_request_event("closed", merged=True), "pull_request", 9),
            9,
            id="pr-merged",
        ),
        pytest.param(pull_request_event("reopened"), None, id="pr-no-milestone"),
        pytest.param(milestone_event("created", number=6), 6, id="milestone-created"),
        pytest.param(milestone_event("closed", number=8), 8, id="milestone-closed"),
    ],
)
def test_milestone_number_in(payload: dict[str, Any], expected: int | None) -> None:
    assert milestone_number_in(payload, payload.get("action")) == expected


# --- choose_milestone --------------------------------------------------------------------

V1 = MilestoneRef(1, "v1.0")
SPRINT = MilestoneRef(2, "Sprint 3")
LOUD = MilestoneRef(3, "SPRINT 3")
BETA = MilestoneRef(4, "Beta")


@pytest.mark.parametrize(
    ("title", "milestones", "expected"),
    [
        pytest.param("v1.0", [V1, SPRINT], Choice("found", V1), id="exact"),
        pytest.param("V1.0", [V1, SPRINT], Choice("found", V1), id="any-case"),
        pytest.param("beta", [V1, BETA], Choice("found", BETA), id="lower-typed"),
        pytest.param("Sprint 3", [SPRINT, LOUD], Choice("found", SPRINT), id="exact-beats-case"),
        pytest.param(
            "sprint 3", [SPRINT, LOUD], Choice("ambiguous", alike=(SPRINT, LOUD)), id="ambiguous"
        ),
        pytest.param("v2", [V1, SPRINT], Choice("unknown"), id="unknown"),
        pytest.param("v1", [V1], Choice("unknown"), id="no-prefix-match"),
        pytest.param("v1.0", [], Choice("unknown"), id="none-open"),
    ],
)
def test_choose_milestone(title: str, milestones: list[MilestoneRef], expected: Choice) -> None:
    assert choose_milestone(title, milestones) == expected


# --- titles echoed in replies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "span"),
    [("v1.0", "`v1.0`"), ("a`b", "``a`b``"), ("`x", "`` `x ``"), ("a``b", "```a``b```")],
)
def test_echoed_titles_stay_code(title: str, span: str) -> None:
    assert code_span(title) == span


def test_plan_closes_nothing_unless_asked() -> None:
    # close_when_complete is off by default: a complete milestone only gets its block.
    update = plan_update(None, counts(0, 2), today=TODAY)
    assert update == MilestoneUpdate(block(0, 2))


def test_plan_renders_the_due_day_for_today() -> None:
    due = MilestoneCounts(open=1, closed=0, due_on=datetime(2024, 5, 12, tzinfo=UTC), state="open")
    update = plan_update(None, due, today=TODAY)
    assert update.description is not None
    assert "· due in 2 days" in update.description
