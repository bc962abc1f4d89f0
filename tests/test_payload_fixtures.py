"""The payload helpers keep GitHub's shape and put each field where GitHub puts it.

A helper that invented keys or dropped them would let handlers pass tests against payloads
GitHub never sends; these tests compare every helper's result with the real example it
starts from (`@octokit/webhooks-examples`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import octokit
from tests.support import payloads as p
from tests.support.octokit import webhook_example, webhook_examples

Build = Callable[[], dict[str, Any]]

# (event, action GitHub would send, helper call with defaults)
CASES: list[tuple[str, str | None, Build]] = [
    ("issue_comment", "created", lambda: p.issue_comment_created("hello")),
    ("issues", "opened", lambda: p.issues_event("opened")),
    ("issues", "closed", lambda: p.issues_event("closed")),
    ("issues", "labeled", lambda: p.issues_event("labeled", label="bug")),
    ("issues", "milestoned", lambda: p.issues_event("milestoned", milestone="v2")),
    ("pull_request", "opened", lambda: p.pull_request_event("opened")),
    ("pull_request", "closed", lambda: p.pull_request_event("closed", merged=True)),
    ("push", None, lambda: p.push_event("refs/heads/main", files_changed=["a.py"])),
    ("installation", "created", lambda: p.installation_event("created")),
    ("installation", "deleted", lambda: p.installation_event("deleted")),
    ("installation_repositories", "added", lambda: p.installation_repositories_event("added")),
    ("label", "created", lambda: p.label_event("created")),
    ("label", "edited", lambda: p.label_event("edited")),
    ("milestone", "closed", lambda: p.milestone_event("closed")),
    ("workflow_run", "completed", lambda: p.workflow_run_event("completed")),
    ("discussion_comment", "created", lambda: p.discussion_comment_created("hi")),
    (
        "pull_request_review_comment",
        "created",
        lambda: p.pull_request_review_comment_created("nit"),
    ),
    ("ping", None, p.ping_event),
]
_IDS = [f"{event}.{action}" if action else event for event, action, _ in CASES]

# Nested objects whose key set the helpers change on purpose, and why.
_ALLOWED_NESTED = {
    ("issue_comment", "issue"): {"pull_request"},  # present only on pull-request comments
}


def _real_key_sets(event: str, action: str | None) -> list[set[str]]:
    source_action = "reopened" if (event, action) == ("issues", "closed") else action
    return [
        set(e) - {"installation"}
        for e in webhook_examples(event)
        if source_action is None or e.get("action") == source_action
    ]


@pytest.mark.parametrize(("event", "action", "build"), CASES, ids=_IDS)
def test_top_level_keys_are_a_real_examples_keys(
    event: str, action: str | None, build: Build
) -> None:
    payload = build()
    assert payload.get("action") == action
    # `installation` is the only key a helper may add: GitHub sends it to every app delivery.
    assert set(payload) - {"installation"} in _real_key_sets(event, action)
    if event != "ping":
        assert isinstance(payload["installation"]["id"], int)


@pytest.mark.parametrize(("event", "action", "build"), CASES, ids=_IDS)
def test_nested_objects_keep_their_keys(event: str, action: str | None, build: Build) -> None:
    payload = build()
    source = p.base_example(event, action) if event not in ("push", "ping") else None
    if source is None:
        return  # push and ping pick their example by content; covered by the top-level test
    for key, value in source.items():
        if not isinstance(value, dict) or key == "installation":
            continue
        allowed = _ALLOWED_NESTED.get((event, key), set())
        assert set(payload[key]) ^ set(value) <= allowed, f"{event}.{key} changed shape"


def test_base_example_is_a_real_example_and_a_copy() -> None:
    example = p.base_example("issue_comment", "created")
    assert example in webhook_examples("issue_comment")
    assert "installation" in example  # the app-delivery example is preferred
    example["comment"]["body"] = "changed"
    assert p.base_example("issue_comment", "created")["comment"]["body"] != "changed"


def test_issue_comment_fields_are_where_github_puts_them() -> None:
    payload = p.issue_comment_created(
        "@bot help",
        login="alice",
        user_type="Bot",
        installation_id=42,
        repo="acme/widgets",
        issue_number=17,
        comment_id=99,
    )
    assert payload["comment"]["body"] == "@bot help"
    assert payload["comment"]["id"] == 99
    assert payload["comment"]["user"]["login"] == "alice"
    assert payload["comment"]["user"]["type"] == "Bot"
    assert payload["sender"]["login"] == "alice"
    assert payload["sender"]["type"] == "Bot"
    assert payload["installation"]["id"] == 42
    assert payload["issue"]["number"] == 17
    assert "pull_request" not in payload["issue"]
    repo = payload["repository"]
    assert (repo["full_name"], repo["name"], repo["owner"]["login"]) == (
        "acme/widgets",
        "widgets",
        "acme",
    )
    assert payload["organization"]["login"] == "acme"


def test_issue_comment_on_a_pull_request() -> None:
    payload = p.issue_comment_created(
        "hi", repo="acme/widgets", issue_number=5, is_pull_request=True
    )
    links = payload["issue"]["pull_request"]
    assert links["url"] == "https://api.github.com/repos/acme/widgets/pulls/5"
    assert links["html_url"] == "https://github.com/acme/widgets/pull/5"


def test_issues_event_labels_milestone_and_closed() -> None:
    payload = p.issues_event("closed", number=3, labels=["bug", "ui"], milestone="v1.2")
    issue = payload["issue"]
    assert payload["action"] == "closed"
    assert issue["state"] == "closed"
    assert issue["number"] == 3
    assert [label["name"] for label in issue["labels"]] == ["bug", "ui"]
    # Each label keeps GitHub's label shape.
    label_keys = set(webhook_example("label", "created")["label"])
    assert all(set(label) == label_keys for label in issue["labels"])
    assert issue["milestone"]["title"] == "v1.2"
    assert p.issues_event("opened", milestone=None)["issue"]["milestone"] is None


def test_issues_labeled_sets_the_top_level_label() -> None:
    payload = p.issues_event("labeled", label="help wanted", repo="acme/widgets")
    assert payload["label"]["name"] == "help wanted"
    assert payload["label"]["url"] == "https://api.github.com/repos/acme/widgets/labels/help wanted"


def test_pull_request_event_merged_with_labels() -> None:
    payload = p.pull_request_event(
        "closed", number=8, merged=True, labels=["feature"], base_ref="main", head_ref="topic"
    )
    pr = payload["pull_request"]
    assert payload["number"] == pr["number"] == 8
    assert pr["merged"] is True
    assert pr["merged_at"] is not None
    assert pr["state"] == "closed"
    assert [label["name"] for label in pr["labels"]] == ["feature"]
    assert pr["base"]["ref"] == "main"
    assert pr["head"]["ref"] == "topic"
    assert pr["base"]["repo"]["full_name"] == p.DEFAULT_REPO
    unmerged = p.pull_request_event("closed")["pull_request"]
    assert unmerged["merged"] is False
    assert unmerged["merged_at"] is None


def test_push_event_files() -> None:
    payload = p.push_event(
        "refs/heads/release",
        files_changed=["CHANGELOG.md"],
        files_added=["new.py"],
        files_removed=["old.py"],
        repo="acme/widgets",
        installation_id=7,
    )
    assert payload["ref"] == "refs/heads/release"
    assert payload["deleted"] is False
    assert len(payload["commits"]) == 1
    for commit in (payload["commits"][0], payload["head_commit"]):
        assert commit["modified"] == ["CHANGELOG.md"]
        assert commit["added"] == ["new.py"]
        assert commit["removed"] == ["old.py"]
    assert payload["repository"]["full_name"] == "acme/widgets"
    assert payload["installation"]["id"] == 7


def test_installation_events() -> None:
    payload = p.installation_event(
        "created", installation_id=5, account_login="acme", repositories=["acme/a", "acme/b"]
    )
    assert payload["installation"]["id"] == 5
    assert payload["installation"]["account"]["login"] == "acme"
    assert payload["installation"]["account"]["type"] == "Organization"
    assert payload["installation"]["target_type"] == "Organization"
    assert [r["full_name"] for r in payload["repositories"]] == ["acme/a", "acme/b"]
    assert [r["name"] for r in payload["repositories"]] == ["a", "b"]

    changed = p.installation_repositories_event("removed", removed=["acme/gone"], installation_id=5)
    assert changed["repositories_added"] == []
    assert [r["full_name"] for r in changed["repositories_removed"]] == ["acme/gone"]
    assert changed["installation"]["id"] == 5


def test_label_and_milestone_events() -> None:
    label = p.label_event("created", name="prio: high", color="ff0000", repo="acme/widgets")
    assert label["label"]["name"] == "prio: high"
    assert label["label"]["color"] == "ff0000"
    assert label["repository"]["full_name"] == "acme/widgets"

    milestone = p.milestone_event("closed", title="v3", number=4, open_issues=0, closed_issues=9)
    ms = milestone["milestone"]
    assert (ms["title"], ms["number"], ms["open_issues"], ms["closed_issues"]) == ("v3", 4, 0, 9)


def test_workflow_run_event() -> None:
    payload = p.workflow_run_event(
        "completed", conclusion="failure", head_branch="dev", repo="acme/widgets"
    )
    run = payload["workflow_run"]
    assert run["status"] == "completed"
    assert run["conclusion"] == "failure"
    assert run["head_branch"] == "dev"
    assert run["repository"]["full_name"] == "acme/widgets"
    assert payload["repository"]["full_name"] == "acme/widgets"


def test_discussion_and_review_comments() -> None:
    discussion = p.discussion_comment_created("q?", login="bob", discussion_number=12)
    assert discussion["comment"]["body"] == "q?"
    assert discussion["comment"]["user"]["login"] == "bob"
    assert discussion["discussion"]["number"] == 12

    review = p.pull_request_review_comment_created("nit", pr_number=4, path="src/x.py")
    assert review["comment"]["body"] == "nit"
    assert review["comment"]["path"] == "src/x.py"
    assert review["pull_request"]["number"] == 4


def test_ping_event() -> None:
    payload = p.ping_event(hook_id=123, zen="Keep it logically awesome.")
    assert payload["hook_id"] == payload["hook"]["id"] == 123
    assert payload["zen"] == "Keep it logically awesome."
    assert "installation" not in payload


def test_unknown_action_is_explained() -> None:
    with pytest.raises(KeyError, match="actions with examples"):
        p.issues_event("teleported")


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_unfetchable_test_data_skips_offline_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    def offline(package: str, version: str) -> Any:
        raise octokit.FetchError("npm pack exited 1: ENOTFOUND registry.npmjs.org")

    monkeypatch.setattr(octokit, "ensure_package", offline)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"offline: could not fetch @octokit/openapi \(npm pack"):
        octokit._package_file(octokit.OPENAPI_PACKAGE, octokit.OPENAPI_VERSION, "x.json")
