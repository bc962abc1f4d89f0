"""What a finished CI run says about a pull request's status: pure functions, no I/O.

A `check_suite.completed` or `workflow_run.completed` delivery names the commit it ran on
(`head_sha`), how it ended (`conclusion`) and the pull requests whose head that commit
was (`pull_requests`; GitHub leaves the list empty for a pull request from a fork). A
failing one turns those pull requests' status label to `pr_checks_failed`; a passing one
turns it back to the in-progress label once every check on the head commit has passed
(the handler reads them: one suite passing says nothing about the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ghapp.skills.label_sync.options import StatusLabels

__all__ = ["CiCompletion", "all_checks_passed", "ci_completion", "passed_label"]

# Conclusions that mean the code is broken; `cancelled`, `action_required` and `stale` say
# nothing about it and leave the label as it is.
FAILING = frozenset({"failure", "timed_out", "startup_failure"})
PASSING = frozenset({"success", "neutral", "skipped"})


@dataclass(frozen=True, slots=True)
class CiCompletion:
    outcome: Literal["failed", "passed"]
    head_sha: str
    pulls: tuple[int, ...]  # pull request numbers in this repository


def ci_completion(event: str, payload: Mapping[str, Any]) -> CiCompletion | None:
    """The finished check suite or workflow run of a delivery, for pull requests of this
    repository; None when it is neither, concluded neither way, or names no pull request."""
    key = {"check_suite": "check_suite", "workflow_run": "workflow_run"}.get(event)
    run = payload.get(key) if key else None
    if not isinstance(run, Mapping) or payload.get("action") != "completed":
        return None
    conclusion = run.get("conclusion")
    outcome: Literal["failed", "passed"]
    if conclusion in FAILING:
        outcome = "failed"
    elif conclusion in PASSING:
        outcome = "passed"
    else:
        return None
    head_sha = run.get("head_sha")
    if not isinstance(head_sha, str) or not head_sha:
        return None
    repository = payload.get("repository")
    repo_id = repository.get("id") if isinstance(repository, Mapping) else None
    pulls: list[int] = []
    for pull in run.get("pull_requests") or ():
        if not isinstance(pull, Mapping) or not isinstance(pull.get("number"), int):
            continue
        base = pull.get("base")
        base_repo = base.get("repo") if isinstance(base, Mapping) else None
        base_id = base_repo.get("id") if isinstance(base_repo, Mapping) else None
        # A suite can list pull requests of other repositories that share the commit.
        if base_id is not None and base_id != repo_id:
            continue
        if pull["number"] not in pulls:
            pulls.append(pull["number"])
    if not pulls:
        return None
    return CiCompletion(outcome, head_sha, tuple(pulls))


def all_checks_passed(checks: Iterable[tuple[str | None, str | None]]) -> bool:
    """Whether every check run (status, conclusion) on a commit completed and passed; one
    still running means "not yet" (its completion comes as an event of its own)."""
    return all(status == "completed" and conclusion in PASSING for status, conclusion in checks)


def passed_label(status_labels: StatusLabels, *, draft: bool) -> tuple[str, str] | None:
    """(the lifecycle field, its label) a pull request returns to once its checks pass."""
    for field in ("pr_checks_passed", *(() if draft else ("pr_ready_for_review",)), "pr_opened"):
        label = status_labels.label_for(field)
        if label is not None:
            return field, label
    return None
