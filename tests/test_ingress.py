"""The webhook endpoint: every bad input gets its answer, the server keeps serving, and an
accepted delivery is stored before the 202."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from githubkit.webhooks import sign, verify
from starlette.testclient import TestClient

from ghapp.testing import WEBHOOK_SECRET, signature_for, test_settings
from ghapp.web.app import create_app
from tests.support.payloads import issues_event

PATH = "/api/github/webhooks"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = test_settings(
        tmp_path,
        api_url="http://github.invalid/api/v3",
        env={"WEBHOOK_SECRET": f"rotated-out,{WEBHOOK_SECRET}"},
    )
    # No workers: these tests look at what ingress stores, not at what skills do.
    with TestClient(create_app(settings, run_workers=False)) as c:
        yield c


def headers(body: bytes, event: str = "issues", delivery: str = "d-1", **extra: str) -> dict:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature_for(body),
        "Content-Type": "application/json",
        **extra,
    }


def body_of(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def stored(client: TestClient, delivery_id: str) -> object:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return client.portal.call(runtime.deliveries.get, delivery_id)  # type: ignore[union-attr]


def test_accepted_delivery_is_stored_before_the_answer(client: TestClient) -> None:
    body = body_of(issues_event("opened", number=3))
    response = client.post(PATH, content=body, headers=headers(body, delivery="abc-1"))
    assert response.status_code == 202
    delivery = stored(client, "abc-1")
    assert delivery is not None
    assert (delivery.event, delivery.action, delivery.status) == ("issues", "opened", "queued")
    assert delivery.payload == body  # exactly the bytes GitHub sent
    assert delivery.installation_id == 1
    assert delivery.ordering_key == "octo-org/hello#3"


def queue_depth(client: TestClient) -> int:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return client.portal.call(runtime.queue_depth)  # type: ignore[union-attr]


def test_duplicate_delivery_id_is_answered_200_and_not_queued_again(client: TestClient) -> None:
    body = body_of(issues_event("opened"))
    assert client.post(PATH, content=body, headers=headers(body, delivery="dup")).status_code == 202
    assert queue_depth(client) == 1
    # Redelivered (GitHub keeps the id), even with another body: stored once, queued once.
    other = body_of(issues_event("opened", number=99))
    again = client.post(PATH, content=other, headers=headers(other, delivery="dup"))
    assert again.status_code == 200
    assert again.json() == {"message": "delivery already received"}
    assert queue_depth(client) == 1
    first = stored(client, "dup")
    assert first.payload == body and first.status == "queued"  # type: ignore[attr-defined]


def test_ping_and_unhandled_events(client: TestClient) -> None:
    ping = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    assert client.post(PATH, content=ping, headers=headers(ping, "ping")).status_code == 200
    body = b'{"action": "created", "starred_at": null}'
    response = client.post(PATH, content=body, headers=headers(body, "star", "star-1"))
    assert response.status_code == 202
    assert stored(client, "star-1").status == "ignored"  # stored, nothing else:
    assert queue_depth(client) == 0  # not queued for a worker to pick up and drop


def test_a_retired_and_the_current_secret_are_both_accepted(client: TestClient) -> None:
    body = body_of(issues_event("opened"))
    old = headers(body, delivery="rot-1")
    old["X-Hub-Signature-256"] = signature_for(body, "rotated-out")
    assert client.post(PATH, content=body, headers=old).status_code == 202


def _mutate(name: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    good = headers(body, delivery=f"bad-{name}")
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "no signature": (body, {k: v for k, v in good.items() if k != "X-Hub-Signature-256"}),
        "wrong signature": (body, {**good, "X-Hub-Signature-256": "sha256=" + "0" * 64}),
        "sha1 signature": (body, {**good, "X-Hub-Signature-256": "sha1=" + "0" * 40}),
        "garbled signature": (body, {**good, "X-Hub-Signature-256": "sha256=zz"}),
        "signed with another secret": (
            body,
            {**good, "X-Hub-Signature-256": signature_for(body, "nope")},
        ),
        "body changed after signing": (body + b" ", good),
        "no event header": (body, {k: v for k, v in good.items() if k != "X-GitHub-Event"}),
        "no delivery header": (body, {k: v for k, v in good.items() if k != "X-GitHub-Delivery"}),
        "garbled delivery header": (body, {**good, "X-GitHub-Delivery": "a b/c"}),
    }
    return cases[name]


@pytest.mark.parametrize(
    "place",
    ["X-Hub-Signature", "X-Hub-Signature-256"],
    ids=["legacy-header-only", "in-the-sha256-header"],
)
def test_a_correct_sha1_signature_is_refused(client: TestClient, place: str) -> None:
    # GitHub still sends the SHA-1 signature beside the SHA-256 one; githubkit's `verify`
    # accepts either. Only a SHA-256 signature may let a delivery in.
    body = body_of(issues_event("opened"))
    signed = headers(body, delivery=f"sha1-{place}")
    del signed["X-Hub-Signature-256"]
    signed[place] = sign(WEBHOOK_SECRET, body, "sha1")
    assert verify(WEBHOOK_SECRET, body, signed[place])  # a genuine signature, of the wrong kind
    response = client.post(PATH, content=body, headers=signed)
    assert response.status_code == 401
    assert response.json() == {"message": "missing or invalid X-Hub-Signature-256"}
    assert stored(client, f"sha1-{place}") is None
    assert queue_depth(client) == 0


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no signature", 401),
        ("wrong signature", 401),
        ("sha1 signature", 401),
        ("garbled signature", 401),
        ("signed with another secret", 401),
        ("body changed after signing", 401),
        ("no event header", 400),
        ("no delivery header", 400),
        ("garbled delivery header", 400),
    ],
)
def test_bad_headers(client: TestClient, case: str, status: int) -> None:
    body, hdrs = _mutate(case, body_of(issues_event("opened")))
    assert client.post(PATH, content=body, headers=hdrs).status_code == status
    _still_serving(client)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"action": "opened", "issue": {',  # truncated
        b"\xff\xfe\x00garbage",  # invalid UTF-8
        b"[1, 2, 3]",  # JSON, not an object
        b"",
        b"[" * 100_000,  # nesting bomb
    ],
    ids=["text", "truncated", "invalid-utf8", "array", "empty", "deep"],
)
def test_bodies_that_are_not_json_objects(client: TestClient, body: bytes) -> None:
    assert client.post(PATH, content=body, headers=headers(body)).status_code == 400
    _still_serving(client)


def test_oversize_body_is_refused(client: TestClient) -> None:
    declared = headers(b"{}")
    declared["Content-Length"] = str(26 * 1024 * 1024)
    # Declared too large: refused from the header, without reading a body.
    assert client.post(PATH, content=b"{}", headers=declared).status_code == 413

    def chunks() -> Iterator[bytes]:
        block = b" " * (1024 * 1024)
        for _ in range(26):
            yield block

    # Streamed without a length: refused once it passes the limit.
    streamed = client.post(PATH, content=chunks(), headers=headers(b"", delivery="big"))
    assert streamed.status_code == 413
    _still_serving(client)


def _still_serving(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    body = body_of(issues_event("opened"))
    import uuid

    ok = client.post(PATH, content=body, headers=headers(body, delivery=str(uuid.uuid4())))
    assert ok.status_code == 202


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}
    text = client.get("/metrics").text
    for name in (
        "ghapp_deliveries_total",
        "ghapp_skill_runs_total",
        "ghapp_queue_depth",
        "ghapp_delivery_seconds",
        "ghapp_github_requests_total",
        "ghapp_github_ratelimit_remaining",
    ):
        assert name in text


def test_answers_are_the_compact_json_starlette_would_send(client: TestClient) -> None:
    """Issue 17: answers are encoded with orjson; the bytes and headers stay those of
    Starlette's JSONResponse (compact, UTF-8, application/json)."""
    from starlette.responses import JSONResponse

    body = body_of(issues_event("opened", number=4))
    accepted = client.post(PATH, content=body, headers=headers(body, delivery="bytes-1"))
    refused = client.post(PATH, content=b"[]", headers=headers(b"[]", delivery="bytes-2"))
    for response, status in ((accepted, 202), (refused, 400)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        expected = JSONResponse(response.json()).body
        assert response.content == expected
        assert int(response.headers["content-length"]) == len(expected)
    assert accepted.content == b'{"message":"accepted","delivery":"bytes-1"}'
