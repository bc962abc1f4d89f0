"""Tests written for the mutants of the ingress path that the endpoint tests let through
(issue 14): `ghapp/ingress.py` (group commit, byte budget, header and signature checks) and
`ghapp/payloads.py` (body shape, routing keys, typed parsing). See docs/testing.md,
"Mutation testing"."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from ghapp import ingress, payload_shapes, payloads
from ghapp.ingress import BodyBudget, Intake, new_delivery, signature_ok, worth_queuing
from ghapp.payloads import (
    installation_id_of,
    ordering_key,
    parse_model,
    repository_of,
    shape_problem,
)
from ghapp.store import Delivery
from ghapp.testing import WEBHOOK_SECRET, signature_for, test_settings
from ghapp.web.app import create_app
from tests.support.payloads import base_example, issue_comment_created, issues_event

PATH = "/api/github/webhooks"


# -- group commit, against a stand-in runtime that records what ingress asks of it --------


class _Counter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], int] = {}

    def labels(self, *names: str) -> SimpleNamespace:
        def inc() -> None:
            self.counts[names] = self.counts.get(names, 0) + 1

        return SimpleNamespace(inc=inc)


class _Runtime:
    """What Intake uses of a Runtime: the delivery store, the queue and the metrics."""

    def __init__(self, seen: set[str] | None = None, fail: BaseException | None = None) -> None:
        self.seen = set(seen or ())
        self.fail = fail
        self.commits: list[list[str]] = []
        self.enqueued: list[list[tuple[str, str | None]]] = []
        self.metric = _Counter()
        self.deliveries = SimpleNamespace(record_many=self._record_many)
        self.queue = SimpleNamespace(enqueue_deliveries=self._enqueue)
        self.metrics = SimpleNamespace(deliveries=self.metric)

    async def _record_many(self, batch: list[Delivery]) -> set[str]:
        self.commits.append([d.id for d in batch])
        await asyncio.sleep(0)  # a commit takes time: others arrive meanwhile
        if self.fail is not None:
            raise self.fail
        fresh = {d.id for d in batch} - self.seen
        self.seen |= fresh
        return fresh

    async def _enqueue(self, items: list[tuple[str, str | None]]) -> None:
        self.enqueued.append(items)


def _delivery(delivery_id: str, *, handled: bool = True, number: int = 1) -> Delivery:
    payload = issues_event("opened", number=number)
    body = json.dumps(payload).encode()
    return new_delivery(delivery_id, "issues", body, payload, handled=handled)


async def test_deliveries_arriving_during_a_commit_share_the_next_one() -> None:
    runtime = _Runtime()
    intake = Intake(runtime)  # type: ignore[arg-type]
    first = asyncio.create_task(intake.accept(_delivery("a", number=1)))
    await asyncio.sleep(0)  # the first commit starts alone
    rest = [intake.accept(_delivery(i, number=n)) for n, i in enumerate("bcd", start=2)]
    answers = await asyncio.gather(first, *rest)
    assert answers == [True, True, True, True]
    assert runtime.commits == [["a"], ["b", "c", "d"]]
    assert runtime.enqueued == [
        [("a", "octo-org/hello#1")],
        [("b", "octo-org/hello#2"), ("c", "octo-org/hello#3"), ("d", "octo-org/hello#4")],
    ]


async def test_a_batch_holds_at_most_max_batch_deliveries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingress, "MAX_BATCH", 2)
    runtime = _Runtime()
    intake = Intake(runtime)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(intake.accept(_delivery(i)) for i in "abcde"))
    assert answers == [True] * 5
    assert runtime.commits == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_repeated_id_in_one_batch_is_fresh_once_and_a_seen_one_never() -> None:
    runtime = _Runtime(seen={"old"})
    intake = Intake(runtime)  # type: ignore[arg-type]
    answers = await asyncio.gather(
        intake.accept(_delivery("x", number=1)),
        intake.accept(_delivery("x", number=2)),
        intake.accept(_delivery("old")),
        intake.accept(_delivery("quiet", handled=False)),
    )
    assert answers == [True, False, False, True]
    # Only the first copy of "x" is queued; "old" was stored before; "quiet" is ignored.
    assert runtime.enqueued == [[("x", "octo-org/hello#1")]]
    assert runtime.metric.counts == {("issues", "ignored"): 1}


async def test_a_batch_of_ignored_deliveries_enqueues_nothing() -> None:
    runtime = _Runtime()
    intake = Intake(runtime)  # type: ignore[arg-type]
    assert await intake.accept(_delivery("q", handled=False))
    assert runtime.enqueued == []
    assert runtime.metric.counts == {("issues", "ignored"): 1}


async def test_a_failed_commit_fails_every_delivery_of_its_batch_and_the_next_one_runs() -> None:
    runtime = _Runtime(fail=OSError("disk I/O error"))
    intake = Intake(runtime)  # type: ignore[arg-type]
    results = await asyncio.gather(
        intake.accept(_delivery("a")), intake.accept(_delivery("b")), return_exceptions=True
    )
    assert [type(r) for r in results] == [OSError, OSError]
    assert str(results[0]) == "disk I/O error"
    runtime.fail = None
    assert await intake.accept(_delivery("a"))
    assert runtime.commits == [["a", "b"], ["a"]]


async def test_deliveries_waiting_behind_a_failed_commit_are_committed_next() -> None:
    class _FailsFirst(_Runtime):
        async def _record_many(self, batch: list[Delivery]) -> set[str]:
            fresh = await super()._record_many(batch)
            if len(self.commits) == 1:
                raise OSError("disk I/O error")
            return fresh

    runtime = _FailsFirst()
    intake = Intake(runtime)  # type: ignore[arg-type]
    first = asyncio.create_task(intake.accept(_delivery("a")))
    await asyncio.sleep(0)  # the failing commit is under way
    second = asyncio.create_task(intake.accept(_delivery("b")))
    with pytest.raises(OSError):
        await asyncio.wait_for(first, 5)
    assert await asyncio.wait_for(second, 5)  # not left waiting for another delivery
    assert runtime.commits == [["a"], ["b"]]


async def test_one_intake_per_runtime() -> None:
    runtime = _Runtime()
    assert ingress.intake_of(runtime) is ingress.intake_of(runtime)  # type: ignore[arg-type]
    assert ingress.intake_of(_Runtime()) is not ingress.intake_of(runtime)  # type: ignore[arg-type]
    assert ingress.intake_of(runtime).runtime is runtime  # type: ignore[arg-type]
    assert ingress.body_budget() is ingress.body_budget()
    assert ingress.body_budget().capacity == ingress.UNVERIFIED_BYTES


# -- what is stored, and whether it is queued ----------------------------------------------


def test_a_new_delivery_takes_its_action_from_the_body_unless_given() -> None:
    payload = issues_event("opened", number=7)
    body = json.dumps(payload).encode()
    got = new_delivery("n-1", "issues", body, payload)
    assert (got.id, got.event, got.action, got.status, got.attempts) == (
        "n-1",
        "issues",
        "opened",
        "queued",
        0,
    )
    assert (got.installation_id, got.repository, got.ordering_key) == (
        1,
        "octo-org/hello",
        "octo-org/hello#7",
    )
    assert got.payload == body and got.finished_at is None
    assert new_delivery("n-2", "issues", body, payload, action="closed").action == "closed"
    assert new_delivery("n-3", "star", b"{}", {"action": 5}).action is None


def test_an_ignored_delivery_is_finished_when_it_is_received() -> None:
    got = new_delivery("n-4", "star", b"{}", {}, handled=False)
    assert got.status == "ignored"
    assert got.finished_at is not None and got.finished_at == got.received_at


def test_worth_queuing_reads_the_event_or_the_event_and_action() -> None:
    names = frozenset({"push", "issues.opened"})
    assert worth_queuing(names, "push", None)
    assert worth_queuing(names, "push", "whatever")
    assert worth_queuing(names, "issues", "opened")
    assert not worth_queuing(names, "issues", "closed")
    assert not worth_queuing(names, "issues", None)
    assert not worth_queuing(frozenset({"issues.None"}), "issues", None)


# -- signatures ----------------------------------------------------------------------------


def test_signature_ok_tries_every_secret_and_wants_the_sha256_shape() -> None:
    body = b'{"a": 1}'
    good = signature_for(body)
    assert signature_ok((WEBHOOK_SECRET,), body, good)
    assert signature_ok(("old", WEBHOOK_SECRET), body, good)
    assert signature_ok((WEBHOOK_SECRET, "new"), body, good)  # a later miss keeps the match
    assert not signature_ok(("old", "new"), body, good)
    assert not signature_ok((), body, good)
    assert not signature_ok((WEBHOOK_SECRET,), body, None)
    assert not signature_ok((WEBHOOK_SECRET,), body, "")
    assert not signature_ok((WEBHOOK_SECRET,), body, good.upper().replace("SHA256", "sha256x"))
    assert not signature_ok((WEBHOOK_SECRET,), body, "x" + good)
    assert not signature_ok((WEBHOOK_SECRET,), body, good + "0")


# -- the byte budget -----------------------------------------------------------------------


async def test_a_hold_larger_than_the_budget_takes_the_whole_budget() -> None:
    budget = BodyBudget(100)
    async with budget.hold(500, wait=0.05) as held:
        assert held
        assert budget.used == 100 and budget.peak == 100
    assert budget.used == 0
    async with budget.hold(100, wait=0.05) as exact:  # exactly the capacity fits
        assert exact and budget.used == 100
    async with budget.hold(30, wait=1) as a, budget.hold(70, wait=0.05) as b:
        assert a and b and budget.used == 100
    assert budget.used == 0 and budget.peak == 100


async def test_a_waiting_hold_takes_what_is_freed_up_to_the_whole_budget() -> None:
    budget = BodyBudget(100)
    got: list[bool] = []

    async def waiter() -> None:
        async with budget.hold(100, wait=5) as held:
            got.append(held)
            assert budget.used == 100

    async with budget.hold(60, wait=1):
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.01)
        assert got == [] and budget._waiting == 1
    await asyncio.wait_for(task, 5)
    assert got == [True] and budget.used == 0 and budget._waiting == 0


async def test_two_holds_of_the_whole_budget_at_once_do_not_both_get_it() -> None:
    budget = BodyBudget(100)
    got: list[bool] = []

    async def take() -> None:
        async with budget.hold(100, wait=0.05) as held:
            got.append(held)
            await asyncio.sleep(0.1)

    await asyncio.gather(take(), take())
    assert sorted(got) == [False, True]
    assert budget.peak == 100 and budget.used == 0


async def test_an_empty_body_holds_nothing() -> None:
    budget = BodyBudget(100)
    assert (budget.used, budget.peak) == (0, 0)
    async with budget.hold(0, wait=0.05) as held:
        assert held and (budget.used, budget.peak) == (0, 0)


async def test_a_refused_hold_gives_back_nothing_and_stops_waiting() -> None:
    budget = BodyBudget(100)
    async with budget.hold(60, wait=1):
        async with budget.hold(60, wait=0.01) as refused:
            assert not refused
            assert budget.used == 60
        assert budget._waiting == 0
    assert budget.used == 0


# -- the endpoint's answers ----------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = test_settings(tmp_path, api_url="http://github.invalid/api/v3")
    with TestClient(create_app(settings, run_workers=False)) as c:
        yield c


def _signed(
    body: bytes, event: str = "issues", delivery: str = "m-1", **extra: str | bytes
) -> dict:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature_for(body),
        "Content-Type": "application/json",
        **extra,
    }


def _stored(client: TestClient, delivery_id: str) -> Any:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return client.portal.call(runtime.deliveries.get, delivery_id)  # type: ignore[union-attr]


def test_every_answer_says_what_happened(client: TestClient) -> None:
    body = json.dumps(issues_event("opened")).encode()
    accepted = client.post(PATH, content=body, headers=_signed(body, delivery="ok-1"))
    assert (accepted.status_code, accepted.json()) == (
        202,
        {"message": "accepted", "delivery": "ok-1"},
    )
    ping = b'{"zen": "z", "hook_id": 1}'
    pong = client.post(PATH, content=ping, headers=_signed(ping, "ping", "p-1"))
    assert (pong.status_code, pong.json()) == (200, {"message": "pong"})
    assert _stored(client, "p-1") is None
    unsigned = {k: v for k, v in _signed(body).items() if k != "X-Hub-Signature-256"}
    refused = client.post(PATH, content=body, headers=unsigned)
    assert refused.json() == {"message": "missing or invalid X-Hub-Signature-256"}
    no_event = {k: v for k, v in _signed(body).items() if k != "X-GitHub-Event"}
    assert client.post(PATH, content=body, headers=no_event).json() == {
        "message": "X-GitHub-Event and X-GitHub-Delivery headers are required"
    }
    not_json = b"nope"
    answer = client.post(PATH, content=not_json, headers=_signed(not_json, delivery="nj"))
    assert answer.json() == {"message": "body is not JSON"}
    array = b"[1]"
    answer = client.post(PATH, content=array, headers=_signed(array, delivery="arr"))
    assert answer.json() == {"message": "body is not a JSON object"}


def test_a_wrong_signature_is_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(issues_event("opened")).encode()
    with caplog.at_level(logging.WARNING, logger="ghapp.ingress"):
        bad = _signed(body, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
        assert client.post(PATH, content=body, headers=bad).status_code == 401
    messages = [r.getMessage() for r in caplog.records if r.name == "ghapp.ingress"]
    assert messages == ["rejected delivery with a missing or wrong signature"]


@pytest.mark.parametrize(
    ("event", "delivery", "status"),
    [
        ("a" * 64, "d-64", 202),
        ("a" * 65, "d-65", 400),
        ("issues", "x" * 64, 202),
        ("issues", "x" * 65, 400),
        ("issues", "Aa0_.:-", 202),
        ("iss ues", "d-space", 400),
        ("issues", "d/slash", 400),
    ],
)
def test_the_event_and_delivery_headers_are_short_plain_names(
    client: TestClient, event: str, delivery: str, status: int
) -> None:
    body = b'{"action": "x"}' if event != "issues" else json.dumps(issues_event("opened")).encode()
    response = client.post(PATH, content=body, headers=_signed(body, event, delivery))
    assert response.status_code == status
    if status == 400:
        assert response.json() == {
            "message": "malformed X-GitHub-Event or X-GitHub-Delivery header"
        }


def test_a_body_of_the_wrong_shape_is_refused_with_the_reason(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(issue_comment_created("hi")).encode()
    with caplog.at_level(logging.WARNING, logger="ghapp.ingress"):
        response = client.post(PATH, content=body, headers=_signed(body, "issues", "sh-1"))
    assert response.status_code == 400
    assert response.json() == {
        "message": "the body is not the shape of a issues event: unexpected comment"
    }
    messages = [r.getMessage() for r in caplog.records if r.name == "ghapp.ingress"]
    assert messages == ["refused a delivery whose body is not a issues event: unexpected comment"]


@pytest.mark.parametrize(
    ("length", "status", "message"),
    [
        ("12x", 400, "malformed Content-Length header"),
        ("-1", 400, "malformed Content-Length header"),
        (b"\xb2", 400, "malformed Content-Length header"),  # "²": a digit, not ASCII
        (str(25 * 1024 * 1024 + 1), 413, "payload larger than 25 MiB"),
    ],
)
def test_a_content_length_that_is_not_a_plain_small_number_is_refused(
    client: TestClient, length: str | bytes, status: int, message: str
) -> None:
    body = json.dumps(issues_event("opened")).encode()
    response = client.post(
        PATH, content=body, headers=_signed(body, delivery="cl", **{"Content-Length": length})
    )
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_a_body_sent_without_a_length_is_read_and_accepted(client: TestClient) -> None:
    body = json.dumps(issues_event("opened")).encode()

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = client.post(PATH, content=chunks(), headers=_signed(body, delivery="chunked"))
    assert response.status_code == 202
    assert _stored(client, "chunked").payload == body


def test_a_declared_length_of_exactly_the_limit_is_read(client: TestClient) -> None:
    body = json.dumps(issues_event("opened")).encode()
    limit = str(ingress.MAX_BODY_BYTES)
    response = client.post(
        PATH, content=body, headers=_signed(body, delivery="at-limit", **{"Content-Length": limit})
    )
    assert response.status_code == 202


def test_a_body_that_grows_past_the_limit_is_refused_with_its_reason(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingress, "MAX_BODY_BYTES", 100)

    def chunks() -> Iterator[bytes]:
        yield b" " * 60
        yield b" " * 60

    response = client.post(PATH, content=chunks(), headers=_signed(b"", delivery="grows"))
    assert (response.status_code, response.json()) == (
        413,
        {"message": "payload larger than 25 MiB"},
    )


def test_an_action_nobody_handles_is_stored_as_ignored(client: TestClient) -> None:
    body = json.dumps(issues_event("edited")).encode()
    response = client.post(PATH, content=body, headers=_signed(body, delivery="edited-1"))
    assert response.status_code == 202
    stored = _stored(client, "edited-1")
    assert (stored.action, stored.status) == ("edited", "ignored")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert client.portal.call(runtime.queue_depth) == 0  # type: ignore[union-attr]


def test_a_body_of_exactly_the_limit_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(issues_event("opened")).encode()

    class _Request:
        def __init__(self, parts: list[bytes]) -> None:
            self.parts = parts

        async def stream(self) -> Any:
            for part in self.parts:
                yield part

    monkeypatch.setattr(ingress, "MAX_BODY_BYTES", len(body))
    half = len(body) // 2
    read = asyncio.run(ingress._read_body(_Request([body[:half], body[half:]])))  # type: ignore[arg-type]
    assert read == body
    assert asyncio.run(ingress._read_body(_Request([body, b" "]))) is None  # type: ignore[arg-type]


def test_a_full_budget_answers_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingress, "UNVERIFIED_WAIT", 0.01)
    budget = client.portal.call(ingress.body_budget)
    budget.used = budget.capacity  # every byte held by bodies being read
    try:
        body = json.dumps(issues_event("opened")).encode()
        response = client.post(PATH, content=body, headers=_signed(body, delivery="full"))
    finally:
        budget.used = 0
    assert (response.status_code, response.json()) == (
        503,
        {"message": "too many large deliveries at once; try again"},
    )
    assert _stored(client, "full") is None


def test_an_unconfigured_app_answers_503(client: TestClient) -> None:
    client.app.state.runtime = None  # type: ignore[attr-defined]
    body = b"{}"
    response = client.post(PATH, content=body, headers=_signed(body))
    assert (response.status_code, response.json()) == (
        503,
        {"message": "this App is not configured yet; finish setup at /"},
    )


# -- payloads: shape, routing keys, typed models --------------------------------------------


def _installation_event() -> dict[str, Any]:
    return base_example("installation", "created")


def test_shape_problem_names_what_is_missing_lacking_or_foreign() -> None:
    assert shape_problem("issues", {"action": "opened"}) == "no issue"
    assert shape_problem("no_such_event", {"label": {}}) is None
    event = _installation_event()
    assert shape_problem("installation", event) is None
    event["installation"] = {"id": 1, "node_id": "x"}
    assert shape_problem("installation", event) == "installation lacks app_id, target_type"
    event["installation"] = {"id": 1, "node_id": "x", "target_type": "User"}
    assert shape_problem("installation", event) == "installation lacks app_id"
    event["installation"] = {"app_id": 1, "target_type": "User"}  # exactly what it must have
    assert shape_problem("installation", event) is None
    event["installation"] = "not an object"
    assert shape_problem("installation", event) is None  # the typed parse judges the rest
    comment = issue_comment_created("hi")
    comment["release"] = {"tag_name": "v1"}
    assert shape_problem("issues", comment) == "unexpected comment, release"
    del comment["issue"]
    assert shape_problem("issue_comment", comment) == "no issue"
    assert shape_problem("issue_comment", {"action": "created"}) == "no comment, issue"


def test_shape_of_an_event_name_that_is_not_a_module() -> None:
    assert payloads._adapter("issues") is not None
    assert payloads._adapter("../issues") is None
    assert payloads._adapter("is-sues") is None
    assert payloads._adapter("no_such_event") is None
    assert payloads._shape("no_such_event") is None
    assert shape_problem("no_such_event", {"label": {}}) is None  # unknown: not judged


def test_parse_model_gives_the_typed_event_or_none_and_reports_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payloads, "_reported", set())
    event = issues_event("opened", number=5)
    model = parse_model("issues", event)
    assert model is not None and model.issue.number == 5
    assert parse_model("no_such_event", event) is None
    with caplog.at_level(logging.WARNING, logger="ghapp.payloads"):
        assert parse_model("issues", {"action": "opened"}) is None
        assert parse_model("issues", {"action": "closed"}) is None
    reports = [r for r in caplog.records if "does not match" in r.getMessage()]
    assert len(reports) == 1
    assert reports[0].getMessage() == (
        "payload does not match githubkit's model; delivering the raw payload"
    )
    assert reports[0].event == "issues"  # type: ignore[attr-defined]
    assert "issue" in reports[0].body  # type: ignore[attr-defined]
    assert payloads._reported == {"issues"}


def test_routing_keys_read_only_well_typed_fields() -> None:
    repo = {"full_name": "o/r"}
    assert ordering_key({"repository": repo, "issue": {"number": 4}}) == "o/r#4"
    assert ordering_key({"repository": repo, "pull_request": {"number": 6}}) == "o/r#6"
    assert ordering_key({"repository": repo, "issue": None, "pull_request": {"number": 6}}) == (
        "o/r#6"
    )
    assert ordering_key({"repository": repo, "number": 8}) == "o/r#8"
    assert ordering_key({"repository": repo, "number": "8"}) is None
    assert ordering_key({"repository": repo, "issue": "4", "number": 9}) == "o/r#9"
    assert ordering_key({"repository": repo}) is None
    assert ordering_key({"issue": {"number": 4}}) is None
    assert installation_id_of({"installation": {"id": 3}}) == 3
    assert installation_id_of({"installation": {"id": "3"}}) is None
    assert installation_id_of({"installation": 3}) is None
    assert installation_id_of({}) is None
    assert repository_of({"repository": {"full_name": 1}}) is None
    assert repository_of({"repository": "o/r"}) is None
    assert repository_of({}) is None


def _mismatch_report(
    payload: dict[str, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The fields the log line about a payload githubkit's model refuses names."""
    monkeypatch.setattr(payloads, "_reported", set())
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ghapp.payloads"):
        assert parse_model("issues", payload) is None
    (record,) = [r for r in caplog.records if "does not match" in r.getMessage()]
    return record.body.split(", ")  # type: ignore[attr-defined]


