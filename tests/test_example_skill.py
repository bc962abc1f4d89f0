"""A third-party skill plugs in through its own entry point, with no change to ghapp."""

from __future__ import annotations

import pytest

from ghapp.bus import load_skills
from ghapp.testing import SkillTestApp, outcomes
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
    # GitHub redelivers under a new id: the greeting is not posted twice. The skill ran
    # (ok) and stopped at its record of the greeting: it did not even look on GitHub.
    second = await skill_app.dispatch("issues", payload, delivery_id="d-2")
    assert outcomes(second)["hello"] == "ok"
    assert [r.method for r in skill_app.requests if r.path.endswith(f"/{n}/comments")] == ["POST"]
    comments = [
        r for r in skill_app.writes() if r.path == f"/repos/octo-org/hello/issues/{n}/comments"
    ]
    assert len(comments) == 1
    assert comments[0].body == {"body": "Hello @mona!"}
    # Requests made while handling a delivery carry its id, for correlation.
    assert comments[0].headers["x-github-delivery"] == "d-1"


REPO = "octo-org/hello"


def greetings(app: SkillTestApp, number: int) -> list[object]:
    return [r.body for r in app.writes() if r.path == f"/repos/{REPO}/issues/{number}/comments"]


async def issue_after_a_crash(
    app: SkillTestApp, fake: FakeGitHub, comments: list[tuple[str, str]]
) -> tuple[int, dict[str, object]]:
    """An issue whose greeting an earlier attempt began and never finished (it crashed,
    maybe after posting), with `comments` (body, author) on it; its `issues.opened`."""
    n = fake.add_issue(REPO, "Broken", user="mona").number
    assert await app.runtime.effects.begin(f"hello:{REPO}:greet:{n}", "crashed") == "new"
    for body, user in comments:
        fake.add_comment(REPO, n, body, user=user)
    return n, issues_event("opened", number=n, login="mona", repo=REPO)


@pytest.mark.vcr
async def test_example_skill_after_a_crash_finds_its_greeting_already_posted(
    skill_app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    n, payload = await issue_after_a_crash(
        skill_app,
        fake_github,
        [("Hello @mona!", "mona"), ("Hello @mona!", "ghapp-test[bot]")],  # the second is ours
    )
    delivery = await skill_app.dispatch("issues", payload, delivery_id="retry-1")
    assert {r.skill: r.outcome for r in delivery.runs}["hello"] == "ok"
    assert greetings(skill_app, n) == []
    listed = [r for r in skill_app.requests if r.path == f"/repos/{REPO}/issues/{n}/comments"]
    assert [r.method for r in listed] == ["GET"]
    # Finished now: a redelivery neither looks nor posts.
    again = await skill_app.dispatch("issues", payload, delivery_id="retry-2")
    assert outcomes(again)["hello"] == "ok"
    assert len([r for r in skill_app.requests if r.path.endswith("/comments")]) == 1


@pytest.mark.vcr
async def test_example_skill_after_a_crash_greets_when_nothing_was_posted(
    skill_app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    # The bot's other words, and someone quoting the greeting, do not count.
    n, payload = await issue_after_a_crash(
        skill_app, fake_github, [("Hello @octocat!", "ghapp-test[bot]"), ("Hello @mona!", "mona")]
    )
    await skill_app.dispatch("issues", payload, delivery_id="retry-3")
    assert greetings(skill_app, n) == [{"body": "Hello @mona!"}]
