"""Every committed cassette is what the fake GitHub answers today.

`test_every_cassette_rerecords_unchanged` re-records all of tests/cassettes/ from the fake in a
temporary directory (a pytest subprocess in record mode, see tests/support/rerecord.py) and
fails on any difference beyond the ids, dates, tokens and signatures it normalises. Because
recording runs every cassette test against the fake, a request the fake refuses (see
tests/support/fake_github/contract.py) fails here too, even though replay never reaches the
fake. The self-tests below show what the comparison ignores and what it catches.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from tests.support import rerecord
from tests.support.fake_github.contract import rest_contract

API = "https://api.github.com"


def test_every_cassette_rerecords_unchanged() -> None:
    rest_contract()  # skips offline outside CI (and fails under CI) before a long recording
    found = rerecord.check()
    assert found.clean, found.report()


# ------------------------------------------------------------------------------ self-tests

Exchange = tuple[str, str, Any, int, Any, dict[str, str]]


def write(path: Path, exchanges: list[Exchange]) -> Path:
    """A cassette in vcrpy's format: (method, uri, request body, status, body, headers)."""
    requests, responses = [], []
    for method, uri, sent, status, body, headers in exchanges:
        raw = sent if isinstance(sent, bytes) or sent is None else json.dumps(sent).encode()
        requests.append(Request(method, uri, raw, {"Accept": "application/vnd.github+json"}))
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        responses.append(
            {
                "status": {"code": status, "message": "x"},
                "headers": {"content-type": ["application/json"]}
                | {k: [v] for k, v in headers.items()},
                "body": {"string": data},
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = serialize({"requests": requests, "responses": responses}, yamlserializer)
    path.write_text(text, encoding="utf-8")
    return path


def comment(comment_id: int, node: str, when: str, body: str = "Hello") -> dict[str, Any]:
    return {
        "id": comment_id,
        "node_id": node,
        "html_url": f"https://github.example/o/r/issues/1#issuecomment-{comment_id}",
        "created_at": when,
        "body": body,
    }


def recording(comment_id: int, node: str, when: str, **changes: Any) -> list[Exchange]:
    token = {"token": "ghs_FILTERED", "expires_at": "2099-01-01T00:00:00Z"}
    posted = comment(comment_id, node, when, changes.get("body", "Hello"))
    volatile = {
        "x-github-request-id": f"{comment_id:X}",
        "x-ratelimit-reset": str(comment_id),
        "etag": f'W/"{comment_id:064x}"',
    }
    return [
        ("POST", f"{API}/app/installations/1/access_tokens", None, 201, token, {}),
        (
            "POST",
            f"{API}/repos/o/r/issues/1/comments",
            {"body": changes.get("sent", "Hello")},
            changes.get("status", 201),
            posted,
            volatile,
        ),
        (
            "GET",
            f"{API}/repos/o/r/issues/comments/{comment_id}?sig={comment_id:x}",
            None,
            200,
            posted,
            {**volatile, "x-github-delivery": f"test-delivery-{comment_id}"},
        ),
    ]


def zipped(data: bytes, when: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("report.txt", date_time=when), data)
    return buffer.getvalue()


def test_ids_dates_tokens_and_signatures_are_not_drift(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.yaml", recording(1000101, "IC_kwDOAAAAAAAPQr0", "2026-11-01T10:00:00Z")
    )
    second = write(
        tmp_path / "b.yaml", recording(1004242, "IC_kwDOAAAAAAAPUlI", "2026-12-24T18:30:05Z")
    )
    assert rerecord.compare(first, second) is None
    archive_a = write(
        tmp_path / "z1.yaml",
        [("GET", f"{API}/x.zip", None, 200, zipped(b"data", (2026, 1, 1, 0, 0, 0)), {})],
    )
    archive_b = write(
        tmp_path / "z2.yaml",
        [("GET", f"{API}/x.zip", None, 200, zipped(b"data", (2026, 5, 5, 9, 9, 8)), {})],
    )
    assert archive_a.read_bytes() != archive_b.read_bytes()
    assert rerecord.compare(archive_a, archive_b) is None


@pytest.mark.parametrize(
    ("change", "shows"),
    [
        pytest.param({"body": "Hi"}, '"body": "Hi"', id="answer-changed"),
        pytest.param({"sent": "Hullo"}, '"body": "Hullo"', id="request-changed"),
        pytest.param({"status": 200}, "-> 200", id="status-changed"),
    ],
)
def test_a_changed_request_or_answer_is_drift(
    tmp_path: Path, change: dict[str, Any], shows: str
) -> None:
    committed = write(
        tmp_path / "a.yaml", recording(1000101, "IC_kwDOAAAAAAAPQr0", "2026-11-01T10:00:00Z")
    )
    again = write(
        tmp_path / "b.yaml",
        recording(1000101, "IC_kwDOAAAAAAAPQr0", "2026-11-01T10:00:00Z", **change),
    )
    diff = rerecord.compare(committed, again)
    assert diff is not None
    assert any(line.startswith("+") and shows in line for line in diff.splitlines()), diff


def test_a_request_more_or_less_is_drift(tmp_path: Path) -> None:
    exchanges = recording(1000101, "IC_kwDOAAAAAAAPQr0", "2026-11-01T10:00:00Z")
    committed = write(tmp_path / "a.yaml", exchanges)
    fewer = write(tmp_path / "b.yaml", exchanges[:2])
    diff = rerecord.compare(committed, fewer)
    assert diff is not None
    assert "-#2 GET https://api.github.com/repos/o/r/issues/comments/<id-1>?sig=<sig>" in diff
    # The same id in two places keeps one placeholder, so a swapped id is drift.
    swapped = list(exchanges)
    method, uri, sent, status, body, headers = swapped[2]
    swapped[2] = (method, uri.replace("1000101", "1000102"), sent, status, body, headers)
    assert rerecord.compare(committed, write(tmp_path / "c.yaml", swapped)) is not None


def test_drift_names_missing_new_and_changed_cassettes_and_failures(tmp_path: Path) -> None:
    committed, recorded = tmp_path / "committed", tmp_path / "recorded"
    same = recording(1000101, "IC_kwDOAAAAAAAPQr0", "2026-11-01T10:00:00Z")
    write(committed / "test_m" / "test_same.yaml", same)
    write(recorded / "test_m" / "test_same.yaml", same)
    write(committed / "test_m" / "test_gone.yaml", same)
    write(recorded / "test_m" / "test_new.yaml", same)
    write(committed / "test_m" / "test_changed.yaml", same)
    write(recorded / "test_m" / "test_changed.yaml", same[:1])
    found = rerecord.drift(committed, rerecord.Recording(recorded, 1, "1 failed in 3s"))
    assert found.missing == ["test_m/test_gone.yaml"]
    assert found.new == ["test_m/test_new.yaml"]
    assert list(found.changed) == ["test_m/test_changed.yaml"]
    assert found.failed_output == "1 failed in 3s"
    assert not found.clean
    report = found.report()
    assert "tests failed while recording" in report and "python -m tests.support.rerecord" in report
    assert rerecord.cassette_tests(committed) == [
        "tests/test_m.py::test_changed",
        "tests/test_m.py::test_gone",
        "tests/test_m.py::test_same",
    ]
    assert rerecord.cassette_tests(committed, ["test_other"]) == []