def test_the_mismatch_report_names_ten_fields_at_most_four_deep(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = issues_event("opened")
    broken["issue"] = {key: [] for key in broken["issue"]}  # every field of the wrong type
    fields = _mismatch_report(broken, caplog, monkeypatch)
    assert len(fields) == 10 and fields == sorted(fields)
    deep = issues_event("opened")
    deep["issue"]["assignee"] = {}  # its errors lie five levels down: cut to four
    fields = _mismatch_report(deep, caplog, monkeypatch)
    assert fields and all(len(field.split(".")) <= 4 for field in fields)
    assert all(field.startswith("opened.issue.assignee.") for field in fields)
    assert any(len(field.split(".")) == 4 for field in fields)


def test_an_action_that_is_not_text_is_stored_as_none(client: TestClient) -> None:
    body = b'{"action": 5, "starred_at": null}'
    response = client.post(PATH, content=body, headers=_signed(body, "star", "star-5"))
    assert response.status_code == 202
    assert _stored(client, "star-5").action is None


def test_a_storage_failure_is_logged_with_the_delivery_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def broken(batch: Any) -> set[str]:
        raise OSError("disk I/O error")

    monkeypatch.setattr(runtime.deliveries, "record_many", broken)
    body = json.dumps(issues_event("opened")).encode()
    with caplog.at_level(logging.ERROR, logger="ghapp.ingress"):
        response = client.post(PATH, content=body, headers=_signed(body, delivery="lost-1"))
    assert (response.status_code, response.json()) == (
        503,
        {"message": "could not store the delivery; try again"},
    )
    (record,) = [r for r in caplog.records if r.name == "ghapp.ingress"]
    assert record.getMessage() == "could not store or queue a delivery"
    assert record.delivery == "lost-1"  # type: ignore[attr-defined]
    # With the traceback: as raised, or as text once ghapp's scrubber (installed by any
    # earlier test that configured logging) has rendered and scrubbed it.
    traceback = record.exc_text or (
        logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    )
    assert "OSError: disk I/O error" in traceback


def test_the_shapes_are_read_from_githubkits_models() -> None:
    """The shipped table is what githubkit's models say today (`python -m
    ghapp.payload_shapes` derives it again after a githubkit upgrade)."""
    derived = payload_shapes.derive_all()
    assert payload_shapes.TABLE.read_text() == payload_shapes.render(derived)
    assert len(derived) > 70
    comment = derived["issue_comment"]
    assert comment["required"] == ["comment", "issue"] and comment["nested"] == {}
    assert {"action", "changes", "comment", "installation", "issue", "sender"} <= set(
        comment["known"]
    )
    assert "label" not in comment["known"]
    installation = derived["installation"]
    assert installation["required"] == ["installation"]
    assert installation["nested"] == {"installation": ["app_id", "target_type"]}
    assert {"repositories", "requester", "sender"} <= set(installation["known"])
    # What ingress reads is that table.
    payloads._shapes.cache_clear()
    shape = payloads._shape("installation")
    assert shape is not None and shape.nested == {"installation": {"app_id", "target_type"}}
    assert shape.required == {"installation"} and "requester" in shape.known


def test_the_shape_check_imports_no_webhook_model() -> None:
    """Ingress's check costs no model import: `pull_request`'s are 68 MiB and a second."""
    code = """
import sys
from ghapp.payloads import shape_problem
assert shape_problem("pull_request", {"action": "opened"}) == "no pull_request"
loaded = [m for m in sys.modules if m.startswith("githubkit_schemas.v2026_03_10.webhooks.")]
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
