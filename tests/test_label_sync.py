"""label-sync end to end: real-shaped deliveries through ghapp, GitHub traffic replayed.

Each test sets the fake GitHub up (so recording works), dispatches payloads from
tests/support/payloads.py, and asserts on the requests ghapp made (`app.writes()`), never
on the fake's state: in replay the fake is not called.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghapp.skills.label_sync import skill
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub, shapes
from tests.support.fake_github.core import Fault
from tests.support.payloads import (
    installation_event,
    installation_repositories_event,
    issue_comment_created,
    issues_event,
    label_event,
    pull_request_event,
    push_event,
)

REPO = "octo-org/hello"
R = f"/repos/{REPO}"
CONFIG_PATH = ".github/ghapp.yml"
PUSHED_SHA = "c0ffee" * 6 + "c0ff"

CONFIG = """
label-sync:
  delete-undeclared: true
  labels:
    - name: bug
      color: "#d73a4a"
      description: Something is broken
      aliases: [defect]
    - name: enhancement
      color: a2eeef
      aliases: [feature, feature-request]
    - name: question
      color: d876e3
    - name: docs
      color: 0075ca
      description: Documentation
"""


def seed_repository(fake: FakeGitHub) -> None:
    """Labels as a repository has them before its first sync, with issues carrying them."""
    fake.add_label(REPO, "defect", "ee0701")
    fake.add_label(REPO, "feature", "84b6eb")
    fake.add_label(REPO, "feature-request", "84b6eb")
    fake.add_label(REPO, "question", "cc317c")
    fake.add_label(REPO, "wontfix", "ffffff")
    fake.add_issue(REPO, "Crash", labels=["defect"])  # #1
    fake.add_issue(REPO, "Dark mode", labels=["feature-request"], state="closed")  # #2


def requests_since(app: SkillTestApp, start: int) -> list[tuple[str, str]]:
    """Requests after the first `start`, leaving out the bus's own read of the config."""
    return [(r.method, r.path) for r in app.requests[start:] if "/contents/" not in r.path]


def label_writes(app: SkillTestApp) -> list[tuple[str, str, Any]]:
    """Writes that touch labels (the bus also posts config check runs on pushes)."""
    return [(w.method, w.path, w.body) for w in app.writes() if "/check-runs" not in w.path]


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    """label-sync alone, so other skills' traffic never enters these cassettes."""
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[skill]) as test_app:
        yield test_app


FIRST_SYNC = [
    # `question` declares no description: only its color is sent, its description stays.
    ("PATCH", f"{R}/labels/question", {"color": "d876e3"}),
    # The alias is renamed, so issue #1 keeps its label.
    ("PATCH", f"{R}/labels/defect",
     {"new_name": "bug", "color": "d73a4a", "description": "Something is broken"}),
    ("PATCH", f"{R}/labels/feature", {"new_name": "enhancement", "color": "a2eeef"}),
    # The duplicate is merged: its (closed) issue gets the target, then it goes.
    ("POST", f"{R}/issues/2/labels", {"labels": ["enhancement"]}),
    ("DELETE", f"{R}/labels/feature-request", None),
    ("POST", f"{R}/labels", {"name": "docs", "color": "0075ca", "description": "Documentation"}),
    # Undeclared, and `delete-undeclared` is on.
    ("DELETE", f"{R}/labels/wontfix", None),
]  # fmt: skip


@pytest.mark.vcr
async def test_first_sync_on_installation_only_where_configured(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed_repository(fake_github)
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG)
    # A second repository whose file has no `label-sync:` section: nothing happens there.
    fake_github.add_repo("octo-org/other", installation_id=1)
    fake_github.add_label("octo-org/other", "wontfix")
    fake_github.set_file("octo-org/other", CONFIG_PATH, "milestone-progress: {}\n")

    payload = installation_event("created", repositories=[REPO, "octo-org/other"])
    delivery = await app.dispatch("installation", payload)

    assert delivery.status == "done", delivery
    assert outcomes(delivery) == {"label-sync": "ok"}
    assert label_writes(app) == FIRST_SYNC
    # The merge found its issues through the paginated issue search, closed ones included.
    searches = [r for r in app.requests if r.method == "GET" and r.path == f"{R}/issues"]
    assert [s.query for s in searches] == ["state=all&labels=feature-request&per_page=100"]
    # The other repository was looked at (its file read) and left alone for having no section.
    other = [(r.method, r.path) for r in app.requests if r.path.startswith("/repos/octo-org/other")]
    assert other == [("GET", f"/repos/octo-org/other/contents/{CONFIG_PATH}")]


