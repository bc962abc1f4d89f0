"""ghapp's own access log (ghapp/web/access_log.py, issue 17): uvicorn's line, written by
ghapp only where the contract says one is written — none for an accepted delivery, one
for every other answer, its path without the query string."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ghapp.web.access_log import AccessLog
from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.ghapp_process import GhappProcess
from tests.support.payloads import issues_event

HOOK = "/api/github/webhooks"


async def _hook(request: Request) -> Response:
    status = int(request.query_params.get("status", "202"))
    return PlainTextResponse("", status_code=status)


async def _page(_request: Request) -> Response:
    return PlainTextResponse("page")


async def _broken(_request: Request) -> Response:
    raise RuntimeError("broken page")


def _app() -> AccessLog:
    routes = [
        Route(HOOK, _hook, methods=["GET", "POST"]),
        Route("/page", _page),
        Route("/broken", _broken),
    ]
    return AccessLog(Starlette(routes=routes), HOOK)


async def _lines(caplog: pytest.LogCaptureFixture, *requests: tuple[str, str]) -> list[str]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ghapp") as client:
        with caplog.at_level(logging.INFO, logger="ghapp.access"):
            for method, url in requests:
                await client.request(method, url)
    return [r.getMessage() for r in caplog.records if r.name == "ghapp.access"]


async def test_accepted_deliveries_leave_no_line_and_every_other_answer_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines = await _lines(
        caplog,
        ("POST", HOOK),
        ("POST", f"{HOOK}?status=200"),
        ("POST", f"{HOOK}?status=401"),
        ("POST", f"{HOOK}?status=413"),
        ("GET", HOOK),
        ("GET", "/page?code=one-time-code&state=the-state"),
        ("POST", "/page"),
        ("GET", "/broken"),
    )
    client = "127.0.0.1:123"  # httpx's ASGITransport's client address
    assert lines == [
        f'{client} - "POST {HOOK} HTTP/1.1" 401',
        f'{client} - "POST {HOOK} HTTP/1.1" 413',
        f'{client} - "GET {HOOK} HTTP/1.1" 202',
        f'{client} - "GET /page HTTP/1.1" 200',
        f'{client} - "POST /page HTTP/1.1" 405',
        f'{client} - "GET /broken HTTP/1.1" 500',
    ]


async def test_an_app_that_fails_before_answering_leaves_a_500_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("no answer")

    scope = {"type": "http", "method": "GET", "path": "/x", "raw_path": b"/x", "client": None}
    with caplog.at_level(logging.INFO, logger="ghapp.access"), pytest.raises(RuntimeError):
        await AccessLog(failing)(scope, None, None)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [' - "GET /x HTTP/1.1" 500']


async def test_no_line_below_the_access_loggers_level(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://ghapp") as client:
        with caplog.at_level(logging.WARNING, logger="ghapp.access"):
            assert (await client.get("/page")).text == "page"
    assert [r for r in caplog.records if r.name == "ghapp.access"] == []


@pytest.mark.slow
def test_ghapp_run_writes_one_access_line_per_answer_but_an_accepted_delivery(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """`ghapp run`: ghapp's line replaces uvicorn's (one line, not two), and an accepted
    delivery has none."""
    with run_fake_github(fake_github) as github_url:
        app = GhappProcess(tmp_path, github_url).start()
        try:
            assert httpx.get(f"{app.url}/metrics?probe=1").status_code == 200
            assert app.send("issues", issues_event("opened", number=1)).status_code == 202
            refused = httpx.post(f"{app.url}{HOOK}", content=b"{}")
            assert refused.status_code == 401
        finally:
            app.stop()
    records = [json.loads(line) for line in app.logs().splitlines() if line.startswith("{")]
    access = [r["msg"] for r in records if r.get("logger", "").endswith(".access")]
    after_start = [line.split(" - ", 1)[1] for line in access if "/healthz" not in line]
    assert after_start == [
        '"GET /metrics HTTP/1.1" 200',
        f'"POST {HOOK} HTTP/1.1" 401',
    ]


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
async def test_a_webhook_post_goes_straight_to_the_endpoint(
    caplog: pytest.LogCaptureFixture, level: int
) -> None:
    """`ghapp run` hands a POST on the webhook path to `receive_webhook` itself, past
    Starlette's router (its request still sees the app); everything else is routed."""
    seen: list[object] = []

    async def endpoint(request: Request) -> Response:
        seen.append(request.app)
        status = int(request.query_params.get("status", "202"))
        return PlainTextResponse(f"direct {await request.body()!r}", status_code=status)

    async def routed(_request: Request) -> Response:
        return PlainTextResponse("routed")

    starlette = Starlette(routes=[Route(HOOK, routed, methods=["GET", "POST"])])
    transport = httpx.ASGITransport(app=AccessLog(starlette, HOOK, endpoint))
    async with httpx.AsyncClient(transport=transport, base_url="http://ghapp") as client:
        with caplog.at_level(level, logger="ghapp.access"):
            accepted = await client.post(HOOK, content=b"{}")
            refused = await client.post(f"{HOOK}?status=401", content=b"{}")
            other = await client.get(HOOK)
    assert (accepted.status_code, accepted.text) == (202, "direct b'{}'")
    assert (refused.status_code, refused.text) == (401, "direct b'{}'")
    assert other.text == "routed"
    assert seen == [starlette, starlette]
    lines = [r.getMessage().split(" - ", 1)[1] for r in caplog.records]
    if level == logging.INFO:
        assert lines == [f'"POST {HOOK} HTTP/1.1" 401', f'"GET {HOOK} HTTP/1.1" 200']
    else:
        assert lines == []


async def test_a_webhook_endpoint_that_fails_leaves_a_500_line_and_uvicorn_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def endpoint(_request: Request) -> Response:
        raise RuntimeError("could not answer")

    transport = httpx.ASGITransport(
        app=AccessLog(Starlette(), HOOK, endpoint), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://ghapp") as client:
        with caplog.at_level(logging.INFO, logger="ghapp.access"):
            answer = await client.post(HOOK, content=b"{}")
    assert answer.status_code == 500
    assert [r.getMessage().split(" - ", 1)[1] for r in caplog.records] == [
        f'"POST {HOOK} HTTP/1.1" 500'
    ]


def test_ghapp_run_serves_through_its_access_log_and_webhook_lane(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from ghapp.cli import main
    from ghapp.ingress import receive_webhook

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ID", "REDIS_URL", "DATABASE_URL", "WEBHOOK_PATH"):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        assert main(["run"]) == 0
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    front = served["app"]
    assert isinstance(front, AccessLog)
    assert (front.webhook_path, front.webhook) == (HOOK, receive_webhook)
    assert served["access_log"] is False  # uvicorn's own line is off: one line, not two
