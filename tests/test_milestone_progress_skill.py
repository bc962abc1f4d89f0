"""milestone-progress end to end: deliveries in, GitHub requests out (recorded cassettes).

Milestones here have no due date, so the blocks (and the recorded PATCH bodies) do not
depend on the day the tests run; due-date wording is covered by the table tests, and
one test without a cassette checks that the skill measures the pace from GitHub's dates.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ghapp import Context, Skill
from ghapp.github import JournalEntry
from ghapp.skills.mention_reply.mentions import parse_commands
from ghapp.skills.milestone_progress import skill as milestone_skill
from ghapp.skills.milestone_progress.options import MilestoneOptions
from ghapp.skills.milestone_progress.progress import (
    AppMark,
    MilestoneCounts,
    render_progress,
)
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import (
    issue_comment_created,
    issues_event,
    milestone_event,
    pull_request_event,
)

REPO = "octo-org/hello"
CONFIG = ".github/ghapp.yml"
FAST = "milestone-progress:\n  coalesce-seconds: 0.5\n"
FAST_AND_CLOSING = "milestone-progress:\n  coalesce-seconds: 0.5\n  close-when-complete: true\n"
USER_TEXT = (
    "## Goals\r\n\r\n- ship the *parser*\r\n- `<!-- ghapp:milestone-progress:end -->` "
    "is just text in code\r\n\r\n> quoted, with trailing spaces  \r\n"
)


def block(open_: int, closed: int, state: str = "open", mark: AppMark | None = None) -> str:
    # No due date: the day does not matter, any date gives the same block.
    counts = MilestoneCounts(open=open_, closed=closed, due_on=None, state=state)
    return render_progress(counts, today=date(2000, 1, 1), mark=mark)


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def item_event(action: str, number: int, milestone: int, title: str = "v1.0") -> dict[str, Any]:
    """`issues.<action>` for issue `number` in milestone `milestone` (GitHub's example)."""
    payload = issues_event(action, number=number, milestone=title, repo=REPO)
    payload["issue"]["milestone"]["number"] = milestone
    if "milestone" in payload:
        payload["milestone"]["number"] = milestone
    return payload


def milestone_requests(app: SkillTestApp, number: int) -> list[JournalEntry]:
    return [r for r in app.requests if r.path == f"/repos/{REPO}/milestones/{number}"]


def patches(app: SkillTestApp) -> list[JournalEntry]:
    return [r for r in app.writes() if "/milestones/" in r.path]


def with_issues(fake: FakeGitHub, milestone: int, *, open_: int, closed: int) -> list[int]:
    numbers = []
    for n in range(open_ + closed):
        state = "closed" if n >= open_ else "open"
        issue = fake.add_issue(REPO, f"Item {n}", milestone=milestone, state=state)
        numbers.append(issue.number)
    return numbers


def set_state(fake: FakeGitHub, number: int, state: str) -> None:
    fake.repo(REPO).issues[number].state = state


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    fake_github.set_file(REPO, CONFIG, FAST)
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[milestone_skill, chat]
    ) as test_app:
        yield test_app


# -- the progress block -------------------------------------------------------------------


