"""release-publish end to end against recorded GitHub traffic: the `release` command, tag
pushes, notes, the next-version draft, the build step, announcements and DRY_RUN.

Commands run the way mention-reply runs them: the bus lists the repository's available
commands (with this skill's options from `.github/ghapp.yml`) and the test invokes
`release` with a context built from an `issue_comment.created` payload.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ghapp.github import JournalEntry
from ghapp.skills.release_publish import publishing, skill
from ghapp.store import StoredTask
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import (
    installation_event,
    issue_comment_created,
    pull_request_event,
    push_event,
    workflow_run_event,
)

REPO = "octo-org/hello"
RELEASES = f"/repos/{REPO}/releases"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RUN_ID = 4242  # fixed, so the recorded artifact listing matches on replay
BOT = "ghapp-test[bot]"  # the test App's bot user, the actor of its dispatches

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class HeldDeadlines:
    """Tasks due now go to the real queue; tasks deferred to later (a build's deadline)
    are held for the test to run when it has moved the clock past them."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.held: list[tuple[StoredTask, float]] = []

    async def enqueue_task(self, task: StoredTask, delay: float) -> bool:
        if delay <= 0:
            return await self.queue.enqueue_task(task, delay)
        self.held.append((task, delay))
        return True

    async def run(self, app: SkillTestApp) -> list[StoredTask]:
        """Run every held task now (the clock is the test's); returns them."""
        ran = [task for task, _delay in self.held]
        self.held.clear()
        for task in ran:
            assert await app.runtime.queue.enqueue_task(task, 0.0)
        await app.idle()
        return ran


@asynccontextmanager
async def release_app(
    tmp_path: Path, fake: FakeGitHub, env: dict[str, str] | None = None
) -> AsyncIterator[SkillTestApp]:
    app = SkillTestApp(tmp_path, github_app=fake.app, skills=[skill], env=env)
    async with app:
        bus = app.runtime.bus
        bus.services = replace(bus.services, tasks=HeldDeadlines(app.runtime.queue))
        yield app


def deadlines(app: SkillTestApp) -> HeldDeadlines:
    held = app.runtime.bus.services.tasks
    assert isinstance(held, HeldDeadlines)
    return held


def configure(fake: FakeGitHub, section: str) -> None:
    fake.set_file(REPO, ".github/ghapp.yml", section)


def old_release(fake: FakeGitHub, tag: str, *, days_ago: int = 30) -> None:
    """A published release from before the pull requests the test adds."""
    fake.add_tag(REPO, tag)
    rel = fake.add_release(REPO, tag, name=tag, body="old notes")
    rel.created_at = rel.published_at = datetime.now(UTC).replace(microsecond=0) - timedelta(
        days=days_ago
    )


def merged(fake: FakeGitHub, title: str, *, labels: list[str] | None = None, **kw: Any) -> int:
    return fake.add_pull(REPO, title, merged=True, state="closed", labels=labels, **kw).number


def on_main(payload: dict[str, Any]) -> dict[str, Any]:
    """The example payloads' repository says `master`; the fake's is `main`."""
    payload["repository"]["default_branch"] = "main"
    return payload


async def run_command(
    app: SkillTestApp, text: str, *, comment_id: int = 7001, delivery_id: str = "cmd"
) -> str:
    """`@ghapp-test release …` as mention-reply runs it; returns the reply."""
    words = tuple(text.split())
    payload = on_main(issue_comment_created(f"@ghapp-test {text}", comment_id=comment_id))
    ctx = await app.context(
        "issue_comment", payload, skill="mention-reply", delivery_id=delivery_id
    )
    [release] = [c for c in await ctx.available_commands() if c.name == words[0]]
    assert release.permission == "maintain"
    reply = await release.run(ctx, words[1:])
    await app.idle()
    return reply


def posts(app: SkillTestApp, path: str) -> list[JournalEntry]:
    return [r for r in app.writes() if r.method == "POST" and r.path == path]


def patches(app: SkillTestApp) -> list[JournalEntry]:
    return [r for r in app.writes() if r.method == "PATCH" and r.path.startswith(RELEASES)]


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Build deadlines are written into release bodies: keep them identical on replay."""
    now = [T0]
    monkeypatch.setattr(publishing, "utcnow", lambda: now[0])
    return now


# -- the command ----------------------------------------------------------------------------


@pytest.mark.vcr
async def test_release_command_resolves_the_version(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    old_release(fake_github, "v1.2.3")
    fake_github.add_release(REPO, "v9.9.9", draft=True, body="someone's unfinished draft")
    merged(fake_github, "Add search", labels=["feature"])
    async with release_app(tmp_path, fake_github) as app:
        banana = await run_command(app, "release banana")
        assert "'banana' is neither a version" in banana
        assert "Usage: `release VERSION|major|minor|patch" in banana
        assert "name one version" in await run_command(app, "release")
        assert app.writes() == []

        reply = await run_command(app, "release minor")
        assert reply.startswith("Released [v1.3.0](")
        # The existing draft is taken over rather than left beside a new release.
        [created] = patches(app)
        assert posts(app, RELEASES) == []
        assert created.body["tag_name"] == "v1.3.0"
        assert created.body["draft"] is False
        assert created.body["target_commitish"] == "main"
        assert "* Add search (#" in created.body["body"]

        again = await run_command(app, "release 1.3.0", comment_id=7002)
        assert again.startswith("Release [v1.3.0](") and "already exists" in again
        assert len(patches(app)) == 1 and posts(app, RELEASES) == []

        rc = await run_command(app, "release 2.0.0-rc.1 --draft", comment_id=7003)
        assert rc.startswith("Drafted [v2.0.0-rc.1](")
        [drafted] = posts(app, RELEASES)
        assert drafted.body["draft"] is True and drafted.body["prerelease"] is True


@pytest.mark.vcr
async def test_release_bumps_from_nothing(tmp_path: Path, fake_github: FakeGitHub) -> None:
    async with release_app(tmp_path, fake_github) as app:
        reply = await run_command(app, "release minor")
    assert reply.startswith("Released [v0.1.0](")
    [created] = posts(app, RELEASES)
    assert created.body["tag_name"] == "v0.1.0"


# -- tag pushes -----------------------------------------------------------------------------


def tag_push(tag: str, *, created: bool = True) -> dict[str, Any]:
    payload = on_main(push_event(f"refs/tags/{tag}"))
    payload["created"] = created
    payload["base_ref"] = None
    return payload


@pytest.mark.vcr
async def test_tag_push_creates_the_release_once(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    configure(fake_github, "release-publish:\n  tag-pattern: 'v*'\n")
    old_release(fake_github, "v0.9.0")
    merged(fake_github, "Fix crash", labels=["bug"])
    fake_github.add_tag(REPO, "v1.0.0")
    fake_github.add_tag(REPO, "nightly")
    caplog.set_level(logging.INFO, logger="ghapp")
    async with release_app(tmp_path, fake_github) as app:
        first = await app.dispatch("push", tag_push("v1.0.0"), delivery_id="push-1")
        assert first.status == "done", first.runs
        # GitHub redelivers the same push under a new id: no second release.
        others = [await app.dispatch("push", tag_push("v1.0.0"), delivery_id="push-2")]
        # A tag that already has its release, one outside the pattern, a branch push.
        others.append(await app.dispatch("push", tag_push("v0.9.0"), delivery_id="push-3"))
        others.append(await app.dispatch("push", tag_push("nightly"), delivery_id="push-4"))
        branch = on_main(push_event("refs/heads/main"))
        others.append(await app.dispatch("push", branch, delivery_id="push-5"))
    assert [outcomes(d) for d in others] == [{"release-publish": "ok"}] * 4
    # What it decided on each tag it looked at: the redelivery is not even looked at.
    decided = [r.getMessage() for r in caplog.records if r.getMessage().startswith("tag ")]
    assert decided == ["tag v1.0.0: published", "tag v0.9.0: exists"]
    [created] = posts(app, RELEASES)
    assert created.body["tag_name"] == "v1.0.0"
    assert created.body["draft"] is False
    assert created.headers["x-github-delivery"] == "push-1"
    assert "* Fix crash (#" in created.body["body"]
    assert any(r.path == f"{RELEASES}/tags/v0.9.0" for r in app.requests)


@pytest.mark.vcr
async def test_tag_push_does_nothing_without_a_section(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.add_tag(REPO, "v1.0.0")
    async with release_app(tmp_path, fake_github) as app:
        delivery = await app.dispatch("push", tag_push("v1.0.0"), delivery_id="push-1")
    # It ran, and stopped at the missing section: not even the releases were read.
    assert outcomes(delivery) == {"release-publish": "ok"}
    assert [r.path for r in app.requests] == ["/app", *CONFIG_READS]


# Without a file of its own, the owner's `.github` repository's is read, as Probot does.
CONFIG_READS = [
    f"/repos/{REPO}/contents/.github/ghapp.yml",
    "/repos/octo-org/.github/contents/.github/ghapp.yml",
]

# -- notes ----------------------------------------------------------------------------------

RELEASE_DRAFTER_SECTION = """\
release-publish:
  name-template: 'Hello $RESOLVED_VERSION'
  categories:
    - title: '🚀 Features'
      labels: [feature, enhancement]
    - title: '🐛 Bug Fixes'
      label: bug
  exclude-labels: [skip-changelog]
  change-template: '- $TITLE (#$NUMBER) @$AUTHOR'
  template: |
    $CHANGES

    Thanks to $CONTRIBUTORS
"""


@pytest.mark.vcr
async def test_notes_are_grouped_by_release_drafter_categories(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    configure(fake_github, RELEASE_DRAFTER_SECTION)
    old_release(fake_github, "v1.0.0")
    search = merged(fake_github, "Add *search*", labels=["feature"], user="mona")
    crash = merged(fake_github, "Fix crash", labels=["bug"], user="hubot")
    chore = merged(fake_github, "Bump deps", labels=["skip-changelog"], user="dependabot[bot]")
    docs = merged(fake_github, "Docs", user="mona")
    fake_github.add_pull(REPO, "Closed unmerged", state="closed")
    fake_github.add_pull(REPO, "Merged elsewhere", merged=True, state="closed", base="dev")
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release minor")
    [created] = posts(app, RELEASES)
    assert created.body["name"] == "Hello 1.1.0"
    # As release-drafter writes it: uncategorised changes first and without a heading,
    # titles unescaped (no `change-title-escapes`), the template's last newline kept.
    assert created.body["body"] == (
        f"- Docs (#{docs}) @mona\n\n"
        "## 🚀 Features\n\n"
        f"- Add *search* (#{search}) @mona\n\n"
        "## 🐛 Bug Fixes\n\n"
        f"- Fix crash (#{crash}) @hubot\n\n"
        "Thanks to @hubot and @mona\n"
    )
    assert f"#{chore}" not in created.body["body"]


@pytest.mark.vcr
async def test_notes_list_every_merged_pull_over_three_pages(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    old_release(fake_github, "v1.0.0")
    numbers = [merged(fake_github, f"Change {i}") for i in range(250)]
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release patch")
    [created] = posts(app, RELEASES)
    body = created.body["body"]
    assert all(f"(#{n}) @octocat" in body for n in numbers)
    assert body.count("\n* Change ") == 250
    pages = [r for r in app.requests if r.method == "GET" and r.path == f"/repos/{REPO}/pulls"]
    assert len(pages) == 3
    assert all("base=main" in r.query and "state=closed" in r.query for r in pages)


@pytest.mark.vcr
async def test_notes_without_pulls_list_the_commits(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    old_release(fake_github, "v1.0.0")
    fake_github.add_commit(REPO, "Tidy the README\n\nLonger text.", author_login="mona")
    fake_github.add_commit(REPO, "Fix a typo", author_login=None, author_name="Someone")
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release patch")
    [created] = posts(app, RELEASES)
    lines = created.body["body"].splitlines()
    assert [line.split(" (")[0] for line in lines if line.startswith("* ")] == [
        "* Tidy the README",
        "* Fix a typo",
    ]
    assert lines[-1] == "**Contributors:** @mona"
    assert any(r.path == f"/repos/{REPO}/compare/v1.0.0...main" for r in app.requests)


# -- the next-version draft -----------------------------------------------------------------


def merged_event(number: int, labels: list[str]) -> dict[str, Any]:
    payload = pull_request_event("closed", number=number, merged=True, labels=labels)
    payload["pull_request"]["base"]["ref"] = "main"
    return on_main(payload)


@pytest.mark.vcr
async def test_merges_keep_one_draft_for_the_next_version(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    # No labels bump a version unless the file says so (release-drafter's default: patch).
    configure(
        fake_github,
        "release-publish:\n  draft-next: true\n"
        "  version-resolver:\n    minor:\n      labels: [feature]\n",
    )
    old_release(fake_github, "v1.0.0")
    first = merged(fake_github, "Fix crash", labels=["bug"])
    async with release_app(tmp_path, fake_github) as app:
        await app.dispatch("pull_request", merged_event(first, ["bug"]), delivery_id="pr-1")
        [created] = posts(app, RELEASES)
        assert created.body["draft"] is True
        assert created.body["tag_name"] == "v1.0.1"

        # Two pull requests merge together: still one draft, now for a minor release.
        second = merged(fake_github, "Add search", labels=["feature"])
        third = merged(fake_github, "Add export", labels=["feature"])
        await asyncio.gather(
            app.dispatch("pull_request", merged_event(second, ["feature"]), delivery_id="pr-2"),
            app.dispatch("pull_request", merged_event(third, ["feature"]), delivery_id="pr-3"),
        )
        # The same merge redelivered changes nothing.
        await app.dispatch("pull_request", merged_event(third, ["feature"]), delivery_id="pr-4")
        # Not merged, or merged elsewhere: no draft work.
        closed = on_main(pull_request_event("closed", number=99, merged=False))
        await app.dispatch("pull_request", closed, delivery_id="pr-5")

    assert len(posts(app, RELEASES)) == 1
    [updated] = patches(app)
    assert updated.path.startswith(f"{RELEASES}/")
    assert updated.body["tag_name"] == "v1.1.0"
    for number in (first, second, third):
        assert f"(#{number})" in updated.body["body"]


V7_SECTION = """\
release-publish:
  tag-template: 'v$NEXT_MINOR_VERSION'
  name-template: 'Next $RESOLVED_VERSION'
  include-paths: [src/]
  categories:
    - title: Fixes
      semver-increment: minor
      when: {labels: [bug]}
  template: "$CHANGES\\nafter $PREVIOUS_TAG"
"""


@pytest.mark.vcr
async def test_a_v7_release_drafter_file_drafts_as_release_drafter(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """Paths are read from the pull requests' files and authors from their commits; the tag
    uses $NEXT_MINOR_VERSION, the category's semver-increment bumps the resolved version; a
    published prerelease is not the previous release."""
    configure(fake_github, V7_SECTION)
    old_release(fake_github, "v1.0.0", days_ago=30)
    fake_github.add_tag(REPO, "v1.1.0-rc.1")
    rc = fake_github.add_release(REPO, "v1.1.0-rc.1", name="rc", body="rc", prerelease=True)
    rc.created_at = rc.published_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    src = fake_github.add_pull(
        REPO,
        "Fix parser",
        merged=True,
        state="closed",
        labels=["bug"],
        files=[{"filename": "src/parse.py"}],
        # Two commits: the author's, and hubot's with a co-author who has no account.
        commit_authors=[[("octocat", "Octo Cat")], [("hubot", "Hubot"), (None, "Ada")]],
    ).number
    docs = fake_github.add_pull(
        REPO, "Docs", merged=True, state="closed", files=[{"filename": "docs/x.md"}]
    ).number
    async with release_app(tmp_path, fake_github) as app:
        await app.dispatch("pull_request", merged_event(src, ["bug"]), delivery_id="pr-1")
    [created] = posts(app, RELEASES)
    assert created.body["tag_name"] == "v1.1.0"
    assert created.body["name"] == "Next 1.1.0"
    assert (
        created.body["body"]
        == f"## Fixes\n\n* Fix parser (#{src}) @octocat, Ada, @hubot\nafter v1.0.0"
    )
    assert f"#{docs}" not in created.body["body"]
    files = [r for r in app.requests if r.path.endswith("/files")]
    assert {r.path for r in files} == {f"/repos/{REPO}/pulls/{n}/files" for n in (src, docs)}


@pytest.mark.vcr
async def test_no_draft_without_a_section(tmp_path: Path, fake_github: FakeGitHub) -> None:
    number = merged(fake_github, "Fix crash", labels=["bug"])
    async with release_app(tmp_path, fake_github) as app:
        delivery = await app.dispatch(
            "pull_request", merged_event(number, ["bug"]), delivery_id="pr-1"
        )
    assert outcomes(delivery) == {"release-publish": "ok"}
    assert [r.path for r in app.requests] == ["/app", *CONFIG_READS]


# -- the build step -------------------------------------------------------------------------

BUILD_SECTION = "release-publish:\n  dispatch-event: build-release\n"


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def finished_run(fake: FakeGitHub, artifacts: dict[str, bytes]) -> None:
    """A completed run with a fixed id, holding `artifacts`."""
    run_id = fake.add_workflow_run(REPO, artifacts)
    repo = fake.repo(REPO)
    run = repo.workflow_runs.pop(run_id)
    run.id = RUN_ID
    repo.workflow_runs[RUN_ID] = run
    for artifact_id in run.artifact_ids:
        repo.artifacts[artifact_id].run_id = RUN_ID


def run_event(correlation: str, conclusion: str, *, run_id: int = RUN_ID) -> dict[str, Any]:
    """The `workflow_run.completed` of the run the dispatch started: in this repository,
    by the App's bot, titled with the correlation id."""
    payload = on_main(
        workflow_run_event(
            conclusion=conclusion,
            run_id=run_id,
            triggering_event="repository_dispatch",
            actor=BOT,
        )
    )
    payload["workflow_run"]["display_title"] = f"Build v1.0.0 {correlation}"
    return payload


def dispatched(app: SkillTestApp) -> dict[str, Any]:
    [sent] = posts(app, f"/repos/{REPO}/dispatches")
    return sent.body


def stale_draft(fake: FakeGitHub) -> None:
    """A draft for v1.0.0 that already holds a `dist.zip` from an earlier build."""
    from tests.support.fake_github.state import ReleaseAsset, next_id

    repo = fake.repo(REPO)
    rel = fake.add_release(REPO, "v1.0.0", draft=True, body="draft notes")
    uploader = fake.app_identity.bot_login
    asset = ReleaseAsset(next_id(), rel.id, "dist.zip", "application/zip", b"old", uploader)
    repo.assets[asset.id] = asset
    rel.asset_ids.append(asset.id)


@pytest.mark.vcr
async def test_build_success_attaches_artifacts_and_publishes(
    tmp_path: Path,
    fake_github: FakeGitHub,
    frozen_clock: list[datetime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ghapp")
    configure(fake_github, BUILD_SECTION)
    merged(fake_github, "Add search", labels=["feature"])
    stale_draft(fake_github)
    finished_run(fake_github, {"dist": zip_of({"app.tar.gz": b"tgz"})})
    async with release_app(tmp_path, fake_github) as app:
        reply = await run_command(app, "release 1.0.0")
        assert reply.startswith("Drafted [v1.0.0](") and "`build-release`" in reply
        [draft] = patches(app)
        assert draft.body["draft"] is True
        sent = dispatched(app)
        assert sent["event_type"] == "build-release"
        payload = sent["client_payload"]
        assert payload["version"] == "1.0.0" and payload["tag"] == "v1.0.0"
        assert draft.path == f"{RELEASES}/{payload['release_id']}"
        correlation = payload["correlation_id"]
        assert correlation in draft.body["body"]
        # Asked again while the build runs: nothing new.
        waiting = await run_command(app, "release 1.0.0", comment_id=7002)
        assert "already waiting for its build" in waiting
        # A merge while it builds: the next-version draft waits rather than guess v1.0.0.
        late = merged(fake_github, "Late fix", labels=["bug"])
        await app.dispatch("pull_request", merged_event(late, ["bug"]), delivery_id="pr-late")
        assert len(app.writes()) == 2
        assert "a release build is pending; the next-version draft waits" in caplog.messages
        # The same request retried (its dispatch may have been lost): dispatched again.
        retried = await run_command(app, "release 1.0.0")
        assert retried.startswith("Drafted [v1.0.0](")
        sends = posts(app, f"/repos/{REPO}/dispatches")
        assert [r.body for r in sends] == [sent, sent]
        assert len(app.writes()) == 3

        other = on_main(workflow_run_event(conclusion="success", run_id=RUN_ID + 1))
        ignored = await app.dispatch("workflow_run", other, delivery_id="run-0")  # not ours
        assert outcomes(ignored) == {"release-publish": "ok"}
        assert len(app.writes()) == 3
        done = await app.dispatch(
            "workflow_run", run_event(correlation, "success"), delivery_id="run-1"
        )
        assert done.status == "done", done.runs
        await app.dispatch("workflow_run", run_event(correlation, "success"), delivery_id="run-2")

    release_path = draft.path
    deletes = [r for r in app.writes() if r.method == "DELETE"]
    assert [r.path.rsplit("/", 2)[-2] for r in deletes] == ["assets"]
    uploads = [r for r in app.writes() if r.path.endswith("/assets") and r.method == "POST"]
    assert [(r.query, r.headers["content-type"]) for r in uploads] == [
        ("name=dist.zip", "application/zip")
    ]
    assert uploads[0].path == f"/api/uploads{release_path}/assets"
    assert app.writes().index(deletes[0]) < app.writes().index(uploads[0])
    [published] = patches(app)[1:]
    assert published.path == release_path
    assert published.body["draft"] is False
    assert "ghapp-release" not in published.body["body"]
    assert "* Add search (#" in published.body["body"]
    assert posts(app, RELEASES) == []


@pytest.mark.vcr
async def test_unpacked_artifacts_get_their_own_content_types(
    tmp_path: Path, fake_github: FakeGitHub, frozen_clock: list[datetime]
) -> None:
    configure(fake_github, BUILD_SECTION + "  unpack-artifacts: true\n")
    files = {"app-1.0.0.tar.gz": b"tgz", "checksums.json": b"{}", "bin/app": b"elf"}
    finished_run(fake_github, {"dist": zip_of(files)})
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release 1.0.0")
        correlation = dispatched(app)["client_payload"]["correlation_id"]
        await app.dispatch("workflow_run", run_event(correlation, "success"), delivery_id="run-1")
    uploads = [r for r in app.writes() if r.path.endswith("/assets") and r.method == "POST"]
    assert sorted((r.query, r.headers["content-type"]) for r in uploads) == [
        ("name=app", "application/octet-stream"),
        ("name=app-1.0.0.tar.gz", "application/gzip"),
        ("name=checksums.json", "application/json"),
    ]
    assert patches(app)[-1].body["draft"] is False


@pytest.mark.vcr
async def test_failed_build_leaves_the_draft_and_says_why(
    tmp_path: Path, fake_github: FakeGitHub, frozen_clock: list[datetime]
) -> None:
    configure(fake_github, BUILD_SECTION)
    finished_run(fake_github, {"dist": zip_of({"app": b"x"})})
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release 1.0.0")
        correlation = dispatched(app)["client_payload"]["correlation_id"]
        await app.dispatch("workflow_run", run_event(correlation, "failure"), delivery_id="run-1")
        # A later success of the same (failed) request does not publish it: that build
        # was settled, so the releases are not even read again.
        before = len(app.requests)
        late = await app.dispatch(
            "workflow_run", run_event(correlation, "success"), delivery_id="run-2"
        )
    assert outcomes(late) == {"release-publish": "ok"}
    assert not [r for r in app.requests[before:] if r.path.startswith(RELEASES)]
    [failed] = patches(app)
    assert "draft" not in failed.body
    body = failed.body["body"]
    assert body.startswith("> [!WARNING]\n> **Not published: the build failed.**")
    assert "ended with `failure`" in body
    assert "`@ghapp-test release 1.0.0`" in body
    assert not [r for r in app.writes() if r.path.endswith("/assets")]


@pytest.mark.vcr
async def test_builds_that_never_report_back_time_out(
    tmp_path: Path, fake_github: FakeGitHub, frozen_clock: list[datetime]
) -> None:
    configure(fake_github, BUILD_SECTION + "  build-timeout-minutes: 30\n")
    async with release_app(tmp_path, fake_github) as app:
        installed = installation_event("created", repositories=[REPO])
        await app.dispatch("installation", installed, delivery_id="install")
        await run_command(app, "release 1.0.0")
        scheduler = app.runtime.scheduler
        frozen_clock[0] = T0 + timedelta(minutes=20)
        before = len(app.requests)
        await scheduler.tick(now=T0.timestamp())
        await app.idle()
        # Within the deadline: the sweep read the releases (it ran) and left the draft.
        swept = [(r.method, r.path) for r in app.requests[before:]]
        assert ("GET", RELEASES) in swept
        assert patches(app) == []
        frozen_clock[0] = T0 + timedelta(minutes=90)
        await scheduler.tick(now=(T0 + timedelta(hours=1)).timestamp())
        await app.idle()
        await scheduler.tick(now=(T0 + timedelta(hours=2)).timestamp())
        await app.idle()
    [expired] = patches(app)  # marked once, not every hour
    body = expired.body["body"]
    assert body.startswith("> [!WARNING]\n> **Not published: the build timed out.**")
    assert "within 30 minutes of dispatching `build-release`" in body
    assert '"state":"timed_out"' in body


# -- build slots and deadlines --------------------------------------------------------------


def started(app: SkillTestApp) -> list[str]:
    """The tags whose builds were dispatched, in order."""
    return [r.body["client_payload"]["tag"] for r in posts(app, f"/repos/{REPO}/dispatches")]


@pytest.mark.vcr
async def test_a_third_build_waits_for_a_slot_and_starts_in_order(
    tmp_path: Path, fake_github: FakeGitHub, frozen_clock: list[datetime]
) -> None:
    configure(fake_github, BUILD_SECTION)  # max-concurrent-builds: 2 by default
    finished_run(fake_github, {"dist": zip_of({"app": b"x"})})
    async with release_app(tmp_path, fake_github) as app:
        replies = [
            await run_command(app, f"release {version}", comment_id=7100 + n)
            for n, version in enumerate(["1.0.0", "1.1.0", "1.2.0", "1.3.0"])
        ]
        for reply, tag in zip(replies, ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"], strict=True):
            assert reply.startswith(f"Drafted [{tag}](")
        assert all("dispatched `build-release` to build it;" in r for r in replies[:2])
        assert all("it is waiting for a build slot" in r for r in replies[2:])
        assert started(app) == ["v1.0.0", "v1.1.0"]
        created = {r.body["tag_name"]: r for r in posts(app, RELEASES)}
        for tag in ("v1.2.0", "v1.3.0"):
            body = created[tag].body["body"]
            assert body.startswith("> [!WARNING]\n> **Waiting for a build slot.** 2 build(s)")
            assert '"state":"waiting"' in body
        assert '"state":"pending"' in created["v1.0.0"].body["body"]
        # Asked again while it waits: still waiting, nothing sent.
        writes = len(app.writes())
        again = await run_command(app, "release 1.2.0", comment_id=7102)
        assert "waiting for a build slot" in again and len(app.writes()) == writes
        correlations = {
            r.body["client_payload"]["tag"]: r.body["client_payload"]["correlation_id"]
            for r in posts(app, f"/repos/{REPO}/dispatches")
        }
        # v1.0.0 succeeds: published, and the first waiting build (v1.2.0) starts.
        await app.dispatch(
            "workflow_run", run_event(correlations["v1.0.0"], "success"), delivery_id="run-1"
        )
        assert started(app) == ["v1.0.0", "v1.1.0", "v1.2.0"]
        # v1.1.0 fails: its slot frees too, and v1.3.0 starts.
        await app.dispatch(
            "workflow_run", run_event(correlations["v1.1.0"], "failure"), delivery_id="run-2"
        )
        assert started(app) == ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"]
        held = deadlines(app).held
        assert [task.args["correlation_id"] for task, _ in held] == [
            correlations["v1.0.0"],
            correlations["v1.1.0"],
            *[
                r.body["client_payload"]["correlation_id"]
                for r in posts(app, f"/repos/{REPO}/dispatches")[2:]
            ],
        ]
    # A started build's draft loses the notice and is pending from its dispatch.
    restarted = [r for r in patches(app) if '"state":"pending"' in str(r.body.get("body"))]
    assert len(restarted) == 2
    for entry in restarted:
        assert not entry.body["body"].startswith("> [!WARNING]")


def run_requested(correlation: str, run_id: int = RUN_ID) -> dict[str, Any]:
    """`workflow_run.requested` of the run the dispatch started."""
    payload = on_main(
        workflow_run_event(
            "requested", run_id=run_id, triggering_event="repository_dispatch", actor=BOT
        )
    )
    run = payload["workflow_run"]
    run["display_title"] = f"Build v1.0.0 {correlation}"
    run["html_url"] = f"https://github.com/{REPO}/actions/runs/{run_id}"
    return payload


@pytest.mark.vcr
@pytest.mark.parametrize("seen", [True, False], ids=["run-seen", "no-run"])
async def test_a_build_times_out_at_its_deadline_and_frees_its_slot(
    tmp_path: Path, fake_github: FakeGitHub, frozen_clock: list[datetime], seen: bool
) -> None:
    configure(
        fake_github, BUILD_SECTION + "  build-timeout-minutes: 30\n  max-concurrent-builds: 1\n"
    )
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release 1.0.0", comment_id=7201)
        waiting = await run_command(app, "release 1.1.0", comment_id=7202)
        assert "waiting for a build slot" in waiting
        [first] = [r.body["client_payload"] for r in posts(app, f"/repos/{REPO}/dispatches")]
        [(deadline, delay)] = deadlines(app).held
        # Deferred to the deadline (plus a second), not left to the hourly sweep.
        assert deadline.name == "build-deadline" and delay == 30 * 60 + 1
        assert deadline.args["correlation_id"] == first["correlation_id"]
        if seen:  # the run was seen starting: its link is noted, once
            requested = run_requested(first["correlation_id"])
            await app.dispatch("workflow_run", requested, delivery_id="requested")
            await app.dispatch("workflow_run", requested, delivery_id="requested-again")
            [noted] = patches(app)
            assert f'"run_url":"https://github.com/{REPO}/actions/runs/{RUN_ID}"' in str(
                noted.body["body"]
            )
        before = len(patches(app))
        frozen_clock[0] = T0 + timedelta(minutes=30, seconds=1)
        await deadlines(app).run(app)
        [expired, restarted] = patches(app)[before:]
        assert started(app) == ["v1.0.0", "v1.1.0"]  # the slot went to the next in line
        # The next build's deadline is counted from its own dispatch.
        [(second, second_delay)] = deadlines(app).held
        assert second.args["correlation_id"] != first["correlation_id"]
        assert second_delay == 30 * 60 + 1
    body = expired.body["body"]
    assert body.startswith("> [!WARNING]\n> **Not published: the build timed out.**")
    assert '"state":"timed_out"' in body
    link = f"](https://github.com/{REPO}/actions/runs/{RUN_ID}) did not complete within 30"
    assert (link in body) is seen
    assert ("No workflow run named" in body) is not seen
    assert "Waiting for a build slot" not in restarted.body["body"]
    assert '"state":"pending"' in restarted.body["body"]
    assert "2026-11-20T09:30:01+00:00" in restarted.body["body"]


@pytest.mark.vcr
async def test_a_deadline_task_leaves_a_build_that_reported_back(
    tmp_path: Path, fake_github: FakeGitHub, frozen_clock: list[datetime]
) -> None:
    configure(fake_github, BUILD_SECTION + "  build-timeout-minutes: 30\n")
    finished_run(fake_github, {"dist": zip_of({"app": b"x"})})
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release 1.0.0")
        correlation = dispatched(app)["client_payload"]["correlation_id"]
        await app.dispatch("workflow_run", run_event(correlation, "success"), delivery_id="run")
        [published] = patches(app)
        frozen_clock[0] = T0 + timedelta(minutes=31)
        before = len(app.requests)
        [ran] = await deadlines(app).run(app)
        assert ran.name == "build-deadline"
        # It ran (it read the releases) and found nothing to time out.
        assert ("GET", RELEASES) in [(r.method, r.path) for r in app.requests[before:]]
    assert patches(app) == [published] and published.body["draft"] is False


# -- which run counts as the build (issue 15, item 1) ---------------------------------------

ATTACK_RUN_ID = RUN_ID + 100
FORK = {"id": 66600666, "full_name": "mallory/hello", "name": "hello"}


def _by(user: str) -> dict[str, Any]:
    return {"login": user, "id": 66600001, "type": "User"}


def _fork_pull_request(run: dict[str, Any]) -> None:
    run.update(event="pull_request", head_repository=FORK, actor=_by("mallory"))
    run["triggering_actor"] = _by("mallory")


def _fork_head(run: dict[str, Any]) -> None:
    run["head_repository"] = FORK  # claims repository_dispatch and the bot, but ran a fork


def _person_dispatched(run: dict[str, Any]) -> None:
    run["actor"] = run["triggering_actor"] = _by("mallory")


def _person_reran(run: dict[str, Any]) -> None:
    run["triggering_actor"] = _by("mallory")


def _pull_request_in_repo(run: dict[str, Any]) -> None:
    run["event"] = "pull_request"


def _other_repository(run: dict[str, Any]) -> None:
    run["repository"] = run["head_repository"] = FORK


def _no_actor(run: dict[str, Any]) -> None:
    del run["actor"], run["triggering_actor"]


ATTACKS = {
    "fork-pull-request": _fork_pull_request,
    "fork-head": _fork_head,
    "person-dispatched": _person_dispatched,
    "person-reran": _person_reran,
    "pull-request-in-repo": _pull_request_in_repo,
    "other-repository": _other_repository,
    "no-actor": _no_actor,
}


@pytest.mark.vcr
@pytest.mark.parametrize("conclusion", ["success", "failure"])
@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_only_the_run_the_dispatch_started_counts_as_the_build(
    tmp_path: Path,
    fake_github: FakeGitHub,
    frozen_clock: list[datetime],
    caplog: pytest.LogCaptureFixture,
    attack: str,
    conclusion: str,
) -> None:
    """An outsider's run titled with the (public) correlation id completes first: it is
    ignored whether it succeeded (its artifacts would be published) or failed (the build
    would be marked failed); the genuine run then publishes the release."""
    caplog.set_level(logging.WARNING, logger="ghapp")
    configure(fake_github, BUILD_SECTION)
    finished_run(fake_github, {"dist": zip_of({"app.tar.gz": b"genuine"})})
    evil = fake_github.add_workflow_run(REPO, {"dist": zip_of({"app.tar.gz": b"evil"})})
    run = fake_github.repo(REPO).workflow_runs.pop(evil)
    run.id = ATTACK_RUN_ID
    fake_github.repo(REPO).workflow_runs[ATTACK_RUN_ID] = run
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release 1.0.0")
        correlation = dispatched(app)["client_payload"]["correlation_id"]
        before = len(app.requests)
        payload = run_event(correlation, conclusion, run_id=ATTACK_RUN_ID)
        ATTACKS[attack](payload["workflow_run"])
        ignored = await app.dispatch("workflow_run", payload, delivery_id="attack")
        assert outcomes(ignored) == {"release-publish": "ok"}
        # Refused on the payload alone: not even the releases were read.
        assert not [r for r in app.requests[before:] if "/releases" in r.path]
        [warning] = [m for m in caplog.messages if "is ignored" in m]
        assert f"workflow run {ATTACK_RUN_ID} names build {correlation}" in warning
        genuine = await app.dispatch(
            "workflow_run", run_event(correlation, "success"), delivery_id="genuine"
        )
        assert genuine.status == "done", genuine.runs
    assert not [r for r in app.requests if str(ATTACK_RUN_ID) in r.path]
    assert [r.path for r in app.requests if "/actions/runs/" in r.path] == [
        f"/repos/{REPO}/actions/runs/{RUN_ID}/artifacts"
    ]
    [published] = patches(app)
    assert published.body["draft"] is False
    assert "Not published" not in published.body["body"]


# -- announcements --------------------------------------------------------------------------


@pytest.mark.vcr
async def test_released_comments_once_per_pull_and_issue_and_milestone_closed(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    configure(fake_github, "release-publish:\n  comment-on-released: true\n")
    old_release(fake_github, "v1.0.0")
    issue = fake_github.add_issue(REPO, "Crash on start").number
    fix = merged(fake_github, "Fix crash", body=f"Fixes #{issue}")
    also = merged(fake_github, "Also fix crash", body=f"closes #{issue}")
    milestone = fake_github.add_milestone(REPO, "v1.0.1").number
    fake_github.add_milestone(REPO, "v1.1.0")
    async with release_app(tmp_path, fake_github) as app:
        await run_command(app, "release patch")
        await run_command(app, "release 1.0.1", comment_id=7002)  # exists: no new comments
    comments = [r for r in app.writes() if r.path.endswith("/comments")]
    assert sorted(int(r.path.split("/")[-2]) for r in comments) == sorted([issue, fix, also])
    url = comments[0].body["body"].split("](", 1)[1].rstrip(")")
    assert {r.body["body"] for r in comments} == {f"🎉 Released in [v1.0.1]({url})"}
    closed = [r for r in app.writes() if "/milestones/" in r.path]
    assert [(r.path, r.body) for r in closed] == [
        (f"/repos/{REPO}/milestones/{milestone}", {"state": "closed"})
    ]


# -- DRY_RUN --------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_dry_run_creates_nothing(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    configure(fake_github, "release-publish:\n  comment-on-released: true\n")
    merged(fake_github, "Fix crash", labels=["bug"])
    fake_github.add_tag(REPO, "v1.0.0")
    caplog.set_level(logging.INFO, logger="ghapp")
    async with release_app(tmp_path, fake_github, env={"DRY_RUN": "1"}) as app:
        delivery = await app.dispatch("push", tag_push("v1.0.0"), delivery_id="push-1")
        reply = await run_command(app, "release 1.0.0")
    assert delivery.status == "done", delivery.runs
    assert reply == "Dry run: v1.0.0 would be created; nothing was sent to GitHub."
    assert app.writes() == []
    not_sent = [str(getattr(r, "body", "")) for r in caplog.records if "not sent" in r.msg]
    assert any(f"POST /repos/{REPO}/releases " in line for line in not_sent), not_sent
    # Reading the commits' authors is a GraphQL query: a read, sent even in a dry run.
    queries = [r for r in app.requests if r.path == "/graphql"]
    assert queries and all(r.sent and r.status == 200 for r in queries)
    assert not any("/graphql" in line for line in not_sent)


# -- through mention-reply ------------------------------------------------------------------


@pytest.mark.vcr
async def test_release_through_mention_reply_needs_maintain(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    from ghapp.skills.mention_reply import skill as mention_reply

    fake_github.set_permission(REPO, "mona", "maintain")
    fake_github.set_permission(REPO, "hubot", "write")
    issue = fake_github.add_issue(REPO, "Ship 1.0").number

    def comment(login: str, text: str, comment_id: int) -> dict[str, Any]:
        body = f"@ghapp-test {text}"
        return on_main(
            issue_comment_created(body, login=login, issue_number=issue, comment_id=comment_id)
        )

    app = SkillTestApp(tmp_path, github_app=fake_github.app, skills=[mention_reply, skill])
    async with app:
        await app.dispatch(
            "issue_comment", comment("hubot", "release 1.0.0", 8001), delivery_id="c-1"
        )
        await app.dispatch(
            "issue_comment", comment("mona", "release 1.0.0", 8002), delivery_id="c-2"
        )
    [created] = posts(app, RELEASES)
    assert created.body["tag_name"] == "v1.0.0"
    assert created.headers["x-github-delivery"] == "c-2"
    refused, released = [
        r.body["body"] for r in posts(app, f"/repos/{REPO}/issues/{issue}/comments")
    ]
    assert refused.startswith("Sorry @hubot, `release` needs") and "maintain" in refused
    assert "Released [v1.0.0](" in released
