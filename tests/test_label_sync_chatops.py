"""label-sync's commands driven the way people use them: a comment through mention-reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghapp.bus import load_skills
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issue_comment_created

REPO = "octo-org/hello"
R = f"/repos/{REPO}"

CONFIG = """
label-sync:
  delete-undeclared: true
  labels:
    - name: bug
      color: d73a4a
      aliases: [defect]
"""


@pytest.mark.vcr
async def test_labels_sync_dry_run_comment_gets_the_plan_and_no_label_changes(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, ".github/ghapp.yml", CONFIG)
    fake_github.add_label(REPO, "defect", "ee0701")
    fake_github.add_label(REPO, "wontfix")
    issue = fake_github.add_issue(REPO, "Labels look odd", labels=["defect"])
    fake_github.set_permission(REPO, "mona", "write")
    skills = load_skills()
    text = "@ghapp-test labels sync --dry-run"
    # Under a fixed id: the fake numbers records from a counter shared by the whole run,
    # and the cassette needs the same paths whatever ran before.
    repo = fake_github.repo(REPO)
    comment = repo.comments.pop(fake_github.add_comment(REPO, issue.number, text, user="mona"))
    comment_id = comment.id = 4242
    repo.comments[comment_id] = comment
    payload = issue_comment_created(
        text, login="mona", issue_number=issue.number, comment_id=comment_id
    )
    payload["repository"]["default_branch"] = "main"

    async with SkillTestApp(
        tmp_path,
        github_app=fake_github.app,
        skills=[skills["mention-reply"], skills["label-sync"]],
    ) as app:
        delivery = await app.dispatch("issue_comment", payload)
        writes = app.writes()

    assert delivery.status == "done", delivery
    # Only the conversation: no label was renamed, created or deleted.
    assert not [w for w in writes if "/labels" in w.path]
    replies = [w for w in writes if w.path == f"{R}/issues/{issue.number}/comments"]
    assert len(replies) == 1
    assert [w.path for w in writes if w.path.endswith("/reactions")] == [
        f"{R}/issues/comments/{comment_id}/reactions"
    ]
    body = replies[0].body["body"]
    assert "**Dry run:** nothing was changed." in body
    assert "Rename `defect` → `bug` (its issues keep it)" in body
    assert "**Delete** `wontfix`" in body
