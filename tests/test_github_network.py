"""The asyncio network backend under every GitHub request (ghapp/github/network.py): real
sockets on loopback, connections kept alive and reused, a connection the server closed
never reused, timeouts and refused connections raised as httpx's own errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpcore
import httpx
import pytest

from ghapp.github import GitHubClients
from ghapp.github.network import AsyncioBackend, asyncio_transport
from ghapp.testing import test_key_pair

BODY = b'{"id": 1, "content": "eyes"}'
ANSWER = (
    b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    % (
        len(BODY),
        BODY,
    )
)


@dataclass
class Server:
    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def serve(answer: Callable[[Server, bytes], bytes | None]) -> AsyncIterator[Server]:
    """A loopback HTTP/1.1 server: `answer(server, head)` gives the bytes to send back
    (None: say nothing)."""
    state = Server(0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        state.writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                state.requests.append(head)
                out = answer(state, head)
                if out is not None:
                    writer.write(out)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        for writer in state.writers:
            writer.close()
        server.close()


def clients(url: str, timeout: float = 10.0) -> GitHubClients:
    private, _ = test_key_pair()
    return GitHubClients(app_id=1, private_key=private, api_url=url, timeout=timeout)


def test_default_transport_uses_the_asyncio_backend() -> None:
    # httpx takes no network backend: asyncio_transport replaces its pool. If a later
    # httpx renames `_pool`, this fails instead of silently measuring anyio again.
    transport = asyncio_transport(httpx.Limits(max_connections=5))
    pool = transport._pool  # pyright: ignore[reportPrivateUsage]
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, AsyncioBackend)  # pyright: ignore[reportPrivateUsage]
    inner = clients("http://127.0.0.1:1").transport.inner
    assert isinstance(inner._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]


async def test_requests_share_one_kept_alive_connection() -> None:
    async with serve(lambda _s, _h: ANSWER) as server:
        gh = clients(server.url).user("ghu_token")
        for _ in range(3):
            response = await gh.rest.reactions.async_create_for_issue_comment(
                "o", "r", 1, content="eyes"
            )
            assert response.status_code == 201
            assert response.json() == {"id": 1, "content": "eyes"}
        assert len(server.requests) == 3
        assert server.requests[0].startswith(b"POST /repos/o/r/issues/comments/1/reactions ")
        assert b"authorization: token ghu_token" in server.requests[0].lower()
        assert server.connections == 1


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    async with serve(lambda _s, _h: ANSWER) as server:
        gh = clients(server.url).user("ghu_token")
        await gh.rest.issues.async_create_comment("o", "r", 1, body="one")
        for writer in server.writers:
            writer.close()  # the server ends the idle keep-alive connection
        await asyncio.sleep(0.05)  # the client's loop sees the EOF
        response = await gh.rest.issues.async_create_comment("o", "r", 1, body="two")
        assert response.status_code == 201
        assert server.connections == 2
        assert len(server.requests) == 2


async def test_a_server_that_does_not_answer_times_out_as_httpx_does() -> None:
    transport = asyncio_transport(httpx.Limits(max_connections=5))
    async with (
        serve(lambda _s, _h: None) as server,
        httpx.AsyncClient(transport=transport, timeout=0.2) as client,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await client.get(server.url + "/app")


async def test_a_refused_connection_is_a_connect_error() -> None:
    probe = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    transport = asyncio_transport(httpx.Limits(max_connections=5))
    async with httpx.AsyncClient(transport=transport, timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/app")


async def test_a_connection_dropped_mid_answer_is_an_error_not_a_hang() -> None:
    def half(server: Server, _head: bytes) -> bytes:
        server.writers[-1].close()  # after these bytes, the socket closes
        return ANSWER[:40]

    transport = asyncio_transport(httpx.Limits(max_connections=5))
    async with serve(half) as server, httpx.AsyncClient(transport=transport, timeout=2) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await client.get(server.url + "/app")


async def test_a_request_head_and_body_leave_in_one_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bytes] = []
    original = asyncio.StreamWriter.write

    def counted(self: asyncio.StreamWriter, data: bytes) -> None:
        if data.startswith(b"POST "):
            sent.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(asyncio.StreamWriter, "write", counted)
    async with serve(lambda _s, _h: ANSWER) as server:
        gh = clients(server.url).user("ghu_token")
        await gh.rest.issues.async_create_comment("o", "r", 1, body="a reply")
    assert len(sent) == 1
    assert sent[0].endswith(b'{"body":"a reply"}')
