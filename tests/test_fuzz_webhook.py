"""Property tests of the webhook endpoint: random headers, bodies and signatures.

Never a 5xx, never a stored delivery without a valid `X-Hub-Signature-256` (skills run
only on stored deliveries: the worker claims them from the store), and with a valid
signature the answer follows the contract (202 stored, 200 ping or seen before, 400 for
what is not a JSON object or lacks its headers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from ghapp.testing import WEBHOOK_SECRET, test_settings
from ghapp.web.app import create_app

PATH = "/api/github/webhooks"
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=80
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(["action", "installation", "repository", "issue", "sender", "zen"]),
        JSON_VALUES,
    ).map(lambda v: json.dumps(v).encode()),
    st.just(b"[" * 100_000 + b"]" * 100_000),  # nests past the JSON parser's recursion
)
EVENTS = st.one_of(
    st.sampled_from(["issues", "issue_comment", "ping", "push", "installation", ""]),
    HEADER_TEXT,
)
DELIVERY_IDS = st.one_of(st.uuids().map(str), HEADER_TEXT)


def sha256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signatures(body: bytes) -> st.SearchStrategy[tuple[str | None, bool]]:
    """(header value or None, whether it is valid)."""
    good = sha256(WEBHOOK_SECRET, body)
    return (
        st.sampled_from(
            [
                (good, True),
                (sha256("rotated-out", body), True),  # the retired secret still accepted
                (None, False),
                ("", False),
                (sha256("wrong-secret", body), False),
                (good.upper().replace("SHA256=", "sha256="), False),
                (good[:-1], False),
                (good + "0", False),
                ("sha1=" + hmac.new(WEBHOOK_SECRET.encode(), body, "sha1").hexdigest(), False),
                (good.removeprefix("sha256="), False),
                ("sha256=", False),
            ]
        )
        | HEADER_TEXT.map(lambda text: (text, False))
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    tmp = tmp_path_factory.mktemp("fuzz-webhook")
    settings_ = test_settings(
        tmp,
        api_url="http://github.invalid/api/v3",
        env={"WEBHOOK_SECRET": f"rotated-out,{WEBHOOK_SECRET}"},
    )
    with TestClient(create_app(settings_, run_workers=False)) as client:
        yield client, tmp / "ghapp-test.db"


def stored_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM deliveries")}


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), body=BODIES, event=EVENTS, delivery=DELIVERY_IDS)
def test_random_requests_get_a_contract_answer_and_unsigned_ones_store_nothing(
    site: tuple[TestClient, Path], data: st.DataObject, body: bytes, event: str, delivery: str
) -> None:
    client, db = site
    signature, valid = data.draw(signatures(body))
    headers = {"Content-Type": data.draw(st.sampled_from(["application/json", "text/plain"]))}
    if data.draw(st.booleans()) or event:
        headers["X-GitHub-Event"] = event
    if data.draw(st.booleans()) or delivery:
        headers["X-GitHub-Delivery"] = delivery
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    before = stored_ids(db)
    answer = client.post(PATH, content=body, headers=headers)
    after = stored_ids(db)

    assert answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    if not valid:
        assert answer.status_code == 401
        assert after == before
        return
    assert answer.status_code in (200, 202, 400), answer.text
    if answer.status_code == 202:
        assert after == before | {delivery}
    else:
        assert after == before
    if answer.status_code == 400:
        assert "message" in answer.json()


def test_the_server_still_serves_after_the_fuzzing(site: tuple[TestClient, Path]) -> None:
    client, _db = site
    assert client.get("/healthz").status_code == 200
