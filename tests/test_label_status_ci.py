"""Status labels that follow CI (issue 19 §3): a failing check suite or workflow run on a
pull request's head commit turns its status label to `pr-checks-failed`, and all checks
passing turns it back to the in-progress label, with the same verified one-request swap.

End to end against recorded traffic (the fake GitHub holds the head commit's check runs),
then the pure decisions (`ci_checks`) as tables.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghapp.skills.label_sync import skill
from ghapp.skills.label_sync.ci_checks import (
    CiCompletion,
    all_checks_passed,
    ci_completion,
    passed_label,
)
from ghapp.skills.label_sync.options import StatusLabels
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.fake_github.state import CheckRun, next_id
from tests.support.payloads import check_suite_event, workflow_run_event

REPO = "octo-org/hello"
R = f"/repos/{REPO}"
CONFIG_PATH = ".github/ghapp.yml"
ACTIONS_APP_ID = 15368  # GitHub Actions, whose suites and runs the checks are

CI_CONFIG = """
label-sync:
  labels:
    - {name: "status:in-progress", color: fbca04}
    - {name: perf, color: "0e8a16"}
  status-labels:
    pr-opened: "status:in-progress"
    pr-checks-failed: "status:failed"
"""


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[skill]) as test_app:
        yield test_app


def label_writes(app: SkillTestApp) -> list[tuple[str, str, Any]]:
    return [(w.method, w.path, w.body) for w in app.writes()]


def check(fake: FakeGitHub, sha: str, name: str, conclusion: str | None) -> CheckRun:
    """A check run of GitHub Actions on commit `sha` (None: still running)."""
    run = CheckRun(
        id=next_id(),
        name=name,
        head_sha=sha,
        app_id=ACTIONS_APP_ID,
        status="completed" if conclusion else "in_progress",
        conclusion=conclusion,
    )
    fake.repo(REPO).check_runs[run.id] = run
    return run


def suite(number: int, sha: str, conclusion: str) -> dict[str, Any]:
    return check_suite_event(conclusion=conclusion, head_sha=sha, pull_numbers=[number])


def pull_run(number: int, sha: str, conclusion: str) -> dict[str, Any]:
    """`workflow_run.completed` of a pull request's workflow on its head commit."""
    payload = workflow_run_event(conclusion=conclusion, triggering_event="pull_request")
    run = payload["workflow_run"]
    run["head_sha"] = sha
    repo = {"id": payload["repository"]["id"], "name": "hello"}
    run["pull_requests"] = [
        {"number": number, "head": {"sha": sha, "repo": repo}, "base": {"repo": repo}}
    ]
    return payload


@pytest.mark.vcr
async def test_failing_checks_set_the_failed_label_and_passing_checks_undo_it(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, CI_CONFIG)
    pull = fake_github.add_pull(REPO, "Faster", labels=["status:in-progress", "perf"])
    sha = pull.head_sha
    lint = check(fake_github, sha, "lint", "failure")
    check(fake_github, sha, "test", "success")

    failed = await app.dispatch("check_suite", suite(pull.number, sha, "failure"), delivery_id="1")
    assert outcomes(failed) == {"label-sync": "ok"}
    # Redelivered, or a second failing suite: the label is right already, nothing written.
    await app.dispatch("check_suite", suite(pull.number, sha, "failure"), delivery_id="2")
    # Another suite passes while lint still fails: the checks are read, nothing changes.
    before = len(app.requests)
    await app.dispatch("check_suite", suite(pull.number, sha, "success"), delivery_id="3")
    reads = [(r.method, r.path) for r in app.requests[before:]]
    assert ("GET", f"{R}/commits/{sha}/check-runs") in reads
    assert len(app.writes()) == 2
    # lint is re-run and passes: every check passed, back to in progress.
    lint.conclusion = "success"
    await app.dispatch("check_suite", suite(pull.number, sha, "success"), delivery_id="4")

    assert label_writes(app) == [
        # Undeclared, status:failed is created in red before GitHub would make it grey.
        ("POST", f"{R}/labels", {"name": "status:failed", "color": "d73a4a"}),
        ("PUT", f"{R}/issues/{pull.number}/labels", {"labels": ["perf", "status:failed"]}),
        ("PUT", f"{R}/issues/{pull.number}/labels", {"labels": ["perf", "status:in-progress"]}),
    ]


@pytest.mark.vcr
async def test_a_failing_workflow_run_of_a_pull_request_sets_the_failed_label(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, CI_CONFIG)
    fake_github.add_label(REPO, "status:failed", "b60205")  # exists: its color is kept
    pull = fake_github.add_pull(REPO, "Faster", labels=["status:in-progress"])
    check(fake_github, pull.head_sha, "build", "success")

    await app.dispatch("workflow_run", pull_run(pull.number, pull.head_sha, "failure"))
    await app.dispatch("workflow_run", pull_run(pull.number, pull.head_sha, "success"))

    assert label_writes(app) == [
        ("PUT", f"{R}/issues/{pull.number}/labels", {"labels": ["status:failed"]}),
        ("PUT", f"{R}/issues/{pull.number}/labels", {"labels": ["status:in-progress"]}),
    ]
    # Looked up once (it exists), never recolored.
    assert [r.path for r in app.requests if r.path == f"{R}/labels/status:failed"] == [
        f"{R}/labels/status:failed"
    ]


