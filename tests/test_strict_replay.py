"""Strict replay (tests/support/replay.py and the hook in tests/conftest.py) can fail a test.

A tiny ASGI server stands in for GitHub: what is checked is the cassette bookkeeping, not
the fake. The last tests run whole pytest sessions (pytester) against the project's own
conftest, to show that a test which swallows the refusal still fails, naming the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr

from tests.support.cassettes import VCR_CONFIG
from tests.support.replay import StrictReplay

pytest_plugins = ["pytester"]


async def tiny_github(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = json.dumps({"path": scope["path"]}).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=tiny_github), base_url="https://api.github.com"
    )


async def swallow(request: Any) -> None:
    """What githubkit and the bus do with a refusal, in short: catch it and carry on."""
    with contextlib.suppress(Exception):
        await request


@pytest.fixture
async def replay(tmp_path: Path) -> AsyncIterator[StrictReplay]:
    """Replays a cassette holding GET /a, GET /b and POST /c {"x": 1} (recorded first)."""
    path = str(tmp_path / "recorded.yaml")
    with vcr.VCR(**VCR_CONFIG).use_cassette(path, record_mode="once"):
        async with client() as http:
            await http.get("/a")
            await http.get("/b")
            await http.post("/c", json={"x": 1})
    with vcr.VCR(**VCR_CONFIG).use_cassette(path, record_mode="none") as cassette:
        strict = StrictReplay(cassette)
        strict.install()
        yield strict


async def test_everything_played_leaves_nothing_to_report(replay: StrictReplay) -> None:
    async with client() as http:
        assert (await http.get("/a")).json() == {"path": "/a"}
        await http.get("/b")
        await http.post("/c", json={"x": 1})
    assert replay.problems() == []


async def test_a_request_missing_from_the_cassette_is_named_though_it_was_swallowed(
    replay: StrictReplay,
) -> None:
    async with client() as http:
        await http.get("/a")
        await http.get("/b")
        await http.post("/c", json={"x": 1})
        await swallow(http.delete("/gone"))
    [problem] = replay.problems()
    assert problem.startswith("requests not answered by the cassette")
    assert "DELETE /gone  (not in the cassette)" in problem


async def test_a_write_with_another_body_is_refused_and_the_recorded_one_shown(
    replay: StrictReplay,
) -> None:
    async with client() as http:
        await http.get("/a")
        await http.get("/b")
        await swallow(http.post("/c", json={"x": 2}))
    refused, unplayed = replay.problems()
    assert 'POST /c {"x":2}  (not in the cassette)' in refused
    assert 'nearest recorded: POST /c {"x":1}  (differs in: body)' in refused
    assert 'POST /c {"x":1}' in unplayed


async def test_a_request_made_once_more_than_recorded_is_refused(replay: StrictReplay) -> None:
    async with client() as http:
        await http.get("/a")
        await http.get("/b")
        await http.post("/c", json={"x": 1})
        await swallow(http.post("/c", json={"x": 1}))
    [problem] = replay.problems()
    assert 'POST /c {"x":1}  (made more often than recorded)' in problem


async def test_a_recorded_request_never_made_fails_unless_the_test_says_why(
    replay: StrictReplay,
) -> None:
    async with client() as http:
        await http.get("/a")
    [problem] = replay.problems()
    assert "recorded requests never played" in problem
    assert "  - GET /b\n  - POST /c" in problem
    # A test that stopped early is not also blamed for what it never reached.
    assert replay.problems(unplayed=False) == []
    with pytest.raises(ValueError, match="needs a reason"):
        replay.allow_unplayed("  ")
    replay.allow_unplayed("the second half belongs to another test")
    assert replay.problems() == []


# -- whole sessions through tests/conftest.py -------------------------------------------------

SESSION_CONFTEST = """
import pytest
from tests.conftest import *  # the project's fixtures and its strict-replay hook

@pytest.fixture
def vcr_cassette_dir():
    return {cassettes!r}
"""

SESSION_TESTS = """
import httpx, pytest
from tests.test_strict_replay import client, swallow

@pytest.mark.vcr
async def test_swallows_a_refusal():
    async with client() as http:
        await http.get("/a")
        await http.get("/b")
        await http.post("/c", json={{"x": 1}})
        await swallow(http.patch("/labels/bug", json={{"color": "fff"}}))

@pytest.mark.vcr
async def test_plays_half():
    async with client() as http:
        await http.get("/a")

@pytest.mark.vcr
@pytest.mark.allow_unplayed(reason="only the first read matters here")
async def test_plays_half_and_says_why():
    async with client() as http:
        await http.get("/a")
"""


def test_the_conftest_hook_fails_tests_that_swallow_refusals_or_skip_requests(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # Not async itself: the inner session runs its own event loops.
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    path = cassettes / "recorded.yaml"

    async def record() -> None:
        async with client() as http:
            await http.get("/a")
            await http.get("/b")
            await http.post("/c", json={"x": 1})

    with vcr.VCR(**VCR_CONFIG).use_cassette(str(path), record_mode="once"):
        asyncio.run(record())
    for name in ("test_swallows_a_refusal", "test_plays_half", "test_plays_half_and_says_why"):
        (cassettes / f"{name}.yaml").write_bytes(path.read_bytes())
    pytester.makeconftest(SESSION_CONFTEST.format(cassettes=str(cassettes)))
    pytester.makepyfile(test_session=SESSION_TESTS.format())
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "-q",
    )
    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    assert 'PATCH /labels/bug {"color":"fff"}  (not in the cassette)' in output
    assert "FAILED test_session.py::test_plays_half - " in output
    assert "recorded requests never played" in output
