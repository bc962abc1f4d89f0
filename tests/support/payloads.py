"""Webhook payloads for tests: real GitHub examples, adapted only where a test needs it.

Every helper starts from an example in `@octokit/webhooks-examples` (see `octokit.py`) and
sets the few fields a test cares about (installation, repository, actor, body, number,
labels, milestone...) where GitHub puts them. Nothing else is invented or removed, so a
handler tested with these payloads meets the same shape it will meet in production, old
fields and missing fields included. The examples are older than githubkit's models; that is
deliberate (real deliveries from older GitHub Enterprise Servers look the same), so do not
"fix" them here to please a strict parser.

The one key added to examples that lack it is `installation`: GitHub includes it in every
delivery to a GitHub App, and the app routes on it.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Sequence
from typing import Any, Final

from tests.support.octokit import webhook_example, webhook_examples

Payload = dict[str, Any]


class _Keep:
    """Sentinel: leave the example's value as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()

DEFAULT_REPO = "octo-org/hello"
DEFAULT_LOGIN = "octocat"
_MERGED_AT = "2026-01-02T03:04:05Z"

# Actions the examples package does not have, built from the closest real example.
_STAND_INS: dict[tuple[str, str], str] = {("issues", "closed"): "reopened"}


def _stable_id(text: str) -> int:
    # Deterministic across runs (unlike hash()), so recorded cassettes keep matching.
    return zlib.crc32(text.encode()) + 1


def base_example(event: str, action: str | None = None) -> Payload:
    """The example a helper starts from: the first for `action` that has `installation`.

    Examples carrying `installation` are preferred because they are what an app receives.
    """
    source_action = _STAND_INS.get((event, action or ""), action)
    candidates = [
        e
        for e in webhook_examples(event)
        if source_action is None or e.get("action") == source_action
    ]
    if not candidates:
        # Let webhook_example raise its explanatory KeyError.
        return webhook_example(event, source_action)
    chosen = next((e for e in candidates if "installation" in e), candidates[0])
    if action is not None:
        chosen["action"] = action
    return chosen


# ---------------------------------------------------------------------------- shared setters


def _set_user(user: dict[str, Any], login: str, user_type: str = "User") -> None:
    user["login"] = login
    user["type"] = user_type


