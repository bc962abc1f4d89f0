"""The onboarding pull request against a running `ghapp run` and a fake GitHub on loopback:
one proposal per repository, whatever arrives after it (issue 19's acceptance check)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.ghapp_process import GhappProcess, wait_for
from tests.support.payloads import installation_event, installation_repositories_event

pytestmark = pytest.mark.slow

REPO = "octo-org/hello"
BRANCH = "ghapp/configure"
RELEASE_DRAFTER = """\
categories:
  - title: Features
    labels: [enhancement]
exclude-labels: [skip-changelog]
change-template: '- $TITLE (#$NUMBER)'
version-resolver:
  minor:
    labels: [enhancement]
tag-template: 'v$RESOLVED_VERSION'
"""


@pytest.fixture
def github_url(fake_github: FakeGitHub) -> Iterator[str]:
    with run_fake_github(fake_github) as url:
        yield url


def onboarding_outcome(workdir: Path, delivery_id: str) -> str | None:
    """What the onboarding skill made of a delivery, read from the running App's database
    (None until the delivery is finished)."""
    with sqlite3.connect(workdir / "ghapp.db") as db:
        status = db.execute("SELECT status FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if status is None or status[0] not in ("done", "failed"):
            return None
        run = db.execute(
            "SELECT outcome FROM skill_runs WHERE delivery_id = ? AND skill = 'onboarding'",
            (delivery_id,),
        ).fetchone()
    return run[0] if run else "none"


def test_one_proposal_per_repository_against_a_running_app(
    tmp_path: Path, fake_github: FakeGitHub, github_url: str
) -> None:
    fake_github.add_label(REPO, "bug", "d73a4a", "Something isn't working")
    fake_github.add_label(REPO, "enhancement", "a2eeef", "New feature or request")
    fake_github.set_file(REPO, ".github/release-drafter.yml", RELEASE_DRAFTER)
    repo = fake_github.repo(REPO)
    app = GhappProcess(tmp_path, github_url).start()
    try:
        created = installation_event("created", repositories=[REPO])
        assert app.send("installation", created, delivery_id="inst-1").status_code == 202
        wait_for(lambda: len(repo.pulls) == 1)
        [pull] = repo.pulls.values()
        assert (pull.head_ref, pull.base_ref) == (BRANCH, "main")
        assert repo.issues[pull.number].title == "Configure ghapp"
        config = yaml.safe_load(repo.files[BRANCH][".github/ghapp.yml"])
        assert [lb["name"] for lb in config["label-sync"]["labels"]] == ["bug", "enhancement"]
        assert config["release-publish"] == yaml.safe_load(RELEASE_DRAFTER)
        assert config["milestone-progress"] == {}
        assert ".github/ghapp.yml" not in repo.files.get("main", {})  # only on its branch

        # A second installation event, and the repository added again: nothing new.
        again = installation_event("created", repositories=[REPO])
        assert app.send("installation", again, delivery_id="inst-2").status_code == 202
        added = installation_repositories_event("added", added=[REPO])
        assert app.send("installation_repositories", added, delivery_id="add-1").status_code == 202
        # Closed unmerged: not reopened, not proposed again.
        wait_for(lambda: onboarding_outcome(tmp_path, "add-1") == "ok")
        repo.issues[pull.number].state = "closed"
        added_again = installation_repositories_event("added", added=[REPO])
        sent = app.send("installation_repositories", added_again, delivery_id="add-2")
        assert sent.status_code == 202
        for delivery_id in ("inst-1", "inst-2", "add-1", "add-2"):
            wait_for(lambda d=delivery_id: onboarding_outcome(tmp_path, d) == "ok")
        assert len(repo.pulls) == 1
        assert repo.issues[pull.number].state == "closed"
    finally:
        assert app.stop() in (0, -15)

    # A reinstall on a fresh database: GitHub remembers the closed proposal.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    again_app = GhappProcess(fresh, github_url).start()
    try:
        reinstall = installation_event("created", repositories=[REPO])
        assert again_app.send("installation", reinstall, delivery_id="inst-3").status_code == 202
        wait_for(lambda: onboarding_outcome(fresh, "inst-3") == "ok")
    finally:
        assert again_app.stop() in (0, -15)
    assert len(repo.pulls) == 1
    assert repo.issues[pull.number].state == "closed"
    assert len(fake_github.requests_to("POST", rf"/repos/{REPO}/pulls$")) == 1
    # Each App looked once (later deliveries to the first were settled by its own
    # records); the fresh one found the closed pull request and left it.
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls$")) == 2
    assert fake_github.unrouted_requests() == []