@pytest.mark.vcr
async def test_issue_closed_writes_block_keeping_user_text(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    ms = fake_github.add_milestone(REPO, "v1.0", description=USER_TEXT)
    first, _second = with_issues(fake_github, ms.number, open_=2, closed=0)
    set_state(fake_github, first, "closed")

    delivery = await app.dispatch(
        "issues", item_event("closed", first, ms.number), delivery_id="close-1"
    )

    assert delivery.status == "done", delivery
    [patch] = patches(app)
    # The deferred refresh still speaks under the delivery that asked for it.
    assert patch.headers["x-github-delivery"] == "close-1"
    assert patch.method == "PATCH" and patch.path == f"/repos/{REPO}/milestones/{ms.number}"
    # The user's text (CRLF, markdown, a marker-like code span) is kept byte for byte.
    assert patch.body == {"description": USER_TEXT + "\r\n" + crlf(block(1, 1))}
    assert "**Progress: 1/2 closed (50%)**" in patch.body["description"]


@pytest.mark.parametrize(("closed", "pace"), [(2, "on track"), (1, "behind schedule")])
async def test_pace_is_measured_from_the_milestones_creation(
    app: SkillTestApp, fake_github: FakeGitHub, closed: int, pace: str
) -> None:
    # No cassette: the block names today's distance to the due date, so it is checked
    # against the fake GitHub directly. Created 10 days ago, due in 10: half the time gone.
    now = datetime.now(UTC)
    ms = fake_github.add_milestone(REPO, "v1.0", due_on=now + timedelta(days=10))
    ms.created_at = now - timedelta(days=10)
    first, *_ = with_issues(fake_github, ms.number, open_=4 - closed, closed=closed)

    await app.dispatch("issues", item_event("reopened", first, ms.number))

    [patch] = patches(app)
    assert f"% · due in 10 days, {pace}\n" in patch.body["description"]


@pytest.mark.vcr
async def test_no_write_when_block_is_current(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    ms = fake_github.add_milestone(REPO, "v1.0", description="Plans\n\n" + block(1, 1))
    first, _ = with_issues(fake_github, ms.number, open_=1, closed=1)

    delivery = await app.dispatch("issues", item_event("reopened", first, ms.number))

    # The refresh ran (deferred, without failing: the test app would say), read the
    # milestone, found its block current and left it.
    assert outcomes(delivery) == {"milestone-progress": "ok"}
    assert [r.method for r in milestone_requests(app, ms.number)] == ["GET"]
    assert app.writes() == []


@pytest.mark.vcr
async def test_burst_of_fifty_closes_ends_in_one_update(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    # Storing fifty deliveries one after another in the test's SQLite takes a few seconds
    # while workers run; the window must cover them for "one update" to be the behaviour.
    fake_github.set_file(REPO, CONFIG, "milestone-progress:\n  coalesce-seconds: 6\n")
    ms = fake_github.add_milestone(REPO, "v1.0")
    numbers = with_issues(fake_github, ms.number, open_=50, closed=0)
    # One close first, so the configuration is cached and the burst below is all alike.
    set_state(fake_github, numbers[0], "closed")
    await app.dispatch("issues", item_event("closed", numbers[0], ms.number))
    assert [r.body for r in patches(app)] == [{"description": block(49, 1)}]
    before = len(app.requests)

    for number in numbers:
        set_state(fake_github, number, "closed")
    deliveries = await asyncio.gather(
        *(app.dispatch("issues", item_event("closed", n, ms.number)) for n in numbers)
    )

    assert all(d.status == "done" for d in deliveries)
    burst = app.requests[before:]
    reads = [r for r in burst if r.method == "GET" and r.path.endswith(f"/milestones/{ms.number}")]
    writes = [r for r in burst if r.method != "GET"]
    assert len(reads) == 1
    assert len(writes) == 1
    assert writes[0].body == {"description": block(0, 50)}


@pytest.mark.vcr
async def test_demilestoned_refreshes_the_milestone_left(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    kept = fake_github.add_milestone(REPO, "v1.0")
    left = fake_github.add_milestone(REPO, "v2.0", description="Second")
    with_issues(fake_github, kept.number, open_=1, closed=0)
    with_issues(fake_github, left.number, open_=1, closed=2)
    moved = fake_github.add_issue(REPO, "Moved away", milestone=None)
    payload = item_event("demilestoned", moved.number, left.number, title="v2.0")
    payload["issue"]["milestone"] = None  # GitHub sends the issue already out of it

    await app.dispatch("issues", payload)

    assert [(r.method, r.path) for r in app.writes()] == [
        ("PATCH", f"/repos/{REPO}/milestones/{left.number}")
    ]
    assert app.writes()[0].body == {"description": "Second\n\n" + block(1, 2)}
    assert milestone_requests(app, kept.number) == []


@pytest.mark.vcr
async def test_merged_pull_request_counts(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    ms = fake_github.add_milestone(REPO, "v1.0")
    with_issues(fake_github, ms.number, open_=1, closed=0)
    pull = fake_github.add_pull(REPO, "Fix", state="closed", merged=True)
    fake_github.repo(REPO).issues[pull.number].milestone = ms.number
    payload = pull_request_event("closed", number=pull.number, merged=True, repo=REPO)
    payload["pull_request"]["milestone"] = {
        **item_event("closed", pull.number, ms.number)["issue"]["milestone"]
    }

    await app.dispatch("pull_request", payload)

    assert [r.body for r in patches(app)] == [{"description": block(1, 1)}]


# -- closing at 100% and reopening ---------------------------------------------------------


@pytest.mark.vcr
async def test_closes_when_complete_and_reopens_only_what_it_closed(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG, FAST_AND_CLOSING)
    ours = fake_github.add_milestone(REPO, "v1.0", description="Ours")
    [last, _done] = with_issues(fake_github, ours.number, open_=1, closed=1)
    theirs = fake_github.add_milestone(
        REPO, "v2.0", state="closed", description="Theirs\n\n" + block(0, 2, "closed")
    )
    [back, _] = with_issues(fake_github, theirs.number, open_=0, closed=2)

    set_state(fake_github, last, "closed")
    await app.dispatch("issues", item_event("closed", last, ours.number))
    set_state(fake_github, last, "open")
    await app.dispatch("issues", item_event("reopened", last, ours.number))
    set_state(fake_github, back, "open")
    await app.dispatch("issues", item_event("reopened", back, theirs.number, title="v2.0"))

    assert [(r.path.rsplit("/", 1)[1], r.body) for r in patches(app)] == [
        # Complete: closed in the same write as the block, which remembers who closed it.
        (
            str(ours.number),
            {"description": "Ours\n\n" + block(0, 2, "closed", "closed-by-app"), "state": "closed"},
        ),
        # An item reopened in a milestone the App closed: reopened, and the mark dropped.
        (str(ours.number), {"description": "Ours\n\n" + block(1, 1), "state": "open"}),
        # A person closed this one: the block follows the counts, the state stays theirs.
        (str(theirs.number), {"description": "Theirs\n\n" + block(1, 1, "closed")}),
    ]


@pytest.mark.vcr
async def test_own_milestone_edits_do_not_loop(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    ms = fake_github.add_milestone(REPO, "v1.0", description="Plans")
    with_issues(fake_github, ms.number, open_=1, closed=1)
    by_app = edited_milestone(ms.number, login=f"{fake_github.app_identity.bot_login}")
    by_person = edited_milestone(ms.number, login="mona")

    assert outcomes(await app.dispatch("milestone", by_app)) == {"milestone-progress": "ok"}
    assert milestone_requests(app, ms.number) == []

    await app.dispatch("milestone", by_person)
    assert [r.body for r in patches(app)] == [{"description": "Plans\n\n" + block(1, 1)}]
    # The App's PATCH comes back as milestone.edited from the App: it stops there.
    echo = edited_milestone(ms.number, login=fake_github.app_identity.bot_login)
    await app.dispatch("milestone", echo)
    assert len(milestone_requests(app, ms.number)) == 2  # one GET, one PATCH


def edited_milestone(number: int, *, login: str) -> dict[str, Any]:
    """`milestone.edited` (the examples have none: built from `created`, as GitHub sends it)."""
    payload = milestone_event("created", number=number, repo=REPO, login=login)
    payload["action"] = "edited"
    payload["changes"] = {"description": {"from": "Before"}}
    if login.endswith("[bot]"):
        payload["sender"]["type"] = "Bot"
    return payload


@pytest.mark.vcr
async def test_dry_run_reads_but_writes_nothing(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake_github.set_file(REPO, CONFIG, FAST)
    ms = fake_github.add_milestone(REPO, "v1.0")
    [first] = with_issues(fake_github, ms.number, open_=0, closed=1)
    caplog.set_level("INFO", logger="ghapp")
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[milestone_skill], env={"DRY_RUN": "1"}
    ) as dry:
        await dry.dispatch("issues", item_event("closed", first, ms.number))
        assert [r.method for r in milestone_requests(dry, ms.number)] == ["GET"]
        assert dry.writes() == []
    # The update it decided on is logged instead of sent.
    not_sent = [r for r in caplog.records if r.getMessage() == "dry run: not sent"]
    assert [(r.method, r.path) for r in not_sent] == [  # type: ignore[attr-defined]
        ("PATCH", f"/repos/{REPO}/milestones/{ms.number}")
    ]
    assert "Progress: 1/1 closed (100%)" in not_sent[0].body  # type: ignore[attr-defined]


# -- commands ---------------------------------------------------------------------------------

# A stand-in for mention-reply's dispatcher: it runs commands of enabled skills exactly the
# way mention-reply does (`ctx.available_commands()`), so the command is tested as users meet it.
chat = Skill("chat-stand-in", "Runs `@slug command` lines for these tests.")


@chat.on("issue_comment.created")
async def run_commands(ctx: Context) -> None:
    lines, _free = parse_commands(str((ctx.comment or {}).get("body", "")), ctx.app.slug)
    available = {c.name: c for c in await ctx.available_commands()}
    for line in lines:
        await ctx.reply(await available[line.name].run(ctx, line.args))


def comment(body: str, issue: int, milestone: dict[str, Any] | None) -> dict[str, Any]:
    payload = issue_comment_created(body, login="mona", issue_number=issue, repo=REPO)
    payload["issue"]["milestone"] = milestone
    return payload


def replies(app: SkillTestApp, issue: int) -> list[str]:
    path = f"/repos/{REPO}/issues/{issue}/comments"
    return [r.body["body"] for r in app.writes() if r.path == path]


@pytest.mark.vcr
async def test_milestone_command_sets_and_clears(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    v1 = fake_github.add_milestone(REPO, "v1.0")
    fake_github.add_milestone(REPO, "V1.0 beta")
    issue = fake_github.add_issue(REPO, "Needs a home")
    in_v1 = item_event("closed", issue.number, v1.number)["issue"]["milestone"]

    await app.dispatch("issue_comment", comment("@ghapp-test milestone V1.0", issue.number, None))
    await app.dispatch("issue_comment", comment("@ghapp-test milestone v1.0", issue.number, in_v1))
    await app.dispatch("issue_comment", comment("@ghapp-test milestone clear", issue.number, in_v1))

    edits = [r.body for r in app.writes() if r.path == f"/repos/{REPO}/issues/{issue.number}"]
    assert edits == [{"milestone": v1.number}, {"milestone": None}]
    assert replies(app, issue.number) == [
        "Milestone set to **v1.0**.",
        "Already in milestone **v1.0**.",
        "Milestone cleared.",
    ]


@pytest.mark.vcr
async def test_unknown_title_lists_open_milestones(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.add_milestone(REPO, "v1.0")
    fake_github.add_milestone(REPO, "v2.0")
    fake_github.add_milestone(REPO, "v0.9", state="closed")
    issue = fake_github.add_issue(REPO, "Lost")

    await app.dispatch("issue_comment", comment("@ghapp-test milestone v3", issue.number, None))

    assert [r.path for r in app.writes()] == [f"/repos/{REPO}/issues/{issue.number}/comments"]
    assert replies(app, issue.number) == [
        "No open milestone is titled `v3`. Open milestones: `v1.0`, `v2.0`."
    ]


@pytest.mark.parametrize(
    ("raw", "needed"), [({}, "triage"), ({"command_permission": "write"}, "write")]
)
def test_command_permission_comes_from_options(raw: dict[str, Any], needed: str) -> None:
    command = milestone_skill.commands["milestone"]
    available = command.available(MilestoneOptions.model_validate(raw), command.handler)
    assert available.permission == needed
    assert "milestone TITLE" in command.usage and "milestone clear" in command.usage