def _set_installation(payload: Payload, installation_id: int) -> None:
    installation = payload.setdefault(
        "installation", {"node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    )
    installation["id"] = installation_id


def _set_repo(payload: Payload, full_name: str, *, key: str = "repository") -> None:
    """Point `payload[key]` (a repository object) at `full_name`, and the organization with it."""
    owner, name = full_name.split("/", 1)
    repo = payload.get(key)
    if isinstance(repo, dict):
        repo["full_name"] = full_name
        repo["name"] = name
        if isinstance(repo.get("owner"), dict):
            repo["owner"]["login"] = owner
            if "name" in repo["owner"] and repo["owner"]["name"] is not None:
                repo["owner"]["name"] = owner  # push payloads carry the owner's name too
    if isinstance(payload.get("organization"), dict):
        payload["organization"]["login"] = owner


def _common(
    payload: Payload, *, repo: str, login: str, user_type: str, installation_id: int
) -> Payload:
    _set_repo(payload, repo)
    _set_user(payload["sender"], login, user_type)
    _set_installation(payload, installation_id)
    return payload


def _label_template() -> dict[str, Any]:
    return webhook_example("label", "created")["label"]


def _label(name: str, template: dict[str, Any], repo: str) -> dict[str, Any]:
    label = copy.deepcopy(template)
    label["name"] = name
    label["id"] = _stable_id(f"label:{repo}:{name}")
    label["url"] = f"https://api.github.com/repos/{repo}/labels/{name}"
    return label


def _labels(names: Sequence[str], current: list[dict[str, Any]], repo: str) -> list[dict[str, Any]]:
    template = current[0] if current else _label_template()
    return [_label(name, template, repo) for name in names]


def _milestone_template() -> dict[str, Any]:
    return base_example("milestone", "closed")["milestone"]


def _milestone(title: str, template: dict[str, Any] | None, repo: str) -> dict[str, Any]:
    milestone = copy.deepcopy(template) if template else _milestone_template()
    milestone["title"] = title
    milestone["id"] = _stable_id(f"milestone:{repo}:{title}")
    return milestone


def _pull_request_links(repo: str, number: int) -> dict[str, Any]:
    # What GitHub puts under `issue.pull_request` when the "issue" is a pull request.
    return {
        "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
        "patch_url": f"https://github.com/{repo}/pull/{number}.patch",
    }


# ---------------------------------------------------------------------------- event helpers


def issue_comment_created(
    body: str,
    *,
    login: str = DEFAULT_LOGIN,
    user_type: str = "User",
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
    issue_number: int = 1,
    comment_id: int = 5001,
    is_pull_request: bool = False,
) -> Payload:
    """`issue_comment.created`: `login` comments `body` on issue (or PR) `issue_number`."""
    payload = _common(
        base_example("issue_comment", "created"),
        repo=repo,
        login=login,
        user_type=user_type,
        installation_id=installation_id,
    )
    comment, issue = payload["comment"], payload["issue"]
    comment["body"] = body
    comment["id"] = comment_id
    _set_user(comment["user"], login, user_type)
    issue["number"] = issue_number
    if is_pull_request:
        issue["pull_request"] = _pull_request_links(repo, issue_number)
    else:
        issue.pop("pull_request", None)
    return payload


def issues_event(
    action: str,
    *,
    number: int = 1,
    title: str | _Keep = KEEP,
    body: str | _Keep | None = KEEP,
    labels: Sequence[str] | _Keep = KEEP,
    milestone: str | _Keep | None = KEEP,
    label: str | _Keep = KEEP,
    login: str = DEFAULT_LOGIN,
    user_type: str = "User",
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`issues.<action>`; `label`/`milestone` also set the top-level object GitHub sends with
    (un)labeled and (de)milestoned."""
    payload = _common(
        base_example("issues", action),
        repo=repo,
        login=login,
        user_type=user_type,
        installation_id=installation_id,
    )
    issue = payload["issue"]
    issue["number"] = number
    if action == "closed":  # built from `reopened`: make the issue itself closed
        issue["state"] = "closed"
        issue["closed_at"] = issue.get("updated_at")
    if not isinstance(title, _Keep):
        issue["title"] = title
    if not isinstance(body, _Keep):
        issue["body"] = body
    if not isinstance(labels, _Keep):
        issue["labels"] = _labels(labels, issue.get("labels") or [], repo)
    if not isinstance(milestone, _Keep):
        current = issue.get("milestone") or payload.get("milestone")
        issue["milestone"] = None if milestone is None else _milestone(milestone, current, repo)
        if "milestone" in payload and issue["milestone"] is not None:
            payload["milestone"] = copy.deepcopy(issue["milestone"])
    if not isinstance(label, _Keep) and isinstance(payload.get("label"), dict):
        payload["label"] = _label(label, payload["label"], repo)
    return payload


def pull_request_event(
    action: str,
    *,
    number: int = 1,
    merged: bool = False,
    labels: Sequence[str] | _Keep = KEEP,
    title: str | _Keep = KEEP,
    body: str | _Keep | None = KEEP,
    base_ref: str | _Keep = KEEP,
    head_ref: str | _Keep = KEEP,
    login: str = DEFAULT_LOGIN,
    user_type: str = "User",
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`pull_request.<action>`; `merged=True` (with `closed`) is GitHub's "PR was merged"."""
    payload = _common(
        base_example("pull_request", action),
        repo=repo,
        login=login,
        user_type=user_type,
        installation_id=installation_id,
    )
    pr = payload["pull_request"]
    payload["number"] = number
    pr["number"] = number
    _set_user(pr["user"], login, user_type)
    pr["merged"] = merged
    if merged:
        pr["state"] = "closed"
        pr["merged_at"] = _MERGED_AT
        pr["closed_at"] = pr.get("closed_at") or _MERGED_AT
        pr["merged_by"] = copy.deepcopy(payload["sender"])
    else:
        pr["merged_at"] = None
        pr["merged_by"] = None
    if not isinstance(labels, _Keep):
        pr["labels"] = _labels(labels, pr.get("labels") or [], repo)
    if not isinstance(title, _Keep):
        pr["title"] = title
    if not isinstance(body, _Keep):
        pr["body"] = body
    for side, ref in (("base", base_ref), ("head", head_ref)):
        _set_repo(pr[side], repo, key="repo")
        if not isinstance(ref, _Keep):
            pr[side]["ref"] = ref
    return payload


def push_event(
    ref: str = "refs/heads/main",
    *,
    files_changed: Sequence[str] = (),
    files_added: Sequence[str] = (),
    files_removed: Sequence[str] = (),
    message: str | _Keep = KEEP,
    login: str = DEFAULT_LOGIN,
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`push` of one commit to `ref` touching the given files (a branch push, not a deletion)."""
    candidates = [e for e in webhook_examples("push") if e["commits"] and "installation" in e]
    payload = candidates[0] if candidates else webhook_example("push")
    _common(payload, repo=repo, login=login, user_type="User", installation_id=installation_id)
    payload["ref"] = ref
    payload["created"] = False
    payload["deleted"] = False
    payload["pusher"]["name"] = login
    commits: list[dict[str, Any]] = payload["commits"][:1]
    payload["commits"] = commits
    for commit in [*commits, payload["head_commit"]]:
        commit["added"] = list(files_added)
        commit["modified"] = list(files_changed)
        commit["removed"] = list(files_removed)
        if not isinstance(message, _Keep):
            commit["message"] = message
    return payload


def _repository_entries(
    full_names: Sequence[str], template: dict[str, Any]
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for full_name in full_names:
        entry = copy.deepcopy(template)
        entry["full_name"] = full_name
        entry["name"] = full_name.split("/", 1)[1]
        entry["id"] = _stable_id(f"repo:{full_name}")
        entries.append(entry)
    return entries


def _repository_template() -> dict[str, Any]:
    return base_example("installation_repositories", "added")["repositories_added"][0]


def _set_account(payload: Payload, account_login: str, account_type: str) -> None:
    installation = payload["installation"]
    if isinstance(installation.get("account"), dict):
        _set_user(installation["account"], account_login, account_type)
    installation["target_type"] = account_type


def installation_event(
    action: str,
    *,
    installation_id: int = 1,
    account_login: str = "octo-org",
    account_type: str = "Organization",
    repositories: Sequence[str] | _Keep = KEEP,
    login: str = DEFAULT_LOGIN,
) -> Payload:
    """`installation.<action>` for the app installed on `account_login`."""
    payload = base_example("installation", action)
    _set_user(payload["sender"], login)
    _set_installation(payload, installation_id)
    _set_account(payload, account_login, account_type)
    if not isinstance(repositories, _Keep) and "repositories" in payload:
        template = (payload["repositories"] or [_repository_template()])[0]
        payload["repositories"] = _repository_entries(repositories, template)
    return payload


def installation_repositories_event(
    action: str,
    *,
    added: Sequence[str] = (),
    removed: Sequence[str] = (),
    installation_id: int = 1,
    account_login: str = "octo-org",
    account_type: str = "Organization",
    login: str = DEFAULT_LOGIN,
) -> Payload:
    """`installation_repositories.<action>` (`added`/`removed`) for the listed repositories."""
    payload = base_example("installation_repositories", action)
    _set_user(payload["sender"], login)
    _set_installation(payload, installation_id)
    _set_account(payload, account_login, account_type)
    template = _repository_template()
    payload["repositories_added"] = _repository_entries(added, template)
    payload["repositories_removed"] = _repository_entries(removed, template)
    return payload


def label_event(
    action: str,
    *,
    name: str = "bug",
    color: str | _Keep = KEEP,
    description: str | _Keep | None = KEEP,
    login: str = DEFAULT_LOGIN,
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`label.<action>` for the label `name` in `repo`."""
    payload = _common(
        base_example("label", action),
        repo=repo,
        login=login,
        user_type="User",
        installation_id=installation_id,
    )
    payload["label"] = _label(name, payload["label"], repo)
    if not isinstance(color, _Keep):
        payload["label"]["color"] = color
    if not isinstance(description, _Keep):
        payload["label"]["description"] = description
    return payload


def milestone_event(
    action: str,
    *,
    title: str = "v1.0",
    number: int = 1,
    open_issues: int | _Keep = KEEP,
    closed_issues: int | _Keep = KEEP,
    login: str = DEFAULT_LOGIN,
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`milestone.<action>` for milestone `number` titled `title`."""
    payload = _common(
        base_example("milestone", action),
        repo=repo,
        login=login,
        user_type="User",
        installation_id=installation_id,
    )
    milestone = payload["milestone"]
    milestone["title"] = title
    milestone["number"] = number
    milestone["url"] = f"https://api.github.com/repos/{repo}/milestones/{number}"
    milestone["html_url"] = f"https://github.com/{repo}/milestone/{number}"
    if not isinstance(open_issues, _Keep):
        milestone["open_issues"] = open_issues
    if not isinstance(closed_issues, _Keep):
        milestone["closed_issues"] = closed_issues
    return payload


def workflow_run_event(
    action: str = "completed",
    *,
    conclusion: str | None = "success",
    workflow_name: str | _Keep = KEEP,
    head_branch: str = "main",
    triggering_event: str = "push",
    run_id: int = 30433642,
    login: str = DEFAULT_LOGIN,
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
    actor: str | None = None,
) -> Payload:
    """`workflow_run.<action>`; `conclusion` is only meaningful for `completed`. `actor`
    (e.g. an App's `slug[bot]`) becomes the run's `actor` and `triggering_actor`, which
    newer payloads carry and the example lacks."""
    payload = _common(
        base_example("workflow_run", action),
        repo=repo,
        login=login,
        user_type="User",
        installation_id=installation_id,
    )
    run = payload["workflow_run"]
    run["id"] = run_id
    run["head_branch"] = head_branch
    run["event"] = triggering_event
    run["status"] = "completed" if action == "completed" else run["status"]
    run["conclusion"] = conclusion if action == "completed" else None
    if not isinstance(workflow_name, _Keep):
        run["name"] = workflow_name
        payload["workflow"]["name"] = workflow_name
    _set_repo(run, repo, key="repository")
    _set_repo(run, repo, key="head_repository")
    # The example's run ran elsewhere; GitHub's run of this repository has its id.
    run["repository"]["id"] = run["head_repository"]["id"] = payload["repository"]["id"]
    if actor is not None:
        user = {**payload["sender"], "login": actor, "type": "Bot" if "[bot]" in actor else "User"}
        run["actor"] = run["triggering_actor"] = user
    return payload


def check_suite_event(
    action: str = "completed",
    *,
    conclusion: str | None = "success",
    head_sha: str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
    pull_numbers: Sequence[int] = (2,),
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`check_suite.<action>` on commit `head_sha`, the head of pull requests `pull_numbers`
    of `repo` (GitHub lists none for a pull request from a fork)."""
    payload = _common(
        base_example("check_suite", action),
        repo=repo,
        login=DEFAULT_LOGIN,
        user_type="User",
        installation_id=installation_id,
    )
    suite = payload["check_suite"]
    suite["head_sha"] = suite["after"] = head_sha
    suite["conclusion"] = conclusion
    template = base_example("check_suite", "completed")["check_suite"]["pull_requests"][0]
    repo_id = payload["repository"]["id"]
    pulls = []
    for number in pull_numbers:
        pull = copy.deepcopy(template)
        pull["number"] = number
        pull["url"] = f"https://api.github.com/repos/{repo}/pulls/{number}"
        pull["head"]["sha"] = head_sha
        pull["head"]["repo"]["id"] = pull["base"]["repo"]["id"] = repo_id
        pulls.append(pull)
    suite["pull_requests"] = pulls
    return payload


def discussion_comment_created(
    body: str,
    *,
    login: str = DEFAULT_LOGIN,
    user_type: str = "User",
    discussion_number: int = 1,
    comment_id: int = 6001,
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`discussion_comment.created`: `login` comments `body` on discussion `discussion_number`."""
    payload = _common(
        base_example("discussion_comment", "created"),
        repo=repo,
        login=login,
        user_type=user_type,
        installation_id=installation_id,
    )
    payload["comment"]["body"] = body
    payload["comment"]["id"] = comment_id
    _set_user(payload["comment"]["user"], login, user_type)
    payload["discussion"]["number"] = discussion_number
    return payload


def pull_request_review_comment_created(
    body: str,
    *,
    login: str = DEFAULT_LOGIN,
    user_type: str = "User",
    pr_number: int = 1,
    path: str | _Keep = KEEP,
    comment_id: int = 7001,
    installation_id: int = 1,
    repo: str = DEFAULT_REPO,
) -> Payload:
    """`pull_request_review_comment.created` on a diff line of pull request `pr_number`."""
    payload = _common(
        base_example("pull_request_review_comment", "created"),
        repo=repo,
        login=login,
        user_type=user_type,
        installation_id=installation_id,
    )
    comment = payload["comment"]
    comment["body"] = body
    comment["id"] = comment_id
    comment["pull_request_url"] = f"https://api.github.com/repos/{repo}/pulls/{pr_number}"
    _set_user(comment["user"], login, user_type)
    if not isinstance(path, _Keep):
        comment["path"] = path
    payload["pull_request"]["number"] = pr_number
    return payload


def ping_event(*, hook_id: int | _Keep = KEEP, zen: str | _Keep = KEEP) -> Payload:
    """`ping`, as sent when a webhook is created (no `installation`: it is not app-scoped)."""
    payload = webhook_example("ping")
    if not isinstance(hook_id, _Keep):
        payload["hook_id"] = hook_id
        payload["hook"]["id"] = hook_id
    if not isinstance(zen, _Keep):
        payload["zen"] = zen
    return payload


__all__ = [
    "DEFAULT_LOGIN",
    "DEFAULT_REPO",
    "KEEP",
    "Payload",
    "base_example",
    "discussion_comment_created",
    "installation_event",
    "installation_repositories_event",
    "issue_comment_created",
    "issues_event",
    "label_event",
    "milestone_event",
    "ping_event",
    "pull_request_event",
    "pull_request_review_comment_created",
    "push_event",
    "workflow_run_event",
]
