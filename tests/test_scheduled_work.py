"""Work on a schedule (issue 19 §4): milestone-progress refreshes due dates daily,
label-sync with `strict: true` repairs drift hourly, each once per period across workers,
and each run's outcome is kept for the settings page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from ghapp import Context, Skill
from ghapp.scheduler import PeriodicScheduler
from ghapp.skills import label_sync, milestone_progress
from ghapp.skills.milestone_progress.progress import MilestoneCounts, plan_update
from ghapp.store import PeriodicRun
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub

REPO = "octo-org/hello"
CONFIG = ".github/ghapp.yml"
DAY = 24 * 3600
TEMPLATES = Path(__file__).resolve().parents[1] / "ghapp" / "web" / "templates"


async def know_repositories(app: SkillTestApp, *names: str) -> None:
    """The installations table as the installation events would have left it."""
    runtime = app.runtime
    await runtime.installations.upsert({"id": 1, "account": {"login": "octo-org"}})
    entries = [{"id": 100 + n, "full_name": name} for n, name in enumerate(names)]
    await runtime.installations.add_repositories(1, entries)


def block_as_of(fake: FakeGitHub, number: int, day: datetime) -> str:
    """The description the App would have written for milestone `number` on `day`."""
    ms = fake.repo(REPO).milestones[number]
    items = [i for i in fake.repo(REPO).issues.values() if i.milestone == number]
    counts = MilestoneCounts(
        open=sum(i.state == "open" for i in items),
        closed=sum(i.state == "closed" for i in items),
        due_on=ms.due_on,
        state="open",
        created_at=ms.created_at,
    )
    update = plan_update("Plans", counts, today=day.date())
    assert update.description is not None
    return update.description


def milestone_with_items(fake: FakeGitHub, title: str, due_in: int | None) -> int:
    now = datetime.now(UTC)
    ms = fake.add_milestone(REPO, title, due_on=now + timedelta(days=due_in) if due_in else None)
    ms.created_at = now - timedelta(days=10)
    fake.add_issue(REPO, f"{title} open", milestone=ms.number)
    fake.add_issue(REPO, f"{title} done", milestone=ms.number, state="closed")
    return ms.number


@pytest.mark.parametrize("configured", [True, False])
async def test_the_daily_refresh_writes_only_milestones_whose_text_changed(
    tmp_path: Path, fake_github: FakeGitHub, configured: bool
) -> None:
    # No cassette: the block names today's distance to the due date, so it is checked
    # against the fake GitHub directly (as the milestone skill's own pace test is).
    if configured:
        fake_github.set_file(REPO, CONFIG, "milestone-progress: {}\n")
    today = datetime.now(UTC)
    stale = milestone_with_items(fake_github, "stale", due_in=3)
    current = milestone_with_items(fake_github, "current", due_in=5)
    undated = milestone_with_items(fake_github, "undated", due_in=None)
    untouched = milestone_with_items(fake_github, "untouched", due_in=2)  # no block yet
    milestones = fake_github.repo(REPO).milestones
    milestones[stale].description = block_as_of(fake_github, stale, today - timedelta(days=1))
    milestones[current].description = block_as_of(fake_github, current, today)
    milestones[undated].description = block_as_of(fake_github, undated, today - timedelta(1))

    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[milestone_progress.skill]
    ) as app:
        await know_repositories(app, REPO)
        # Ticks at 01:00 UTC today: what day the period is must not hang on the hour the
        # test runs at (the refresh itself reads the real date).
        now = float(int(today.timestamp()) // DAY * DAY + 3600)
        assert await app.runtime.scheduler.tick(now) == 1
        await app.idle()

        written = {w.path: w for w in app.writes()}
        expected = [stale, untouched] if configured else [stale]
        assert sorted(written) == [f"/repos/{REPO}/milestones/{n}" for n in expected]
        assert all(w.method == "PATCH" for w in written.values())
        # Yesterday's "due in 4 days" is today's "due in 3 days".
        assert "due in 4 days" in block_as_of(fake_github, stale, today - timedelta(days=1))
        assert "due in 3 days" in written[f"/repos/{REPO}/milestones/{stale}"].body["description"]
        # One listing read, nothing per milestone.
        reads = [r.path for r in app.requests if "/milestones" in r.path and r.method == "GET"]
        assert reads == [f"/repos/{REPO}/milestones"]

        # Once a day: another worker ticking the same day queues nothing.
        other = PeriodicScheduler(
            app.runtime.skills, app.runtime.installations, app.runtime.tasks, app.runtime.queue
        )
        assert await other.tick(now + 3600) == 0
        [run] = await app.runtime.periodic_runs.for_installation(1)
        assert (run.job, run.repository, run.outcome) == (
            "milestone-progress:due-dates",
            REPO,
            "ok",
        )
        assert run.period == int(now // DAY)
        # The next day, whoever ticks first runs it again; now nothing changed.
        assert await other.tick(now + DAY) == 1
        await app.idle()
        assert len(app.writes()) == len(expected)


STRICT = """\
label-sync:
  strict: true
  labels:
    - {name: bug, color: d73a4a, description: Something is broken}
    - {name: docs, color: 0075ca}