@pytest.mark.vcr
@pytest.mark.parametrize("case", ["stale-head", "closed", "passing-without-failure"])
async def test_checks_that_say_nothing_about_the_head_leave_the_label(
    app: SkillTestApp, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO, logger="ghapp")
    fake_github.set_file(REPO, CONFIG_PATH, CI_CONFIG)
    state = "closed" if case == "closed" else "open"
    pull = fake_github.add_pull(REPO, "Faster", labels=["status:in-progress"], state=state)
    sha = "0ld" + "0" * 37 if case == "stale-head" else pull.head_sha
    conclusion = "success" if case == "passing-without-failure" else "failure"
    check(fake_github, pull.head_sha, "test", "success")

    delivery = await app.dispatch("check_suite", suite(pull.number, sha, conclusion))

    assert outcomes(delivery) == {"label-sync": "ok"}
    assert app.writes() == []
    # It looked at the pull request (and, passing, its labels) before deciding.
    assert ("GET", f"{R}/pulls/{pull.number}") in [(r.method, r.path) for r in app.requests]
    if case != "passing-without-failure":
        assert f"pull request #{pull.number} moved on from {sha}" in caplog.messages


@pytest.mark.vcr
async def test_without_a_failed_label_ci_is_not_followed(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(REPO, CONFIG_PATH, "label-sync:\n  status-labels:\n    pr-opened: wip\n")
    pull = fake_github.add_pull(REPO, "Faster", labels=["wip"])
    delivery = await app.dispatch("check_suite", suite(pull.number, pull.head_sha, "failure"))
    assert outcomes(delivery) == {"label-sync": "ok"}
    # Only the configuration was read: no pull request, no labels.
    assert [
        r.path for r in app.requests if r.path.startswith(R) and "/contents/" not in r.path
    ] == []


# -- the decisions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conclusion", "outcome"),
    [
        ("failure", "failed"),
        ("timed_out", "failed"),
        ("startup_failure", "failed"),
        ("success", "passed"),
        ("neutral", "passed"),
        ("skipped", "passed"),
        ("cancelled", None),
        ("action_required", None),
        ("stale", None),
        (None, None),
    ],
)
def test_a_completion_fails_passes_or_says_nothing(conclusion: str | None, outcome: str) -> None:
    payload = check_suite_event(conclusion=conclusion, head_sha="abc", pull_numbers=[4, 4, 9])
    expected = CiCompletion(outcome, "abc", (4, 9)) if outcome else None  # type: ignore[arg-type]
    assert ci_completion("check_suite", payload) == expected


def test_only_completed_runs_of_this_repositorys_pull_requests_count() -> None:
    payload = check_suite_event(conclusion="failure", head_sha="abc", pull_numbers=[4, 5])
    payload["check_suite"]["pull_requests"][1]["base"]["repo"]["id"] = 999  # elsewhere
    assert ci_completion("check_suite", payload) == CiCompletion("failed", "abc", (4,))
    fork = check_suite_event(conclusion="failure", head_sha="abc", pull_numbers=[])
    assert ci_completion("check_suite", fork) is None  # GitHub names no fork pull request
    requested = check_suite_event("requested", conclusion=None, head_sha="abc")
    assert ci_completion("check_suite", requested) is None
    assert ci_completion("issues", payload) is None
    run = pull_run(7, "def", "failure")
    assert ci_completion("workflow_run", run) == CiCompletion("failed", "def", (7,))


@pytest.mark.parametrize(
    ("checks", "passed"),
    [
        ([], True),
        ([("completed", "success"), ("completed", "skipped"), ("completed", "neutral")], True),
        ([("completed", "success"), ("completed", "failure")], False),
        ([("completed", "success"), ("in_progress", None)], False),
        ([("completed", "cancelled")], False),
    ],
)
def test_all_checks_passed(checks: list[tuple[str, str | None]], passed: bool) -> None:
    assert all_checks_passed(checks) is passed


def test_passing_returns_to_the_in_progress_label() -> None:
    labels = StatusLabels(pr_opened="wip", pr_ready_for_review="review", pr_checks_failed="red")
    assert passed_label(labels, draft=False) == ("pr_ready_for_review", "review")
    assert passed_label(labels, draft=True) == ("pr_opened", "wip")
    explicit = labels.model_copy(update={"pr_checks_passed": "green"})
    assert passed_label(explicit, draft=False) == ("pr_checks_passed", "green")
    assert passed_label(StatusLabels(pr_checks_failed="red"), draft=False) is None
