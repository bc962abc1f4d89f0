"""A third-party skill plugs in through its own entry point, with no change to ghapp."""

from __future__ import annotations

import pytest

from ghapp.bus import load_skills
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issues_event


def test_example_skill_is_found_through_its_entry_point() -> None:
    skills = load_skills()
    assert "hello" in skills
    assert skills["hello"].events == {"issues"}


@pytest.mark.vcr
async def test_example_skill_greets_once_even_when_redelivered(
    skill_app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue("octo-org/hello", "Broken", user="mona")
    n = issue.number
    payload = issues_event("opened", number=n, login="mona", repo="octo-org/hello")
    first = await skill_app.dispatch("issues", payload, delivery_id="d-1")
    assert first.status == "done", first
    assert {r.skill: r.outcome for r in first.runs}["hello"] == "ok"
    # GitHub redelivers under a new id: the greeting is not posted twice.
    await skill_app.dispatch("issues", payload, delivery_id="d-2")
    comments = [
        r for r in skill_app.writes() if r.path == f"/repos/octo-org/hello/issues/{n}/comments"
    ]
    assert len(comments) == 1
    assert comments[0].body == {"body": "Hello @mona!"}
    # Requests made while handling a delivery carry its id, for correlation.
    assert comments[0].headers["x-github-delivery"] == "d-1"
