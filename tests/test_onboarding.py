"""onboarding end to end: the "Configure ghapp" pull request, GitHub replayed from cassettes.

Each test seeds the fake GitHub (so recording works), dispatches real-shaped installation
events or an `@ghapp-test config` comment, and asserts on the requests ghapp attempted
(`app.writes()`): the branch, the commit that adds the file, the pull request.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghapp.bus import load_skills
from ghapp.options import validate_options
from ghapp.skills import label_sync, mention_reply, onboarding
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import (
    installation_event,
    installation_repositories_event,
    issue_comment_created,
)

REPO = "octo-org/hello"
R = f"/repos/{REPO}"
CONFIG_PATH = ".github/ghapp.yml"
BRANCH = "ghapp/configure"

RELEASE_DRAFTER = """\
# Our release notes.
name-template: 'Hello $RESOLVED_VERSION'
tag-template: 'v$RESOLVED_VERSION'
categories:
  - title: 'New'
    labels: ['enhancement']   # what users asked for
  - title: 'Fixed'
    label: 'bug'
exclude-labels: ['skip-changelog']
change-template: '- $TITLE (#$NUMBER) by @$AUTHOR'
version-resolver:
  minor:
    labels: ['enhancement']
template: |
  ## Changes

  $CHANGES
"""


def seed(fake: FakeGitHub, *, release_drafter: bool = True) -> None:
    fake.add_label(REPO, "bug", "d73a4a", "Something isn't working")
    fake.add_label(REPO, "enhancement", "a2eeef", "New feature or request")
    fake.add_label(REPO, "skip-changelog", "ededed")
    if release_drafter:
        fake.set_file(REPO, ".github/release-drafter.yml", RELEASE_DRAFTER)


def config_comment(fake: FakeGitHub, comment_id: int = 5001) -> tuple[int, dict[str, Any]]:
    """`@ghapp-test config` on a new issue, the comment also in the fake under a fixed id
    (the fake numbers records from a counter; cassettes need the same paths every time)."""
    repo = fake.repo(REPO)
    issue = fake.add_issue(REPO, "Set up ghapp")
    comment = repo.comments.pop(fake.add_comment(REPO, issue.number, "@ghapp-test config"))
    comment.id = comment_id
    repo.comments[comment_id] = comment
    payload = issue_comment_created(
        "@ghapp-test config", issue_number=issue.number, comment_id=comment_id
    )
    return issue.number, payload


def proposal_writes(app: SkillTestApp) -> list[tuple[str, str]]:
    return [(w.method, w.path) for w in app.writes() if "/check-runs" not in w.path]


OPENED = [
    ("POST", f"{R}/git/refs"),
    ("PUT", f"{R}/contents/{CONFIG_PATH}"),
    ("POST", f"{R}/pulls"),
]


def proposed_file(app: SkillTestApp) -> str:
    put = next(w for w in app.writes() if w.method == "PUT")
    return base64.b64decode(put.body["content"]).decode()


def proposed_pull(app: SkillTestApp) -> dict[str, Any]:
    return next(w.body for w in app.writes() if w.method == "POST" and w.path == f"{R}/pulls")


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    """onboarding with label-sync (whose planner it shows) and mention-reply (`config`)."""
    skills = [onboarding.skill, label_sync.skill, mention_reply.skill]
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills) as test_app:
        yield test_app


@pytest.mark.vcr
async def test_installation_opens_one_pull_request_written_for_the_repository(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    delivery = await app.dispatch(
        "installation", installation_event("created", repositories=[REPO])
    )

    assert outcomes(delivery) == {"onboarding": "ok", "label-sync": "ok"}
    assert proposal_writes(app) == OPENED
    ref = next(w.body for w in app.writes() if w.path == f"{R}/git/refs")
    assert ref["ref"] == f"refs/heads/{BRANCH}"
    assert ref["sha"] == fake_github.repo(REPO).refs["main"]
    put = next(w.body for w in app.writes() if w.method == "PUT")
    assert put["branch"] == BRANCH

    text = proposed_file(app)
    config = yaml.safe_load(text)
    # The labels as they are, so merging renames, recolours and deletes nothing.
    assert config["label-sync"] == {
        "labels": [
            {"name": "bug", "color": "d73a4a", "description": "Something isn't working"},
            {"name": "enhancement", "color": "a2eeef", "description": "New feature or request"},
            {"name": "skip-changelog", "color": "ededed"},
        ]
    }
    # release-drafter's file carried over as written: same keys, comments kept, and the
    # `patch` level it leaves out stays out.
    assert config["release-publish"] == yaml.safe_load(RELEASE_DRAFTER)
    assert "# what users asked for" in text and "exclude-labels:" in text
    assert config["milestone-progress"] == {}
    # Every section is valid for its skill, as the repository will read it.
    skills = load_skills()
    for name in ("label-sync", "release-publish", "milestone-progress"):
        validate_options(name, skills[name].options, config[name])

    pull = proposed_pull(app)
    assert (pull["title"], pull["head"], pull["base"]) == ("Configure ghapp", BRANCH, "main")
    body = pull["body"]
    assert "**No changes**" in body  # label-sync's planner found nothing to change
    for section in ("`label-sync`", "`release-publish`", "`milestone-progress`"):
        assert section in body
    assert "`@ghapp-test config`" in body


@pytest.mark.vcr
async def test_without_release_drafter_the_common_layout_maps_features_to_minor(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github, release_drafter=False)
    payload = installation_repositories_event("added", added=[REPO])
    await app.dispatch("installation_repositories", payload)

    assert proposal_writes(app) == OPENED
    release = yaml.safe_load(proposed_file(app))["release-publish"]
    assert release["version-resolver"]["minor"]["labels"] == ["minor", "feature", "enhancement"]
    assert "release-drafter's common layout" in proposed_pull(app)["body"]


@pytest.mark.vcr
async def test_redeliveries_and_the_repository_added_again_open_nothing_more(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    created = installation_event("created", repositories=[REPO])
    await app.dispatch("installation", created, delivery_id="created-1")
    await app.dispatch("installation", created, delivery_id="created-2")  # a redelivery
    added = installation_repositories_event("added", added=[REPO])
    delivery = await app.dispatch("installation_repositories", added, delivery_id="added-1")

    assert proposal_writes(app) == OPENED
    assert outcomes(delivery) == {"onboarding": "ok", "label-sync": "ok"}


@pytest.mark.vcr
async def test_a_lost_database_proposes_nothing_again(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """What was proposed is remembered on GitHub: a fresh database (a reinstall, a lost
    volume) finds the open pull request and writes nothing."""
    seed(fake_github)
    created = installation_event("created", repositories=[REPO])
    skills = [onboarding.skill]
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    async with SkillTestApp(first_dir, github_app=fake_github.app, skills=skills) as first:
        await first.dispatch("installation", created, delivery_id="created-1")
        assert proposal_writes(first) == OPENED
    async with SkillTestApp(second_dir, github_app=fake_github.app, skills=skills) as second:
        delivery = await second.dispatch("installation", created, delivery_id="created-2")
        assert outcomes(delivery) == {"onboarding": "ok"}
        assert proposal_writes(second) == []
        # It looked: the pull requests from the branch, open or closed.
        looked = [r for r in second.requests if r.path == f"{R}/pulls"]
        assert [r.query for r in looked] == [
            "state=all&head=octo-org%3Aghapp%2Fconfigure&per_page=100"
        ]


async def test_two_deliveries_at_once_open_one_pull_request(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """Two workers on two deliveries for one repository at the same moment, the first
    write slow to answer (so the second attempt looks while the first is writing).
    Against the fake itself, not a cassette: a cassette answers in the order it recorded,
    so it cannot show whether the second attempt looked before or after the first wrote."""
    seed(fake_github)

    async def slow_branch(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("method") == "POST" and str(scope.get("path", "")).endswith("/git/refs"):
            await asyncio.sleep(0.5)
        await fake_github.app(scope, receive, send)

    created = installation_event("created", repositories=[REPO])
    added = installation_repositories_event("added", added=[REPO])
    async with SkillTestApp(tmp_path, github_app=slow_branch, skills=[onboarding.skill]) as app:
        await asyncio.gather(
            app.dispatch("installation", created, delivery_id="created-1"),
            app.dispatch("installation_repositories", added, delivery_id="added-1"),
        )
        assert proposal_writes(app) == OPENED
    assert len(fake_github.repo(REPO).pulls) == 1


@pytest.mark.vcr
async def test_a_closed_proposal_is_not_reopened_but_config_opens_a_new_one(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    fake_github.add_commit(REPO, "Add .github/ghapp.yml", branch=BRANCH, author_login=None)
    fake_github.add_pull(REPO, "Configure ghapp", head=BRANCH, state="closed")  # #1
    fake_github.set_permission(REPO, "octocat", "write")

    added = installation_repositories_event("added", added=[REPO])
    delivery = await app.dispatch("installation_repositories", added)
    assert outcomes(delivery) == {"onboarding": "ok", "label-sync": "ok"}
    assert proposal_writes(app) == []

    issue, comment = config_comment(fake_github)
    await app.dispatch("issue_comment", comment)
    assert proposal_writes(app) == [
        ("POST", f"{R}/issues/comments/5001/reactions"),
        # The old branch is started again from the default branch.
        ("PATCH", f"{R}/git/refs/heads/{BRANCH}"),
        ("PUT", f"{R}/contents/{CONFIG_PATH}"),
        ("POST", f"{R}/pulls"),
        ("POST", f"{R}/issues/{issue}/comments"),
    ]
    reply = app.writes()[-1].body["body"]
    assert "Opened #" in reply


@pytest.mark.vcr
async def test_config_links_the_open_pull_request(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    fake_github.set_permission(REPO, "octocat", "write")
    issue, comment = config_comment(fake_github)  # issue #1, so the proposal is #2
    await app.dispatch("installation", installation_event("created", repositories=[REPO]))

    await app.dispatch("issue_comment", comment)
    assert proposal_writes(app)[len(OPENED) :] == [
        ("POST", f"{R}/issues/comments/5001/reactions"),
        ("POST", f"{R}/issues/{issue}/comments"),
    ]
    assert "is open: #2." in app.writes()[-1].body["body"]


@pytest.mark.vcr
async def test_no_pull_request_where_the_file_exists(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    fake_github.set_file(REPO, CONFIG_PATH, "milestone-progress: {}\n")
    fake_github.set_permission(REPO, "octocat", "write")
    delivery = await app.dispatch(
        "installation", installation_event("created", repositories=[REPO])
    )
    assert outcomes(delivery) == {"onboarding": "ok", "label-sync": "ok"}
    assert proposal_writes(app) == []
    # It stopped at the file: no branch or pull request was even looked for.
    assert not [r for r in app.requests if "/pulls" in r.path or "/git/" in r.path]

    _issue, comment = config_comment(fake_github)
    await app.dispatch("issue_comment", comment)
    reply = app.writes()[-1].body["body"]
    assert "has `.github/ghapp.yml` already" in reply


@pytest.mark.vcr
async def test_config_needs_write_access(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    seed(fake_github)  # octocat can only read octo-org/hello
    issue, comment = config_comment(fake_github)
    await app.dispatch("issue_comment", comment)
    assert [w.path for w in app.writes()] == [
        f"{R}/issues/comments/5001/reactions",
        f"{R}/issues/{issue}/comments",
    ]
    assert "needs write access" in app.writes()[-1].body["body"]


@pytest.mark.vcr
async def test_switched_off_by_the_installation_owner(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed(fake_github)
    await app.set_switch(1, "", "onboarding", False)
    delivery = await app.dispatch(
        "installation", installation_event("created", repositories=[REPO])
    )
    assert outcomes(delivery) == {"onboarding": "skipped: switched off", "label-sync": "ok"}
    assert proposal_writes(app) == []


@pytest.mark.vcr
async def test_dry_run_logs_the_plan_and_sends_nothing(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    seed(fake_github)
    caplog.set_level(logging.INFO, logger="ghapp")
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[onboarding.skill], env={"DRY_RUN": "1"}
    ) as app:
        delivery = await app.dispatch(
            "installation", installation_event("created", repositories=[REPO])
        )
        assert outcomes(delivery) == {"onboarding": "ok"}
        assert app.writes() == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "dry run: would open 'Configure ghapp'" in logged
    assert "name: skip-changelog" in logged  # the file it would add
    # The body it would write; label-sync was not installed here, so no plan was computed.
    assert "label-sync is not installed here" in logged


@pytest.mark.vcr
async def test_an_empty_repository_gets_no_branch_and_no_failure(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    from tests.support.fake_github import Fault

    # GitHub answers 409 for the refs of a repository without commits.
    fake_github.faults.append(
        Fault("GET", r"/git/ref/heads/main$", 409, body={"message": "Git Repository is empty."})
    )
    delivery = await app.dispatch(
        "installation", installation_event("created", repositories=[REPO])
    )
    assert outcomes(delivery) == {"onboarding": "ok", "label-sync": "ok"}
    assert proposal_writes(app) == []
    assert [r.status for r in app.requests if r.path == f"{R}/git/ref/heads/main"] == [409]
