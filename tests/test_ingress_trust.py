"""Ingress against an attacker (issue 15, items 6, 12 and 13): what the signature does not
cover is not trusted, a malformed signature is a 4xx, and bodies not yet verified hold a
bounded amount of memory."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from ghapp import ingress
from ghapp.payloads import shape_problem
from ghapp.testing import signature_for, test_settings
from ghapp.web.app import create_app
from tests.support.payloads import base_example, issue_comment_created, webhook_examples

PATH = "/api/github/webhooks"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = test_settings(tmp_path, api_url="http://github.invalid/api/v3")
    with TestClient(create_app(settings, run_workers=False)) as c:
        yield c


def signed(body: bytes, event: str, delivery: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature_for(body),
        "Content-Type": "application/json",
    }


def stored(client: TestClient, delivery_id: str) -> Any:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return client.portal.call(runtime.deliveries.get, delivery_id)  # type: ignore[union-attr]


# -- item 12: a malformed signature is a 4xx, never a 500 ---------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        b"sha256=" + "é".encode() * 32,  # non-ASCII: hmac.compare_digest raised (a 500)
        b"sha256=\xff" + b"0" * 63,
        b"sha256=" + b"0" * 63,  # one short
        b"sha256=" + b"0" * 6400,
        b"SHA256=" + b"0" * 64,
    ],
    ids=["utf8", "latin1", "short", "long", "upper-prefix"],
)
def test_a_malformed_signature_is_401_not_500(client: TestClient, signature: bytes) -> None:
    body = json.dumps(issue_comment_created("hi")).encode()
    headers: dict[str, Any] = signed(body, "issue_comment", "sig-1")
    headers["X-Hub-Signature-256"] = signature
    response = client.post(PATH, content=body, headers=headers)
    assert response.status_code == 401
    assert stored(client, "sig-1") is None


# -- item 6: the event header must fit the signed body ------------------------------------


def test_a_signed_body_re_sent_under_another_event_is_refused(client: TestClient) -> None:
    """A captured, signed `label.deleted` body re-sent as `X-GitHub-Event: installation`
    under a new delivery id: 400, nothing stored (the worker would also ask GitHub before
    an installation stops getting work: tests/test_installations.py)."""
    captured = base_example("label", "deleted")
    captured["installation"] = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    body = json.dumps(captured).encode()
    assert (
        client.post(PATH, content=body, headers=signed(body, "label", "lab-1")).status_code == 202
    )
    for event in ("installation", "installation_repositories", "issues", "issue_comment"):
        response = client.post(PATH, content=body, headers=signed(body, event, f"as-{event}"))
        assert response.status_code == 400, event
        assert "not the shape" in response.json()["message"]
        assert stored(client, f"as-{event}") is None


def test_a_comment_body_under_the_issues_header_is_refused(client: TestClient) -> None:
    body = json.dumps(issue_comment_created("@bot label add x")).encode()
    response = client.post(PATH, content=body, headers=signed(body, "issues", "ic-1"))
    assert response.status_code == 400
    assert stored(client, "ic-1") is None


def _examples() -> list[tuple[str, int, dict[str, Any]]]:
    events = sorted(
        {
            "check_run", "check_suite", "create", "delete", "deployment", "discussion",
            "discussion_comment", "fork", "installation", "installation_repositories",
            "issue_comment", "issues", "label", "member", "milestone", "ping", "public",
            "pull_request", "pull_request_review", "pull_request_review_comment", "push",
            "release", "repository", "repository_dispatch", "star", "status", "watch",
            "workflow_dispatch", "workflow_job", "workflow_run",
        }
    )  # fmt: skip
    return [(e, n, ex) for e in events for n, ex in enumerate(webhook_examples(e))]


def test_every_example_github_publishes_fits_its_own_event() -> None:
    """The shape check refuses no real delivery: every example of @octokit/webhooks-examples
    for the events above passes under its own event."""
    refused = [(e, n, p) for e, n, ex in _examples() if (p := shape_problem(e, ex))]
    assert refused == []


# -- item 13: bodies not yet verified hold bounded memory ---------------------------------


async def test_the_byte_budget_makes_a_large_body_wait_its_turn() -> None:
    budget = ingress.BodyBudget(100)
    async with budget.hold(80, wait=1) as first:
        assert first
        async with budget.hold(80, wait=0.05) as second:
            assert not second  # would pass the budget: refused after the wait
        async with budget.hold(20, wait=0.05) as small:
            assert small
    waiter_got: list[bool] = []

    async def waiter() -> None:
        async with budget.hold(80, wait=5) as held:
            waiter_got.append(held)

    async with budget.hold(80, wait=1):
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.05)
        assert waiter_got == []  # waits while the first holds its bytes
    await task
    assert waiter_got == [True] and budget.used == 0 and budget.peak <= 100


def test_parallel_large_posts_are_read_within_the_budget(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight large unsigned-so-far posts at once: only as many bodies as the budget holds
    are read at a time (each here takes most of it), and every post still gets its answer."""
    monkeypatch.setattr(ingress, "UNVERIFIED_BYTES", 300_000)
    reading = {"now": 0, "most": 0}
    real_read = ingress._read_body

    async def slow_read(request: Request) -> bytes | None:
        reading["now"] += 1
        reading["most"] = max(reading["most"], reading["now"])
        try:
            await asyncio.sleep(0.05)  # lets the other requests in, if nothing stops them
            return await real_read(request)
        finally:
            reading["now"] -= 1

    monkeypatch.setattr(ingress, "_read_body", slow_read)
    payload = issue_comment_created("x" * 200_000)
    body = json.dumps(payload).encode()
    statuses: list[int] = []

    def post(n: int) -> None:
        response = client.post(PATH, content=body, headers=signed(body, "issue_comment", f"b{n}"))
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] * 8
    assert reading["most"] == 1


def test_a_database_failure_is_a_503_and_the_next_delivery_is_stored(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    real = runtime.deliveries.record_many

    async def broken(batch: Any) -> set[str]:
        raise OSError("disk I/O error")

    monkeypatch.setattr(runtime.deliveries, "record_many", broken)
    body = json.dumps(issue_comment_created("hi")).encode()
    response = client.post(PATH, content=body, headers=signed(body, "issue_comment", "db-1"))
    assert response.status_code == 503
    monkeypatch.setattr(runtime.deliveries, "record_many", real)
    again = client.post(PATH, content=body, headers=signed(body, "issue_comment", "db-1"))
    assert again.status_code == 202  # GitHub's redelivery (same id) goes in
    assert stored(client, "db-1") is not None
