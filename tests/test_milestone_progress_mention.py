"""`@slug milestone …` as users meet it: through the real mention-reply skill, with its
permission check (triage by default), its 👀 and its reply (recorded cassettes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghapp.skills import mention_reply
from ghapp.skills.milestone_progress import skill as milestone_skill
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issue_comment_created

REPO = "octo-org/hello"
FAST = "milestone-progress:\n  coalesce-seconds: 0.5\n"


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    fake_github.set_file(REPO, ".github/ghapp.yml", FAST)
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[mention_reply.skill, milestone_skill]
    ) as test_app:
        yield test_app


def commented(fake: FakeGitHub, body: str, *, issue: int, comment_id: int, login: str) -> Any:
    """`issue_comment.created` for a comment that exists in the fake under a fixed id
    (the fake's ids come from a run-wide counter; cassettes need the same paths)."""
    repo = fake.repo(REPO)
    comment = repo.comments.pop(fake.add_comment(REPO, issue, body, user=login))
    comment.id = comment_id
    repo.comments[comment_id] = comment
    return issue_comment_created(
        body, login=login, issue_number=issue, comment_id=comment_id, repo=REPO
    )


@pytest.mark.vcr
async def test_triage_may_set_a_milestone_read_may_not(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    ms = fake_github.add_milestone(REPO, "Sprint 3")
    issue = fake_github.add_issue(REPO, "Plan me")
    fake_github.set_permission(REPO, "mona", "triage")
    fake_github.set_permission(REPO, "rick", "read")

    await app.dispatch(
        "issue_comment",
        commented(
            fake_github,
            "@ghapp-test milestone sprint 3",
            issue=issue.number,
            comment_id=6101,
            login="rick",
        ),
    )
    await app.dispatch(
        "issue_comment",
        commented(
            fake_github,
            "@ghapp-test milestone sprint 3",
            issue=issue.number,
            comment_id=6102,
            login="mona",
        ),
    )

    edits = [r.body for r in app.writes() if r.path == f"/repos/{REPO}/issues/{issue.number}"]
    assert edits == [{"milestone": ms.number}]
    posted = [
        r.body["body"]
        for r in app.writes()
        if r.path == f"/repos/{REPO}/issues/{issue.number}/comments"
    ]
    assert len(posted) == 2
    assert "triage" in posted[0] and "Sprint 3" not in posted[0]
    assert posted[1].startswith("Milestone set to **Sprint 3**.")
