"""Deferred and periodic tasks meet a changed world (`Bus.run_task`).

A task is scheduled now and runs later; in between, an admin may switch its skill off, the
repository's `.github/ghapp.yml` may turn invalid, or a new version of the skill may no
longer have that task. Each test holds the scheduled task back (a queue that only keeps
what it is given), changes the world, then lets the real queue run it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from ghapp import Context, RepoRef, Skill
from ghapp.scheduler import PeriodicScheduler
from ghapp.store import StoredTask
from ghapp.store.database import utcnow
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issues_event, push_event

REPO = "octo-org/hello"
CONFIG = ".github/ghapp.yml"
DEFAULT_BRANCH = "master"  # the push payloads' (webhook examples') default branch
ran: list[tuple[str, str]] = []


class ChoreOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = "default"


chores = Skill("chores", "defers work, and repairs every hour", options=ChoreOptions)


@chores.on("issues.opened")
async def later(ctx: Context) -> None:
    await ctx.defer("tidy", {"number": ctx.issue_number}, key=str(ctx.issue_number))


@chores.task("tidy")
async def tidy(ctx: Context) -> None:
    ran.append(("tidy", ctx.options.note))


@chores.periodic("repair", every=timedelta(hours=1), per="repository")
async def repair(ctx: Context) -> None:
    ran.append(("repair", ctx.options.note))


class HeldQueue:
    """Keeps what is scheduled instead of running it (the Queue's `enqueue_task` only)."""

    def __init__(self) -> None:
        self.held: list[StoredTask] = []

    async def enqueue_task(self, task: StoredTask, delay: float) -> bool:
        self.held.append(task)
        return True


async def schedule(app: SkillTestApp, kind: str) -> list[StoredTask]:
    """Schedule one `tidy` (deferred by a delivery) or one `repair` (the hourly tick)."""
    held = HeldQueue()
    runtime = app.runtime
    if kind == "deferred":
        # Contexts defer through the services the bus lends them: hold what they queue.
        runtime.bus.services = replace(runtime.bus.services, tasks=held)
        delivery = await app.dispatch("issues", issues_event("opened", number=7, repo=REPO))
        assert outcomes(delivery) == {"chores": "ok"}
    else:
        await runtime.installations.upsert({"id": 1, "account": {"login": "octo-org"}})
        await runtime.installations.add_repositories(1, [{"id": 10, "full_name": REPO}])
        ticker = PeriodicScheduler(runtime.skills, runtime.installations, runtime.tasks, held)  # type: ignore[arg-type]
        assert await ticker.tick(1_800_000_000.0) == 1
    return held.held


async def run_now(app: SkillTestApp, tasks: list[StoredTask]) -> None:
    for task in tasks:
        assert await app.runtime.queue.enqueue_task(task, 0.0)
    await app.idle()


async def change(app: SkillTestApp, fake: FakeGitHub, what: str) -> None:
    if what == "switched off":
        await app.set_switch(1, REPO, "chores", False)
    elif what == "invalid options":
        fake.set_file(REPO, CONFIG, "chores:\n  nite: typo\n")
        # GitHub tells of the change with a push; ghapp drops its cached copy then.
        pushed = push_event(f"refs/heads/{DEFAULT_BRANCH}", files_changed=[CONFIG])
        await app.runtime.options_resolver.saw_push(RepoRef.parse(REPO), pushed)


@pytest.fixture(autouse=True)
def _forget() -> None:
    ran.clear()


@pytest.mark.vcr
@pytest.mark.parametrize("kind", ["deferred", "periodic"])
@pytest.mark.parametrize(
    "what", ["nothing", "switched off", "invalid options"], ids=["control", "off", "invalid"]
)
async def test_a_task_runs_only_if_its_skill_still_may_when_it_runs(
    tmp_path: Path, fake_github: FakeGitHub, kind: str, what: str
) -> None:
    fake_github.set_file(REPO, CONFIG, "chores:\n  note: configured\n")
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[chores]) as app:
        scheduled = await schedule(app, kind)
        assert [t.name for t in scheduled] == ["tidy" if kind == "deferred" else "repair"]
        await change(app, fake_github, what)
        before = len(app.requests)
        await run_now(app, scheduled)
        # Decided on the switch and the file as they are when the task runs: the file is
        # read when a push changed it or nothing read it yet (the hourly tick reads no
        # file), else its cached copy is still fresh.
        reads = [r.path for r in app.requests[before:]]
        read_now = what == "invalid options" or kind == "periodic"
        assert (f"/repos/{REPO}/contents/{CONFIG}" in reads) == read_now
        # Done either way: nothing is left to run again.
        assert await app.runtime.tasks.pending() == []
    expected = [] if what != "nothing" else [(scheduled[0].name, "configured")]
    assert ran == expected


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("skill", "name"),
    [("retired", "tidy"), ("chores", "tidy-v1"), ("chores", "no-such-periodic")],
    ids=["skill-uninstalled", "task-renamed", "periodic-removed"],
)
async def test_a_task_without_a_handler_is_reported_and_dropped(
    tmp_path: Path, fake_github: FakeGitHub, skill: str, name: str
) -> None:
    task = StoredTask(
        key=f"{skill}:{name}:7",
        skill=skill,
        name=name,
        installation_id=1,
        repository=REPO,
        args={"number": 7},
        run_at=utcnow(),
    )
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[chores]) as app:
        app.expect_failure(skill, match=rf"^no handler for task {skill}\.{name}$")
        await run_now(app, [task])
        [failure] = await app.failures()
        assert (failure.kind, failure.ident) == ("task", task.key)
        assert await app.runtime.tasks.pending() == []
        assert app.requests == []  # given up before asking GitHub anything
    assert ran == []
