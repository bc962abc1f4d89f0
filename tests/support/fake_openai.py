"""A local OpenAI-compatible chat-completions server for tests: no internet, no model.

It records every request (body and headers) and answers from a script the test writes
before the mention arrives: words, tool calls, a refusal, an HTTP error, a slow answer,
an answer that is no completion at all. With the script empty it says it does not know.

    fake = FakeOpenAI()
    fake.call("label", {"arguments": "add bug"})   # first turn: a tool call
    fake.say("Labelled it.")                        # after the tool's result
    with run_fake_openai(fake) as base_url: ...     # OPENAI_BASE_URL=base_url
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

UNKNOWN = "I do not know."


@dataclass
class Turn:
    kind: str  # say, call, refuse, status, slow, garbage
    content: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    status: int = 200
    seconds: float = 0.0


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def text(self) -> str:
        """Every message's content, joined: what the model was shown."""
        return "\n".join(str(m.get("content") or "") for m in self.body.get("messages", []))


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Turn] = deque()
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])]
        )

    # -- the script -------------------------------------------------------------------

    def say(self, content: str) -> FakeOpenAI:
        self.script.append(Turn("say", content))
        return self

    def call(self, *calls: tuple[str, dict[str, Any] | str]) -> FakeOpenAI:
        """One turn calling tools: (name, arguments as a dict or raw text)."""
        shown = [(n, a if isinstance(a, str) else json.dumps(a)) for n, a in calls]
        self.script.append(Turn("call", calls=shown))
        return self

    def refuse(self, reason: str = "I can't help with that.") -> FakeOpenAI:
        self.script.append(Turn("refuse", reason))
        return self

    def fail(self, status: int = 500, times: int = 1) -> FakeOpenAI:
        for _ in range(times):
            self.script.append(Turn("status", status=status))
        return self

    def slow(self, seconds: float, content: str = "Too late.") -> FakeOpenAI:
        self.script.append(Turn("slow", content, seconds=seconds))
        return self

    def garbage(self) -> FakeOpenAI:
        self.script.append(Turn("garbage"))
        return self

    # -- serving ----------------------------------------------------------------------

    async def _complete(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.requests.append(Recorded(body, {k.lower(): v for k, v in request.headers.items()}))
        turn = self.script.popleft() if self.script else Turn("say", UNKNOWN)
        if turn.kind == "status":
            error = {"message": "The server had an error.", "type": "server_error"}
            return JSONResponse({"error": error}, status_code=turn.status)
        if turn.kind == "garbage":
            return JSONResponse({"object": "nothing", "data": [1, 2, 3]})
        if turn.kind == "slow":
            await asyncio.sleep(turn.seconds)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if turn.kind in ("say", "slow"):
            message["content"] = turn.content
        elif turn.kind == "refuse":
            message["refusal"] = turn.content
        else:
            finish = "tool_calls"
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for name, arguments in turn.calls
            ]
        shown = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
        return JSONResponse(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": shown // 4,
                    "completion_tokens": 7,
                    "total_tokens": shown // 4 + 7,
                },
            }
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_fake_openai(fake: FakeOpenAI) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1 in a background thread; yields its base URL (`…/v1`)."""
    port = _free_port()
    config = uvicorn.Config(
        fake.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fake-openai-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
