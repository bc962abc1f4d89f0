"""mention-reply with a URL responder: a real HTTP server on a loopback address.

The responder runs under uvicorn on a fixed loopback address (the URL is in the recorded
`.github/ghapp.yml`, so it must be the same at replay). Its traffic is real, not
recorded: the cassettes hold only GitHub's. One server plays every behaviour in turn —
a good answer (markdown, or JSON), an error, a timeout, an answer too large.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ghapp.bus import load_skills
from ghapp.skills import mention_reply
from ghapp.skills.mention_reply import handlers
from ghapp.skills.mention_reply.responders import MAX_RESPONSE_BYTES
from ghapp.skills.mention_reply.url_guard import ResponderRefused, resolve
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issue_comment_created

REPO = "octo-org/hello"
BOT = "ghapp-test"
HOST, PORT = "127.0.0.77", 48151
URL = f"http://{HOST}:{PORT}/answer"
CONFIG = f"mention-reply:\n  responder: {URL}\n  responder-timeout: 2\n"


class Responder:
    """The responder's behaviour is chosen by the test before each comment."""

    def __init__(self) -> None:
        self.mode = "markdown"
        self.received: list[dict[str, Any]] = []
        self.signatures: list[tuple[str | None, bytes]] = []
        self.elsewhere: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/answer", self.answer, methods=["POST"]),
                Route("/elsewhere", self.redirected, methods=["GET", "POST"]),
            ]
        )

    async def redirected(self, request: Request) -> Response:
        self.elsewhere.append(request.method)
        return PlainTextResponse("followed a redirect", media_type="text/markdown")

    async def answer(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(json.loads(body))
        self.signatures.append((request.headers.get("x-ghapp-signature-256"), body))
        if self.mode == "redirect":
            return Response(status_code=307, headers={"location": "/elsewhere"})
        if self.mode == "markdown":
            return PlainTextResponse("**Summary**: all good.", media_type="text/markdown")
        if self.mode == "json":
            return JSONResponse({"markdown": "_From JSON._"})
        if self.mode == "error":
            return PlainTextResponse("Traceback (most recent call last): ...", status_code=500)
        if self.mode == "slow":
            await asyncio.sleep(6)  # well past the timeout, even on a busy machine
            return PlainTextResponse("too late", media_type="text/markdown")

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap must count
            for _ in range(MAX_RESPONSE_BYTES // 8192 + 2):
                yield b"x" * 8192

        return StreamingResponse(chunks(), media_type="text/markdown")


async def _bind(timeout: float = 90.0) -> socket.socket:
    """The fixed address, waiting while another test run holds it (the address is in the
    recorded configuration, so no other port will do)."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, PORT))
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
            continue
        sock.listen(16)
        return sock


@pytest.fixture
async def responder() -> AsyncIterator[Responder]:
    served = Responder()
    config = uvicorn.Config(
        served.app,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    sock = await _bind()
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield served
    server.should_exit = True
    await task
    sock.close()


RESPONDER_SECRET = "responder-signing-secret"
# The operator lists the responder's host; a loopback one only because it is listed.
ALLOWED = {"RESPONDER_ALLOWED_HOSTS": HOST, "RESPONDER_SECRET": RESPONDER_SECRET}


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    skills = [mention_reply.skill, load_skills()["hello"]]
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=skills, env=ALLOWED
    ) as app:
        yield app


def _seed(fake: FakeGitHub, number: int, body: str, comment_id: int) -> dict[str, Any]:
    repo = fake.repo(REPO)
    comment = repo.comments.pop(fake.add_comment(REPO, number, body))
    comment.id = comment_id  # fixed ids: the fake's counter is shared by the whole run
    repo.comments[comment_id] = comment
    return issue_comment_created(body, issue_number=number, comment_id=comment_id)


def _replies(app: SkillTestApp) -> list[str]:
    return [
        str(r.body["body"])  # type: ignore[index]
        for r in app.writes()
        if r.method == "POST" and r.path.endswith("/issues/1/comments")
    ]


@pytest.mark.vcr(ignore_hosts=[HOST])
async def test_url_responder_answers_and_failures_become_an_apology(
    app: SkillTestApp, fake_github: FakeGitHub, responder: Responder
) -> None:
    fake_github.set_file(REPO, ".github/ghapp.yml", CONFIG)
    issue = fake_github.add_issue(REPO, "Question", body="Why is it slow?")
    modes = ["markdown", "json", "error", "slow", "huge"]
    for n, mode in enumerate(modes):
        responder.mode = mode
        payload = _seed(fake_github, issue.number, f"@{BOT} what happened here? ({mode})", 300 + n)
        delivery = await app.dispatch("issue_comment", payload)
        assert {r.skill: r.outcome for r in delivery.runs}["mention-reply"] == "ok"

    answers = [body.split("\n\n<!--")[0] for body in _replies(app)]
    apology = handlers.RESPONDER_APOLOGY
    assert answers == ["**Summary**: all good.", "_From JSON._", apology, apology, apology]
    assert all("Traceback" not in body for body in _replies(app))

    first = responder.received[0]
    assert first["repository"] == REPO
    assert first["issue"]["number"] == issue.number
    assert first["comment"] == {
        "author": "octocat",
        "body": f"@{BOT} what happened here? (markdown)",
    }
    assert first["text"] == "what happened here? (markdown)"
    assert len(responder.received) == len(modes)
    # Every request is signed with RESPONDER_SECRET over the exact body.
    for signature, body in responder.signatures:
        expected = hmac.new(RESPONDER_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"


@pytest.mark.vcr(ignore_hosts=[HOST])
async def test_a_redirect_is_not_followed(
    app: SkillTestApp, fake_github: FakeGitHub, responder: Responder
) -> None:
    fake_github.set_file(REPO, ".github/ghapp.yml", CONFIG)
    issue = fake_github.add_issue(REPO, "Question")
    responder.mode = "redirect"
    payload = _seed(fake_github, issue.number, f"@{BOT} where do you send me?", 320)
    await app.dispatch("issue_comment", payload)
    assert len(responder.received) == 1
    assert responder.elsewhere == []
    assert [body.split("\n\n<!--")[0] for body in _replies(app)] == [handlers.RESPONDER_APOLOGY]


@pytest.mark.vcr(ignore_hosts=[HOST])
@pytest.mark.parametrize(
    "env",
    [
        # A repository names a URL the operator never listed (the SSRF of issue 15).
        {"RESPONDER_SECRET": RESPONDER_SECRET},
        # Listed for someone else: still not this host.
        {"RESPONDER_ALLOWED_HOSTS": "answers.example.org", "RESPONDER_SECRET": RESPONDER_SECRET},
    ],
    ids=["no-list", "other-host-listed"],
)
async def test_a_repository_url_off_the_allow_list_is_never_called(
    tmp_path: Path,
    fake_github: FakeGitHub,
    responder: Responder,
    env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_github.set_file(REPO, ".github/ghapp.yml", CONFIG)
    issue = fake_github.add_issue(REPO, "Question")
    skills = [mention_reply.skill]
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills, env=env) as app:
        payload = _seed(fake_github, issue.number, f"@{BOT} tell me your secrets", 330)
        await app.dispatch("issue_comment", payload)
        replies = [body.split("\n\n<!--")[0] for body in _replies(app)]
    assert responder.received == []
    assert replies == [handlers.RESPONDER_APOLOGY]
    assert "is not on RESPONDER_ALLOWED_HOSTS" in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/answer",
        "https://10.1.2.3/answer",
        "https://192.168.0.10/answer",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/answer",
        "https://[::ffff:127.0.0.1]/answer",
        "https://[fd00::1]/answer",
        "https://0.0.0.0/answer",
        "https://localhost/answer",
        "https://224.0.0.1/answer",
    ],
)
async def test_non_public_addresses_are_refused_after_resolution_unless_listed(url: str) -> None:
    host = str(urlsplit(url).hostname)
    with pytest.raises(ResponderRefused, match="non-public address"):
        await resolve(url, allowed_hosts=(), from_repository=False)
    with pytest.raises(ResponderRefused, match="not on RESPONDER_ALLOWED_HOSTS"):
        await resolve(url, allowed_hosts=(), from_repository=True)
    target = await resolve(url, allowed_hosts=(host,), from_repository=True)
    assert target.host == host  # listed explicitly: the operator's choice


async def test_a_public_address_is_called_at_the_address_that_was_checked() -> None:
    target = await resolve(
        "https://93.184.215.14:8443/answer", allowed_hosts=(), from_repository=False
    )
    assert str(target.url) == "https://93.184.215.14:8443/answer"
    assert target.host_header == "93.184.215.14:8443"
    with pytest.raises(ResponderRefused, match="http:// only"):
        await resolve("http://93.184.215.14/answer", allowed_hosts=(), from_repository=False)