"""


@pytest.mark.vcr
async def test_strict_label_sync_repairs_drift_hourly(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG, STRICT)
    # Edited while the App was down: a color changed, a label deleted, one added.
    fake_github.add_label(REPO, "bug", "000000", "Something is broken")
    fake_github.add_label(REPO, "stray", "ededed")
    # Not strict: its drift is left for the events and commands.
    fake_github.add_repo("octo-org/loose", installation_id=1)
    fake_github.set_file("octo-org/loose", CONFIG, STRICT.replace("strict: true", "strict: false"))
    fake_github.add_label("octo-org/loose", "bug", "000000")

    test_app = SkillTestApp(tmp_path, github_app=fake_github.app, skills=[label_sync.skill])
    # One task at a time: the two repositories' requests are recorded in one order, not in
    # whichever order two workers happened to interleave them.
    test_app.runtime.queue.concurrency = 1  # type: ignore[attr-defined]
    async with test_app as app:
        await know_repositories(app, REPO, "octo-org/loose")
        now = 1_800_000_000.0
        assert await app.runtime.scheduler.tick(now) == 2
        await app.idle()
        R = f"/repos/{REPO}"
        # The sync's own fewest-changes plan: no deletion (delete_undeclared is off).
        assert [(w.method, w.path, w.body) for w in app.writes()] == [
            ("PATCH", f"{R}/labels/bug", {"color": "d73a4a"}),
            ("POST", f"{R}/labels", {"name": "docs", "color": "0075ca"}),
        ]
        loose = [r.path for r in app.requests if "octo-org/loose" in r.path]
        assert loose == [f"/repos/octo-org/loose/contents/{CONFIG}"]
        # Within the hour, nothing is queued again.
        assert await app.runtime.scheduler.tick(now + 600) == 0
        runs = await app.runtime.periodic_runs.for_installation(1)
        assert [(r.job, r.repository, r.outcome) for r in runs] == [
            ("label-sync:repair-drift", "octo-org/hello", "ok"),
            ("label-sync:repair-drift", "octo-org/loose", "ok"),
        ]
        # What the settings page may show a viewer who sees only octo-org/hello.
        seen = await app.runtime.periodic_runs.for_installation(1, repositories=["Octo-Org/Hello"])
        assert [r.repository for r in seen] == ["octo-org/hello"]


flaky = Skill("flaky", "fails on schedule")


@flaky.periodic("nightly", every=timedelta(days=1), per="installation")
async def nightly(ctx: Context) -> None:
    raise RuntimeError("the nightly job broke")


@pytest.mark.vcr
async def test_a_failed_run_is_recorded_with_its_error(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[flaky]) as app:
        app.expect_failure(match="the nightly job broke")
        await know_repositories(app, REPO)
        assert await app.runtime.scheduler.tick(1_800_000_000.0) == 1
        await app.idle()
        [run] = await app.runtime.periodic_runs.for_installation(1)
        assert (run.job, run.repository, run.outcome) == ("flaky:nightly", None, "error")
        assert run.detail == "RuntimeError: the nightly job broke"


def render_partial(**context: object) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("_scheduled_work.html").render(**context)


def test_the_settings_partial_shows_each_jobs_last_run() -> None:
    finished = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    runs = [
        PeriodicRun("label-sync:repair-drift", 1, "octo-org/hello", 5, "ok", None, finished),
        PeriodicRun("flaky:nightly", 1, None, 5, "error", "RuntimeError: <boom>", finished),
    ]
    html = render_partial(scheduled_work=runs)
    assert "<h2>Scheduled work</h2>" in html
    assert "<strong>label-sync</strong>" in html and "repair-drift" in html
    assert "octo-org/hello" in html and "whole installation" in html
    assert "2026-12-01 03:00 UTC" in html
    assert "RuntimeError: &lt;boom&gt;" in html  # escaped
    assert "No scheduled work" in render_partial(scheduled_work=[])
    # Not provided by the page (yet): the partial renders nothing.
    assert render_partial().strip() == ""
    page = (TEMPLATES / "settings_installation.html").read_text()
    assert '{% include "_scheduled_work.html" %}' in page
