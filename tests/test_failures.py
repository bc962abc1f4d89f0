"""Failure reasons: what a person reads on the settings page and in `ghapp deliveries`
when a delivery or skill run failed — the request, GitHub's words, the next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from githubkit.exception import RequestFailed
from githubkit.response import Response

from ghapp.failures import (
    INSTALLATION_LINK,
    FailureReason,
    explain,
    invalid_options,
    plain_detail,
    read_reason,
)
from ghapp.github import GitHubUnavailable, RetryLater
from ghapp.repo_config import Location, Problem

API = "https://api.github.com"


def refused(
    status: int, method: str, path: str, body: Any, headers: dict[str, str] | None = None
) -> RequestFailed:
    request = httpx.Request(method, API + path)
    raw = httpx.Response(status, json=body, headers=headers or {}, request=request)
    return RequestFailed(Response(raw, Any))


def test_a_403_names_the_request_github_s_message_and_the_permissions_page() -> None:
    exc = refused(
        403,
        "GET",
        "/repos/octo-org/hello/contents/.github/ghapp.yml",
        {"message": "Resource not accessible by integration"},
    )
    reason = read_reason(explain(exc, repo="octo-org/hello").encode())
    assert reason is not None
    assert reason.request == "GET /repos/octo-org/hello/contents/.github/ghapp.yml"
    assert reason.status == 403
    assert reason.message == "Resource not accessible by integration"
    assert "permission" in reason.summary and "GET /repos/octo-org/hello" in reason.summary
    assert reason.link == INSTALLATION_LINK
    installation = "https://github.com/organizations/octo-org/settings/installations/1"
    assert reason.link_for("https://github.com", installation) == installation
    assert reason.next_step and "accepts the App's requested permissions" in reason.next_step
    line = reason.line()
    assert "GitHub said: Resource not accessible by integration" in line
    assert "Next: " in line


def test_a_422_carries_github_s_field_errors_and_links_the_config_file() -> None:
    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "Label", "field": "color", "code": "invalid"}],
    }
    reason = explain(refused(422, "POST", "/repos/o/r/labels", body), repo="o/r")
    assert reason.message == "Validation Failed (color: invalid)"
    assert reason.link_for("https://ghe.example", None) == (
        "https://ghe.example/o/r/blob/HEAD/.github/ghapp.yml"
    )


def test_an_enterprise_api_root_is_not_part_of_the_request_shown() -> None:
    request = httpx.Request("GET", "https://ghe.example/api/v3/repos/o/r/issues/1")
    raw = httpx.Response(404, json={"message": "Not Found"}, request=request)
    reason = explain(RequestFailed(Response(raw, Any)))
    assert reason.request == "GET /repos/o/r/issues/1"
    assert "404" in reason.summary and reason.message == "Not Found"


def test_a_rate_limit_says_when_it_resets() -> None:
    reset = datetime.now(UTC) + timedelta(minutes=7)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset.timestamp()))}
    exc = refused(
        403, "POST", "/repos/o/r/issues/1/comments", {"message": "API rate limit"}, headers
    )
    reason = explain(exc, repo="o/r")
    assert "rate limit" in reason.summary
    assert reason.next_step and f"{reset:%H:%M} UTC" in reason.next_step
    later = explain(RetryLater(120, "GitHub rate limit"))
    assert later.next_step and "tries again by itself" in later.next_step


def test_an_outage_says_nothing_is_to_be_done() -> None:
    reason = explain(GitHubUnavailable("GitHub answered 502"))
    assert "GitHub answered 502" in reason.summary
    assert reason.next_step and "tries again by itself" in reason.next_step


def test_a_skill_bug_says_so_and_keeps_the_exception_for_tests() -> None:
    reason = explain(ValueError("x" * 1000))
    assert "ValueError" in reason.summary and "bug in the skill" in (reason.next_step or "")
    assert reason.technical is not None and len(reason.technical) <= 300
    assert plain_detail(reason.encode()) == reason.technical


def test_invalid_options_name_the_option_and_why() -> None:
    reason = invalid_options(
        "label-sync", ["label-sync.exclusive_scopes: Input should be a valid list"], "o/r"
    )
    again = read_reason(reason.encode())
    assert again == reason
    assert "exclusive_scopes: Input should be a valid list" in reason.line()


OWN_FILE = ".github/ghapp.yml"


def test_an_invalid_option_at_a_known_line_says_fix_that_line_and_links_it() -> None:
    reason = invalid_options(
        "label-sync",
        [
            Problem("label-sync.labels.0.color: bad", Location("o", "r", OWN_FILE, None, 7, 9)),
            Problem("label-sync.nope: Extra inputs", Location("o", "r", OWN_FILE, None, 3)),
            Problem("label-sync.other: bad", Location("o", "r", OWN_FILE, None, 12)),
            "no line known",
        ],
        "o/r",
    )
    assert reason.problems == (
        "label-sync.labels.0.color: bad (line 7)",
        "label-sync.nope: Extra inputs (line 3)",
        "label-sync.other: bad (line 12)",
        "no line known",
    )
    assert reason.next_step == (
        "Fix line 7 of .github/ghapp.yml (and lines 3, 12); the next event uses it."
    )
    assert reason.link_text == "Open line 7 of .github/ghapp.yml"
    assert reason.link_for("https://ghe.example/", None) == (
        "https://ghe.example/o/r/blob/HEAD/.github/ghapp.yml#L7"
    )
    assert "Next: Fix line 7 of .github/ghapp.yml" in reason.line()
    assert read_reason(reason.encode()) == reason


def test_the_line_links_the_ref_that_was_read() -> None:
    at_sha = Location("o", "r", OWN_FILE, "c0ffee", 2)
    assert invalid_options("s", [Problem("x", at_sha)], "o/r").link == (
        "/o/r/blob/c0ffee/.github/ghapp.yml#L2"
    )
    # The default branch, named when the caller knows it (a push says it).
    default = Location("o", "r", OWN_FILE, None, 2)
    assert invalid_options("s", [Problem("x", default)], "o/r", branch="trunk").link == (
        "/o/r/blob/trunk/.github/ghapp.yml#L2"
    )


def test_a_line_of_an_extends_base_names_that_file_and_links_it_there() -> None:
    base = Location("o", ".github", "shared/ghapp.yml", None, 4)
    reason = invalid_options(
        "s",
        [Problem("`o/.github:shared/ghapp.yml` is not a valid ghapp config", base)],
        "o/r",
        branch="main",
    )
    assert reason.next_step == (
        "Fix line 4 of `o/.github:shared/ghapp.yml`; the next event uses it."
    )
    # Its own repository, at its default branch: not the repository's branch name.
    assert reason.link == "/o/.github/blob/HEAD/shared/ghapp.yml#L4"


def test_a_syntax_error_that_says_its_line_is_not_told_twice() -> None:
    text = "o/r:.github/ghapp.yml: expected ',' at line 3, column 1"
    reason = invalid_options("s", [Problem(text, Location("o", "r", OWN_FILE, None, 3))], "o/r")
    assert reason.problems == (text,)
    assert reason.next_step is not None and reason.next_step.startswith("Fix line 3 of")


def test_plain_text_stored_before_reasons_reads_as_a_summary() -> None:
    assert read_reason("switched off") == FailureReason(summary="switched off")
    assert read_reason(None) is None
    # The worker appends to a delivery's error after the reason.
    stored = explain(GitHubUnavailable("down")).encode() + "; gave up after 5 attempts"
    reason = read_reason(stored)
    assert reason is not None and reason.summary.endswith("(gave up after 5 attempts)")
    # A damaged reason is shown as text rather than failing the page.
    assert read_reason("ghapp-reason:{not json") == FailureReason(summary="{not json")


def test_the_responder_is_named_by_its_host_never_its_credentials() -> None:
    from types import SimpleNamespace

    from ghapp.web.settings.skill_rows import responder_text

    assert responder_text(SimpleNamespace()) is None
    url = SimpleNamespace(responder="https://user:pass@answers.example.com/hook?key=k")
    assert responder_text(url) == "the responder at answers.example.com"
    agent = SimpleNamespace(responder="agent", agent_model="claude-x")
    assert responder_text(agent) == "the built-in AI agent (claude-x)"
    assert "no responder" in (responder_text(SimpleNamespace(responder="none")) or "")


def test_a_5xx_is_an_outage_with_the_request_not_a_refusal() -> None:
    reason = explain(refused(502, "POST", "/repos/o/r/issues/1/comments", {"message": "x"}))
    assert "could not be reached or failed" in reason.summary
    assert (reason.request, reason.status) == ("POST /repos/o/r/issues/1/comments", 502)
    assert reason.next_step and "tries again by itself" in reason.next_step