@pytest.mark.vcr
async def test_repositories_added_are_synced_and_a_redelivery_changes_nothing(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed_repository(fake_github)
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG)
    payload = installation_repositories_event("added", added=[REPO])

    await app.dispatch("installation_repositories", payload, delivery_id="added-1")
    assert label_writes(app) == FIRST_SYNC
    # The same change delivered again under a new id: the plan is recomputed from the
    # labels as they are now, and is empty.
    again = await app.dispatch("installation_repositories", payload, delivery_id="added-2")
    assert again.status == "done"
    assert label_writes(app) == FIRST_SYNC


@pytest.mark.vcr
async def test_one_repository_failing_its_first_sync_does_not_stop_the_others(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("octo-org/first", installation_id=1)
    for full_name in ("octo-org/first", REPO):
        fake_github.set_file(
            full_name, CONFIG_PATH, "label-sync:\n  labels: [{name: bug, color: d73a4a}]\n"
        )
    # Someone took the App's issues permission away on the first repository only.
    forbidden = shapes.error(403, "Resource not accessible by integration")
    fake_github.faults.append(Fault("POST", r"^/repos/octo-org/first/labels$", 403, body=forbidden))

    payload = installation_event("created", repositories=["octo-org/first", REPO])
    app.expect_failure("label-sync", match=r"^FirstSyncFailed: octo-org/first: .*403")
    delivery = await app.dispatch("installation", payload)

    created = [(w.method, w.path, w.status) for w in app.writes()]
    assert created == [
        ("POST", "/repos/octo-org/first/labels", 403),
        ("POST", f"{R}/labels", 201),
    ]
    run = {r.skill: r for r in delivery.runs}["label-sync"]
    assert run.outcome == "error"
    assert run.detail is not None and "octo-org/first" in run.detail


def _push(fake: FakeGitHub, ref: str, files: list[str]) -> dict[str, Any]:
    payload = push_event(ref, files_changed=files)
    payload["repository"]["default_branch"] = "main"
    # A fixed sha: the fake's own depend on test order, and cassettes match on the query.
    payload["after"] = fake.add_commit(REPO, "Configure labels", sha=PUSHED_SHA)
    return payload


@pytest.mark.vcr
async def test_push_syncs_only_when_the_default_branch_file_changed(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.add_label(REPO, "question", "cc317c")
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG)

    feature = await app.dispatch("push", _push(fake_github, "refs/heads/feature", [CONFIG_PATH]))
    readme = await app.dispatch("push", _push(fake_github, "refs/heads/main", ["README.md"]))
    assert outcomes(feature) == outcomes(readme) == {"label-sync": "ok"}
    assert label_writes(app) == []
    assert not [r for r in app.requests if r.path == f"{R}/labels"]  # not even read

    delivery = await app.dispatch("push", _push(fake_github, "refs/heads/main", [CONFIG_PATH]))
    assert delivery.status == "done", delivery
    assert [(method, path) for method, path, _ in label_writes(app)] == [
        ("PATCH", f"{R}/labels/question"),
        ("POST", f"{R}/labels"),  # bug
        ("POST", f"{R}/labels"),  # enhancement
        ("POST", f"{R}/labels"),  # docs
    ]


@pytest.mark.vcr
async def test_push_of_an_invalid_file_changes_no_label(
    app: SkillTestApp, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake_github.add_label(REPO, "wontfix")
    broken = CONFIG.replace('"#d73a4a"', '"#d73a4"')
    fake_github.set_file(REPO, CONFIG_PATH, broken)
    caplog.set_level(logging.INFO, logger="ghapp")

    delivery = await app.dispatch("push", _push(fake_github, "refs/heads/main", [CONFIG_PATH]))

    # No valid section was ever seen: the skill does not run at all.
    assert delivery.status == "done", delivery
    assert outcomes(delivery) == {"label-sync": "skipped: invalid .github/ghapp.yml section"}
    assert label_writes(app) == []
    # The author hears of it on the commit (the bus's configuration check).
    checks = [w for w in app.writes() if w.path.endswith("/check-runs")]
    assert [c.body["conclusion"] for c in checks] == ["failure"]
    assert "6 hex digits" in checks[0].body["output"]["summary"]

    # Once a valid file was seen, the skill runs on it, reads the pushed one, and declines.
    fake_github.set_file(REPO, CONFIG_PATH, "label-sync:\n  labels: []\n")
    await app.dispatch("push", _push(fake_github, "refs/heads/main", [CONFIG_PATH]))
    fake_github.set_file(REPO, CONFIG_PATH, broken)
    again = await app.dispatch("push", _push(fake_github, "refs/heads/main", [CONFIG_PATH]))
    assert outcomes(again) == {"label-sync": "ok"}
    assert label_writes(app) == []
    [decided] = [r.getMessage() for r in caplog.records if "not syncing labels" in r.getMessage()]
    assert decided.startswith("not syncing labels: .github/ghapp.yml is invalid: ")
    assert "label-sync.labels.0.color" in decided


@pytest.mark.vcr
async def test_dry_run_setting_logs_the_plan_and_sends_no_write(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    seed_repository(fake_github)
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG)
    caplog.set_level(logging.INFO)
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[skill], env={"DRY_RUN": "1"}
    ) as app:
        delivery = await app.dispatch(
            "installation", installation_event("created", repositories=[REPO])
        )

        assert delivery.status == "done", delivery
        assert outcomes(delivery) == {"label-sync": "ok"}
        assert app.writes() == []
    plans = [r.getMessage() for r in caplog.records if r.getMessage().startswith("label plan")]
    assert len(plans) == 1
    assert "Rename `defect` → `bug`" in plans[0]
    assert "**Delete** `wontfix`" in plans[0]
    # Each write the sync would have made is logged instead of sent.
    not_sent = [r for r in caplog.records if r.getMessage() == "dry run: not sent"]
    assert len(not_sent) == len(FIRST_SYNC)


@pytest.mark.vcr
async def test_strict_mode_restores_hand_edits_without_looping(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    strict = CONFIG.replace("delete-undeclared: true", "strict: true")
    fake_github.set_file(REPO, CONFIG_PATH, strict)
    fake_github.add_label(REPO, "kaputt", "d73a4a", "Something is broken")
    fake_github.add_label(REPO, "question", "000000")

    # A person renamed `bug` to `kaputt`: renamed back, so its issues keep it.
    renamed = label_event("edited", name="kaputt", login="mona")
    renamed["changes"] = {"name": {"from": "bug"}}
    await app.dispatch("label", renamed)
    # A person recolored `question`: recolored.
    recolored = label_event("edited", name="question", login="mona")
    recolored["changes"] = {"color": {"from": "d876e3"}}
    await app.dispatch("label", recolored)
    # A person deleted `docs`: created again.
    await app.dispatch("label", label_event("deleted", name="docs", login="mona"))
    # A label nobody declared: left alone.
    await app.dispatch("label", label_event("deleted", name="wontfix", login="mona"))

    restored = [
        # Color and description already match: only the name is sent.
        ("PATCH", f"{R}/labels/kaputt", {"new_name": "bug"}),
        ("PATCH", f"{R}/labels/question", {"color": "d876e3"}),
        ("POST", f"{R}/labels",
         {"name": "docs", "color": "0075ca", "description": "Documentation"}),
    ]  # fmt: skip
    assert label_writes(app) == restored

    # Those restorations come back as label events sent by the App: no loop.
    before = len(app.requests)
    own = label_event("edited", name="question", login="ghapp-test[bot]")
    own["sender"]["type"] = "Bot"
    own["changes"] = {"color": {"from": "000000"}}
    delivery = await app.dispatch("label", own)
    assert delivery.status == "done"
    assert outcomes(delivery) == {"label-sync": "ok"}
    assert requests_since(app, before) == []


@pytest.mark.vcr
@pytest.mark.parametrize("strict", ["", "  strict: false\n"], ids=["unset", "false"])
async def test_hand_edits_are_left_alone_without_strict(
    app: SkillTestApp, fake_github: FakeGitHub, strict: str
) -> None:
    # The file the strict test restores from, with `strict` unset or set to false.
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG + strict)
    fake_github.add_label(REPO, "question", "000000")
    recolored = label_event("edited", name="question", login="mona")
    recolored["changes"] = {"color": {"from": "d876e3"}}
    deleted = await app.dispatch("label", label_event("deleted", name="docs", login="mona"))
    edited = await app.dispatch("label", recolored)
    assert outcomes(deleted) == outcomes(edited) == {"label-sync": "ok"}
    # Not a write, and not even a read of the labels: nothing to restore without strict.
    assert requests_since(app, 0) == [("GET", "/app")]


EXCLUSIVE = """
label-sync:
  exclusive-scopes: [priority]
  status-labels:
    pr-opened: "status: in progress"
    pr-merged: "status: done"
    issue-closed-not-planned: "status: wontfix"
"""


@pytest.mark.vcr
async def test_exclusive_scope_swap_is_one_put_from_current_labels(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, EXCLUSIVE)
    issue = fake_github.add_issue(
        REPO, "Slow", labels=["bug", "area:ui", "priority:low", "priority:high"]
    )
    # The payload is stale on purpose: it knows nothing of `bug` and `area:ui`, added since.
    payload = issues_event(
        "labeled",
        number=issue.number,
        labels=["priority:low", "priority:high"],
        label="priority:high",
    )

    delivery = await app.dispatch("issues", payload)

    assert delivery.status == "done", delivery
    assert label_writes(app) == [
        (
            "PUT",
            f"{R}/issues/{issue.number}/labels",
            {"labels": ["bug", "area:ui", "priority:high"]},
        )
    ]
    # The current labels were read, not taken from the payload.
    assert ("GET", f"{R}/issues/{issue.number}/labels") in [
        (r.method, r.path) for r in app.requests
    ]

    # The App's own PUT comes back as `unlabeled`/`labeled` events sent by the App: ignored.
    before = len(app.requests)
    own = issues_event(
        "labeled", number=issue.number, labels=["priority:high", "priority:low"],
        label="priority:low", login="ghapp-test[bot]", user_type="Bot",
    )  # fmt: skip
    # A label outside the exclusive scopes costs no request at all.
    plain = issues_event("labeled", number=issue.number, labels=["bug"], label="bug")
    ignored = [await app.dispatch("issues", own), await app.dispatch("issues", plain)]
    assert [outcomes(d) for d in ignored] == [{"label-sync": "ok"}] * 2
    assert requests_since(app, before) == []


@pytest.mark.vcr
async def test_pull_request_label_swap(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, EXCLUSIVE)
    pull = fake_github.add_pull(REPO, "Faster", labels=["priority:high", "priority:low"])
    payload = pull_request_event(
        "labeled", number=pull.number, labels=["priority:high", "priority:low"]
    )
    payload["label"]["name"] = "priority:low"

    await app.dispatch("pull_request", payload)

    assert label_writes(app) == [
        ("PUT", f"{R}/issues/{pull.number}/labels", {"labels": ["priority:low"]})
    ]


@pytest.mark.vcr
async def test_status_labels_follow_merges_and_closes(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, EXCLUSIVE)
    pull = fake_github.add_pull(REPO, "Faster", labels=["status: in progress", "perf"], merged=True)
    issue = fake_github.add_issue(REPO, "Won't do", labels=["status: in progress"])

    merged = pull_request_event("closed", number=pull.number, merged=True, labels=["perf"])
    await app.dispatch("pull_request", merged)
    closed = issues_event("closed", number=issue.number)
    closed["issue"]["state_reason"] = "not_planned"
    await app.dispatch("issues", closed)
    # Closed as completed: no status label configured for it, so no request.
    done = issues_event("closed", number=issue.number)
    before = len(app.requests)
    assert outcomes(await app.dispatch("issues", done)) == {"label-sync": "ok"}

    # Undeclared and missing, the two status labels are created before GitHub would
    # create them grey: in their state's color (purple for merged, lavender for won't do).
    assert label_writes(app) == [
        ("POST", f"{R}/labels", {"name": "status: done", "color": "6f42c1"}),
        ("PUT", f"{R}/issues/{pull.number}/labels", {"labels": ["perf", "status: done"]}),
        ("POST", f"{R}/labels", {"name": "status: wontfix", "color": "d4c5f9"}),
        ("PUT", f"{R}/issues/{issue.number}/labels", {"labels": ["status: wontfix"]}),
    ]
    assert requests_since(app, before) == []


PREVIEW_CONFIG = CONFIG + "  strict: true\n"


def _pull_with_config(fake: FakeGitHub, config: str | None) -> tuple[int, str]:
    files = [{"filename": "README.md"}]
    if config is not None:
        files.append({"filename": CONFIG_PATH})
    pull = fake.add_pull(REPO, "Change labels", head="labels", files=files)
    if config is not None:
        fake.set_file(REPO, CONFIG_PATH, config, ref=pull.head_sha)
    return pull.number, pull.head_sha


def _pull_event(action: str, number: int, head_sha: str) -> dict[str, Any]:
    payload = pull_request_event(action, number=number)
    payload["pull_request"]["head"]["sha"] = head_sha
    return payload


@pytest.mark.vcr
async def test_plan_preview_check_run_on_a_pull_request_changing_the_file(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed_repository(fake_github)
    number, head_sha = _pull_with_config(fake_github, PREVIEW_CONFIG)

    first = await app.dispatch("pull_request", _pull_event("opened", number, head_sha))
    assert first.status == "done", first
    # Redelivered under a new id: still one check run for that commit.
    await app.dispatch("pull_request", _pull_event("opened", number, head_sha))

    checks = [w for w in app.writes()]
    assert [(c.method, c.path) for c in checks] == [("POST", f"{R}/check-runs")]
    body = checks[0].body
    assert (body["name"], body["head_sha"], body["status"]) == (
        "ghapp: label plan",
        head_sha,
        "completed",
    )
    # It deletes and merges labels: neutral, so people look before merging.
    assert body["conclusion"] == "neutral"
    assert body["output"]["title"] == "6 label change(s) on merge, 2 removing a label from issues"
    summary = body["output"]["summary"]
    for line in ("Rename `defect` → `bug`", "**Merge** `feature-request` into `enhancement`",
                 "Create `docs`", "**Delete** `wontfix`"):  # fmt: skip
        assert line in summary
    # The file was read at the pull request's head: the default branch has none at all.
    reads = [r.query for r in app.requests if r.path.endswith("/contents/.github/ghapp.yml")]
    assert f"ref={head_sha}" in reads


@pytest.mark.vcr
async def test_plan_preview_fails_on_an_invalid_file_and_skips_other_pulls(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    broken = CONFIG.replace("delete-undeclared: true", "delete-undeclard: true")
    number, head_sha = _pull_with_config(fake_github, broken)
    other, other_sha = _pull_with_config(fake_github, None)

    await app.dispatch("pull_request", _pull_event("synchronize", number, head_sha))
    skipped = await app.dispatch("pull_request", _pull_event("reopened", other, other_sha))

    # The other pull request's files were read; the file is not among them: no check run.
    assert outcomes(skipped) == {"label-sync": "ok"}
    assert requests_since(app, 0)[-1] == ("GET", f"{R}/pulls/{other}/files")
    checks = app.writes()
    assert [(c.method, c.path) for c in checks] == [("POST", f"{R}/check-runs")]
    assert checks[0].body["conclusion"] == "failure"
    assert checks[0].body["output"]["title"] == "Invalid .github/ghapp.yml"
    assert "delete_undeclard" in checks[0].body["output"]["summary"]


# -- commands ------------------------------------------------------------------------------


async def run_command(
    app: SkillTestApp,
    words: tuple[str, ...],
    *,
    issue_number: int = 1,
    is_pull: bool = False,
    permission: str = "write",
) -> str:
    """Run a label-sync command as mention-reply does: through the repository's available
    commands, from an `issue_comment.created` context."""
    payload = issue_comment_created(
        "@ghapp-test " + " ".join(words), issue_number=issue_number, is_pull_request=is_pull
    )
    payload["repository"]["default_branch"] = "main"
    ctx = await app.context(
        "issue_comment", payload, skill="mention-reply", delivery_id="comment-delivery"
    )
    commands = {c.name: c for c in await ctx.available_commands()}
    # Who may run it is for mention-reply to check; the options can raise the bar.
    assert commands[words[0]].permission == permission
    return await commands[words[0]].run(ctx, words[1:])


@pytest.mark.vcr
async def test_labels_sync_dry_run_replies_with_the_plan_and_writes_nothing(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    seed_repository(fake_github)
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG)

    reply = await run_command(app, ("labels", "sync", "--dry-run"))

    assert app.writes() == []
    assert reply.startswith("**Dry run:** nothing was changed.")
    assert "Rename `defect` → `bug` (its issues keep it)" in reply
    assert "**Delete** `wontfix`" in reply

    reply = await run_command(app, ("labels", "sync"))
    assert reply.startswith("Labels synced.")
    assert label_writes(app) == FIRST_SYNC
    assert (
        await run_command(app, ("labels", "resync"))
        == "Usage: `labels sync` or `labels sync --dry-run`."
    )


@pytest.mark.vcr
async def test_commands_answer_with_the_problems_of_an_invalid_file(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    # A valid file was seen (and remembered) first, so the skill still runs on the last
    # valid options; the command must notice that the file is broken now.
    fake_github.set_file(REPO, CONFIG_PATH, "label-sync:\n  labels: []\n")
    await app.dispatch("push", _push(fake_github, "refs/heads/main", [CONFIG_PATH]))
    fake_github.set_file(REPO, CONFIG_PATH, CONFIG.replace("a2eeef", "a2eeeg"))

    before = len(app.requests)
    reply = await run_command(app, ("labels", "sync"))

    # Decided from the file: the labels were not even read.
    assert not [r for r in app.requests[before:] if r.path == f"{R}/labels"]
    assert reply.startswith("Nothing was changed, because `.github/ghapp.yml` is invalid:")
    assert "label-sync.labels.1.color" in reply
    assert label_writes(app) == []


@pytest.mark.vcr
async def test_label_add_and_remove_commands(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, EXCLUSIVE)
    for name in ("bug", "good first issue", "priority:high", "priority:low", "documentation"):
        fake_github.add_label(REPO, name)
    issue = fake_github.add_issue(REPO, "Typo", labels=["priority:low"])

    added = await run_command(
        app,
        ("label", "add", "good", "first", "issue", "PRIORITY:HIGH", "bgu"),
        issue_number=issue.number,
    )
    assert added.splitlines() == [
        "Added `good first issue`, `priority:high`.",
        "Removed `priority:low`: only one label of a scope stays.",
        "This repository has no label `bgu`. Did you mean `bug`?",
    ]
    removed = await run_command(
        app, ("label", "remove", "good first issue", "documentation"), issue_number=issue.number
    )
    assert removed.splitlines() == [
        "Removed `good first issue`.",
        "Not on this issue, so nothing to remove: `documentation`.",
    ]
    # Unknown names only: nothing is created behind the commenter's back.
    unknown = await run_command(app, ("label", "add", "nope"), issue_number=issue.number)
    assert unknown == "This repository has no label `nope`."
    assert await run_command(app, ("label", "bug")) == (
        "Usage: `label add NAME…` or `label remove NAME…` (quote names with spaces)."
    )
    assert label_writes(app) == [
        ("PUT", f"{R}/issues/{issue.number}/labels",
         {"labels": ["good first issue", "priority:high"]}),
        ("PUT", f"{R}/issues/{issue.number}/labels", {"labels": ["priority:high"]}),
    ]  # fmt: skip


@pytest.mark.vcr
async def test_hundreds_of_labels_are_read_across_pages(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    for i in range(300):
        fake_github.add_label(REPO, f"area-{i:03d}", "ededed")
    fake_github.set_file(
        REPO,
        CONFIG_PATH,
        "label-sync:\n  command-permission: maintain\n  labels:\n"
        "    - {name: area-299, color: ededed}\n"
        "    - {name: area-150, color: '000000'}\n"
        "    - {name: new, color: ffffff}\n",
    )

    reply = await run_command(app, ("labels", "sync"), permission="maintain")

    pages = [r.query for r in app.requests if r.method == "GET" and r.path == f"{R}/labels"]
    assert pages == ["per_page=100", "page=2&per_page=100", "page=3&per_page=100"]
    # `area-299` is on the last page: seen, so not created again.
    assert label_writes(app) == [
        ("PATCH", f"{R}/labels/area-150", {"color": "000000"}),
        ("POST", f"{R}/labels", {"name": "new", "color": "ffffff"}),
    ]
    assert "Kept 298 label(s) not declared" in reply
