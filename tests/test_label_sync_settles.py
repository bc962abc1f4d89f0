"""A label file synced twice through a running ghapp writes once (issue 21), end to end.

The file mixes everything that used to make every later sync destructive again: an alias
that names another declared label, a rename chain, a swap of two names, `delete: true`,
and labels declared without a description. The first sync (a push that changes the file)
writes; a second push of the file and a `labels sync` command write nothing. Traffic is
replayed from cassettes recorded against the fake GitHub; assertions are on the requests
ghapp made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghapp.skills.label_sync import skill
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.fake_github.state import Label
from tests.support.payloads import label_event, push_event
from tests.test_label_sync import label_writes, run_command

REPO = "octo-org/hello"
R = f"/repos/{REPO}"
CONFIG_PATH = ".github/ghapp.yml"

CONFIG = """
label-sync:
  strict: true
  labels:
    # An alias naming another declared label: `bug` becomes `kind:bug`, and a new `bug`.
    - {name: "kind:bug", color: d73a4a, aliases: [bug]}
    - {name: bug, color: ee0701}
    # A rename chain: `enhancement` becomes `type:feature`, then `feature` `enhancement`.
    - {name: "type:feature", color: a2eeef, aliases: [enhancement]}
    - {name: enhancement, color: 84b6eb, aliases: [feature]}
    # A swap: the two labels were put on the wrong issues all along.
    - {name: good first issue, color: 7057ff, aliases: [help wanted]}
    - {name: help wanted, color: 008672, aliases: [good first issue]}
    # github-label-sync's entries: no description (kept), and a label to delete.
    - {name: question, color: d876e3}
    - {name: invalid, delete: true}
"""


def seed(fake: FakeGitHub) -> tuple[Label, Label]:
    """The repository before its first sync; returns the labels `bug` (`kind:bug` after)
    and `good first issue` (`help wanted` after the swap)."""
    bug = fake.add_label(REPO, "bug", "ee0701", "Something isn't working")
    fake.add_label(REPO, "feature", "84b6eb")
    fake.add_label(REPO, "enhancement", "a2eeef", "New feature or request")
    first_issue = fake.add_label(REPO, "good first issue", "008672", "Good for newcomers")
    fake.add_label(REPO, "help wanted", "7057ff", "Extra attention is needed")
    fake.add_label(REPO, "question", "cc317c", "Further information is requested")
    fake.add_label(REPO, "invalid", "e4e669")
    fake.add_label(REPO, "wontfix", "ffffff")
    for name in ("bug", "feature", "enhancement", "good first issue", "help wanted"):
        fake.add_issue(REPO, f"Labelled {name}", labels=[name])
    return bug, first_issue


def _push(fake: FakeGitHub, sha: str) -> dict[str, Any]:
    payload = push_event("refs/heads/main", files_changed=[CONFIG_PATH])
    payload["repository"]["default_branch"] = "main"
    # Fixed shas: cassettes match the file read on its `ref`.
    payload["after"] = fake.add_commit(REPO, "Labels", sha=sha)
    return payload


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[skill]) as test_app:
        yield test_app


FIRST_SYNC = [
    # Only the color: `question` declares no description, so it keeps its own.
    ("PATCH", f"{R}/labels/question", {"color": "d876e3"}),
    # `bug` is renamed (its issue keeps it), then a fresh `bug` is made.
    ("PATCH", f"{R}/labels/bug", {"new_name": "kind:bug", "color": "d73a4a"}),
    ("POST", f"{R}/labels", {"name": "bug", "color": "ee0701"}),
    # The chain, far end first: `enhancement` moves on, then `feature` takes its name.
    ("PATCH", f"{R}/labels/enhancement", {"new_name": "type:feature"}),
    ("PATCH", f"{R}/labels/feature", {"new_name": "enhancement"}),
    # The swap, through a temporary name.
    ("PATCH", f"{R}/labels/good first issue", {"new_name": "ghapp-tmp-good first issue"}),
    ("PATCH", f"{R}/labels/help wanted", {"new_name": "good first issue"}),
    ("PATCH", f"{R}/labels/ghapp-tmp-good first issue", {"new_name": "help wanted"}),
    # `delete: true` deletes `invalid`; `wontfix`, not declared, stays.
    ("DELETE", f"{R}/labels/invalid", None),
]


@pytest.mark.vcr
async def test_a_file_synced_twice_writes_once(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    bug, first_issue = seed(fake_github)
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG)

    first = await app.dispatch("push", _push(fake_github, "1" * 40))
    assert first.status == "done", first
    assert label_writes(app) == FIRST_SYNC

    # The same file pushed again (another commit touched it), then a sync by command:
    # nothing moves back, nothing is merged, re-created or swapped again.
    second = await app.dispatch("push", _push(fake_github, "2" * 40))
    assert second.status == "done", second
    reply = await run_command(app, ("labels", "sync"))
    assert reply.startswith("Labels synced.\n\nLabels already match the declaration")
    assert label_writes(app) == FIRST_SYNC

    # With `strict`, a hand edit of `kind:bug` restores that label alone: its old name
    # `bug`, now another declared label, is not merged into it.
    before = len(label_writes(app))
    bug.color = "000000"  # what a person did (the fake answers only while recording)
    recolored = label_event("edited", name="kind:bug", login="mona")
    recolored["changes"] = {"color": {"from": "d73a4a"}}
    await app.dispatch("label", recolored)
    assert label_writes(app)[before:] == [
        ("PATCH", f"{R}/labels/kind:bug", {"color": "d73a4a"}),
    ]

    # A person deletes `help wanted` (the label swapped in): `strict` creates it again.
    # The swap was synced, so the new label is not swapped with `good first issue`.
    del fake_github.repo(REPO).labels[first_issue.id]  # what the person did
    await app.dispatch("label", label_event("deleted", name="help wanted", login="mona"))
    reply = await run_command(app, ("labels", "sync"))
    assert reply.startswith("Labels synced.\n\nLabels already match the declaration")
    assert label_writes(app)[before + 1 :] == [
        ("POST", f"{R}/labels", {"name": "help wanted", "color": "008672"}),
    ]
