"""Table tests of milestone-progress's pure core: rendering, splicing, close/reopen."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ghapp.skills.milestone_progress.options import MilestoneOptions
from ghapp.skills.milestone_progress.progress import (
    MARKER_END,
    MARKER_START,
    MilestoneCounts,
    apply_progress,
    desired_state,
    find_block,
    needs_update,
    render_progress,
)

TODAY = date(2024, 5, 10)


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def counts(
    open_: int, closed: int, due_on: datetime | None = None, state: str = "open"
) -> MilestoneCounts:
    return MilestoneCounts(open=open_, closed=closed, due_on=due_on, state=state)


# --- render_progress -------------------------------------------------------------------


def bar(filled: int, width: int = 20) -> str:
    return "[" + "█" * filled + "░" * (width - filled) + "]"


def due(days: int) -> datetime:
    return at(TODAY + timedelta(days=days))


@pytest.mark.parametrize(
    ("c", "headline", "filled", "status"),
    [
        pytest.param(counts(0, 0), "0/0 closed (0%)", 0, "no due date", id="empty"),
        pytest.param(counts(4, 0), "0/4 closed (0%)", 0, "no due date", id="0%"),
        pytest.param(counts(2, 1), "1/3 closed (33%)", 6, "no due date", id="33%"),
        pytest.param(counts(3, 7), "7/10 closed (70%)", 14, "no due date", id="70%"),
        pytest.param(counts(1, 999), "999/1000 closed (99%)", 19, "no due date", id="99.9%"),
        pytest.param(counts(0, 5), "5/5 closed (100%)", 20, "complete", id="100%"),
        pytest.param(counts(1, 1, due(0)), "1/2 closed (50%)", 10, "due today", id="today"),
        pytest.param(counts(1, 0, due(1)), "0/1 closed (0%)", 0, "due in 1 day", id="tomorrow"),
        pytest.param(counts(1, 0, due(5)), "0/1 closed (0%)", 0, "due in 5 days", id="in-5"),
        pytest.param(counts(1, 0, due(-1)), "0/1 closed (0%)", 0, "overdue by 1 day", id="late-1"),
        pytest.param(counts(1, 0, due(-3)), "0/1 closed (0%)", 0, "overdue by 3 days", id="late-3"),
        pytest.param(counts(0, 2, due(-3)), "2/2 closed (100%)", 20, "complete", id="done-late"),
        pytest.param(
            counts(2, 1, due(-3), "closed"), "1/3 closed (33%)", 6, "closed", id="closed-by-hand"
        ),
        pytest.param(counts(0, 0, due(0)), "0/0 closed (0%)", 0, "due today", id="empty-not-done"),
    ],
)
def test_render_progress(c: MilestoneCounts, headline: str, filled: int, status: str) -> None:
    block = render_progress(c, today=TODAY)
    pct = headline.split("(")[1].rstrip(")")
    assert block == "\n".join(
        [
            MARKER_START,
            f"**Progress: {headline}**",
            "",
            f"`{bar(filled)}` {pct} · {status}",
            MARKER_END,
        ]
    )


@pytest.mark.parametrize(
    ("due_on", "status"),
    [
        # 23:30 on the 9th in UTC-5 is the 10th in UTC: GitHub's stored day counts.
        (datetime(2024, 5, 9, 23, 30, tzinfo=timezone(timedelta(hours=-5))), "due today"),
        (datetime(2024, 5, 10, 0, 0), "due today"),  # naive read as UTC
        (datetime(2024, 5, 10, 23, 59, tzinfo=UTC), "due today"),
    ],
)
def test_due_day_is_taken_in_utc(due_on: datetime, status: str) -> None:
    assert status in render_progress(counts(1, 0, due_on), today=TODAY)


@pytest.mark.parametrize(("width", "filled"), [(5, 3), (20, 14), (50, 35)])
def test_bar_width(width: int, filled: int) -> None:
    block = render_progress(counts(3, 7), today=TODAY, bar_width=width)
    assert f"`{bar(filled, width)}`" in block


def test_bar_never_full_before_complete() -> None:
    for closed in range(0, 200):
        block = render_progress(counts(1, closed), today=TODAY)
        assert "█" * 20 not in block
        assert "(100%)" not in block


# --- apply_progress --------------------------------------------------------------------

BLOCK = render_progress(counts(3, 7), today=TODAY)
# Near misses of the markers: no space before `-->`, upper case, a code span.
LOOKALIKES = (
    "<!-- ghapp:milestone-progress:start-->\nnot ours\n"
    "<!-- GHAPP:milestone-progress:end -->\n`<!-- ghapp:milestone-progress:end`"
)
OTHER = render_progress(counts(0, 10), today=TODAY)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param(None, BLOCK, id="none"),
        pytest.param("", BLOCK, id="empty"),
        pytest.param("Ship it.", "Ship it.\n\n" + BLOCK, id="no-newline"),
        pytest.param("Ship it.\n", "Ship it.\n\n" + BLOCK, id="one-newline"),
        pytest.param("Ship it.\n\n", "Ship it.\n\n" + BLOCK, id="blank-line"),
        pytest.param(
            "# Goals\n\n- [ ] *fast* `code` [link](https://x.y)  \n> quote\n",
            "# Goals\n\n- [ ] *fast* `code` [link](https://x.y)  \n> quote\n\n" + BLOCK,
            id="markdown-kept",
        ),
        pytest.param(
            "Goals\r\nMore  \r\n",
            "Goals\r\nMore  \r\n\r\n" + BLOCK.replace("\n", "\r\n"),
            id="crlf-append",
        ),
        pytest.param(
            "intro\n" + OTHER + "\noutro  ", "intro\n" + BLOCK + "\noutro  ", id="replace"
        ),
        pytest.param(
            "a\r\n" + OTHER.replace("\n", "\r\n") + "\r\n b \r\n",
            "a\r\n" + BLOCK.replace("\n", "\r\n") + "\r\n b \r\n",
            id="crlf-replace",
        ),
        pytest.param(OTHER + "\n" + OTHER, BLOCK + "\n" + OTHER, id="first-of-two"),
        pytest.param(
            "x " + MARKER_START + " y",
            "x " + MARKER_START + " y\n\n" + BLOCK,
            id="start-without-end",
        ),
        pytest.param(
            "x " + MARKER_END + " y",
            "x " + MARKER_END + " y\n\n" + BLOCK,
            id="end-without-start",
        ),
        pytest.param(
            "stray " + MARKER_START + " kept\n" + OTHER,
            "stray " + MARKER_START + " kept\n" + BLOCK,
            id="stray-start-before-block",
        ),
        pytest.param(
            LOOKALIKES,
            LOOKALIKES + "\n\n" + BLOCK,
            id="marker-lookalikes",
        ),
        pytest.param(
            "`ghapp:milestone-progress:start` is documented here",
            "`ghapp:milestone-progress:start` is documented here\n\n" + BLOCK,
            id="marker-name-in-prose",
        ),
    ],
)
def test_apply_progress(description: str | None, expected: str) -> None:
    assert apply_progress(description, BLOCK) == expected


@pytest.mark.parametrize(
    "description",
    [
        None,
        "",
        "plain",
        "crlf\r\ntext\r\n",
        "x " + MARKER_START + " broken",
        "a\n" + OTHER + "\nb",
        OTHER + OTHER,
    ],
)
def test_apply_is_idempotent(description: str | None) -> None:
    once = apply_progress(description, BLOCK)
    assert apply_progress(once, BLOCK) == once
    assert not needs_update(once, apply_progress(once, BLOCK))


def test_text_outside_markers_is_byte_for_byte() -> None:
    before, after = "  lead \t\r\n\r\n", "\r\n\ttail  \r\n\r\n"
    result = apply_progress(before + OTHER + after, BLOCK)
    span = find_block(result)
    assert span is not None
    assert result[: span[0]] == before
    assert result[span[1] :] == after


# --- needs_update ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (BLOCK, BLOCK, False),
        (None, "", False),
        ("", "", False),
        (None, BLOCK, True),
        ("a\n" + OTHER, "a\n" + BLOCK, True),
        ("a\n" + BLOCK, "a\r\n" + BLOCK, True),
    ],
)
def test_needs_update(old: str | None, new: str, expected: bool) -> None:
    assert needs_update(old, new) is expected


# --- desired_state ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "close_when_complete", "closed_by_app", "expected"),
    [
        pytest.param(counts(0, 3), False, False, None, id="option-off"),
        pytest.param(counts(2, 3, state="closed"), False, True, None, id="option-off-no-reopen"),
        pytest.param(counts(0, 3), True, False, "closed", id="complete-closes"),
        pytest.param(counts(0, 0), True, False, None, id="empty-stays-open"),
        pytest.param(counts(1, 3), True, False, None, id="incomplete-stays-open"),
        pytest.param(counts(0, 3, state="closed"), True, True, None, id="already-closed"),
        pytest.param(counts(1, 3, state="closed"), True, True, "open", id="reopen-app-closed"),
        pytest.param(counts(1, 3, state="closed"), True, False, None, id="human-closed-stays"),
        pytest.param(counts(0, 0, state="closed"), True, True, None, id="emptied-stays-closed"),
    ],
)
def test_desired_state(
    c: MilestoneCounts, close_when_complete: bool, closed_by_app: bool, expected: str | None
) -> None:
    got = desired_state(c, close_when_complete=close_when_complete, closed_by_app=closed_by_app)
    assert got == expected


# --- options ---------------------------------------------------------------------------


def test_option_defaults() -> None:
    o = MilestoneOptions()
    assert (o.close_when_complete, o.coalesce_seconds, o.bar_width, o.command_permission) == (
        False,
        10.0,
        20,
        "triage",
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"coalesce_seconds": 0},
        {"coalesce_seconds": 301},
        {"bar_width": 4},
        {"bar_width": 51},
        {"command_permission": "read"},
        {"close-when-complete": True},  # the loader normalises dashes, not the model
        {"unknown": 1},
    ],
)
def test_option_rejects(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MilestoneOptions.model_validate(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {"coalesce_seconds": 300, "bar_width": 5},
        {"coalesce_seconds": 0.5, "bar_width": 50, "command_permission": "admin"},
        {"close_when_complete": True},
    ],
)
def test_option_accepts(raw: dict[str, object]) -> None:
    assert MilestoneOptions.model_validate(raw).model_dump(include=set(raw)) == raw


# --- on track / behind schedule --------------------------------------------------------


def started(open_: int, closed: int, days_ago: int, due_in: int) -> MilestoneCounts:
    """A milestone created `days_ago` days before TODAY, due `due_in` days after it."""
    return MilestoneCounts(
        open=open_,
        closed=closed,
        due_on=due(due_in),
        state="open",
        created_at=at(TODAY - timedelta(days=days_ago), hour=18),
    )


@pytest.mark.parametrize(
    ("c", "status"),
    [
        # 10 days in all, 5 gone: half closed is exactly on track, less is behind.
        pytest.param(started(5, 5, 5, 5), "due in 5 days, on track", id="half-at-half"),
        pytest.param(started(6, 4, 5, 5), "due in 5 days, behind schedule", id="40%-at-half"),
        pytest.param(started(1, 2, 5, 5), "due in 5 days, on track", id="ahead"),
        # Created today: nothing is due yet, even with nothing closed.
        pytest.param(started(3, 0, 0, 7), "due in 7 days, on track", id="day-one"),
        # The due day: everything should be closed by now.
        pytest.param(started(1, 9, 10, 0), "due today, behind schedule", id="today-open"),
        pytest.param(started(1, 1, 1, 1), "due in 1 day, on track", id="tomorrow-half"),
        # Nothing to measure: no items, or created on its due day, or overdue.
        pytest.param(started(0, 0, 5, 5), "due in 5 days", id="empty"),
        pytest.param(started(1, 0, 0, 0), "due today", id="no-span"),
        pytest.param(started(1, 0, 10, -2), "overdue by 2 days", id="overdue"),
        pytest.param(started(0, 3, 10, 2), "complete", id="complete"),
    ],
)
def test_pace_against_the_days_gone_since_creation(c: MilestoneCounts, status: str) -> None:
    assert render_progress(c, today=TODAY).splitlines()[3].endswith(f"% · {status}")


def test_pace_needs_the_creation_date() -> None:
    assert (
        render_progress(counts(6, 4, due(5)), today=TODAY)
        .splitlines()[3]
        .endswith("· due in 5 days")
    )


def test_due_day_is_utc_whatever_the_servers_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Noon UTC on the 10th is already the 11th at UTC+14 (POSIX TZ strings count westwards).
    monkeypatch.setenv("TZ", "XYZ-14")
    time.tzset()
    try:
        noon = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
        assert "due today" in render_progress(counts(1, 0, noon), today=TODAY)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_pace_over_a_single_day() -> None:
    # Created today, due tomorrow: one day in all, none gone yet.
    line = render_progress(started(1, 0, 0, 1), today=TODAY).splitlines()[3]
    assert line.endswith("% · due in 1 day, on track")


def test_a_block_with_crlf_goes_into_a_description_with_lf() -> None:
    block = MARKER_START + "\r\nbody\r\n" + MARKER_END
    assert apply_progress("Plans\n", block) == "Plans\n\n" + MARKER_START + "\nbody\n" + MARKER_END


def test_a_stray_end_marker_before_a_block_is_skipped() -> None:
    text = "x " + MARKER_END + " y " + MARKER_START + "b" + MARKER_END + " z"
    start = text.index(MARKER_START)
    assert find_block(text) == (start, start + len(MARKER_START) + 1 + len(MARKER_END))
