"""The sockets under every GitHub request: httpcore's connection pool on asyncio streams.

githubkit sends through httpx, httpx through httpcore, and httpcore reads and writes its
connections through a network backend, anyio's by default. Per request that backend
cost ghapp more than any of its own work (benchmarks/README.md, issue 17, third pass):
a cancel scope around every read and write, and a `select()` system call on every idle
pooled connection each time a request looks for one (`is_readable`, to notice a
connection the server closed). This backend does the same on asyncio's streams: timeouts
with `asyncio.timeout`, and "the server closed it" read from the stream's state, which
the event loop keeps up to date. httpx, httpcore (HTTP/1.1, pooling, keep-alive, TLS
settings) and githubkit above are unchanged; only the byte pipe is ghapp's.

ghapp runs on asyncio (uvloop when installed), never trio.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore import (
    AsyncNetworkBackend,
    AsyncNetworkStream,
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from httpcore._backends.base import SOCKET_OPTION

FLUSH_AT = 64 * 1024  # bytes of a request held before they are sent anyway


class AsyncioStream(AsyncNetworkStream):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        # httpcore writes a request's head and its body separately; they are sent
        # together when it starts reading the answer (one system call, not two).
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._pending:
            await self._flush(timeout)
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise ReadTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            raise ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._writer.transport.is_closing():
            raise WriteError("the connection is closed")
        self._pending.append(buffer)
        self._pending_size += len(buffer)
        if self._pending_size >= FLUSH_AT:
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        writer = self._writer
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if writer.transport.is_closing():
            raise WriteError("the connection is closed")
        try:
            writer.write(data)
            # drain() waits only while the transport's buffer is over its high mark.
            async with asyncio.timeout(timeout):
                await writer.drain()
        except TimeoutError as exc:
            raise WriteTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            raise WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._pending.clear()
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            await self.aclose()
            raise ConnectTimeout(str(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        writer = self._writer
        if info == "is_readable":
            # An idle connection is "readable" when the server closed it (or sent bytes
            # nobody asked for): httpcore then drops it instead of sending on it. The
            # event loop has already fed the EOF or the bytes to the stream.
            reader = self._reader
            return (
                reader.at_eof()
                or reader.exception() is not None
                or writer.transport.is_closing()
                or bool(getattr(reader, "_buffer", b""))
            )
        if info == "ssl_object":
            return writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return writer.get_extra_info("sockname")
        if info == "server_addr":
            return writer.get_extra_info("peername")
        if info == "socket":
            return writer.get_extra_info("socket")
        return None


class AsyncioBackend(AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except TimeoutError as exc:
            raise ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except TimeoutError as exc:
            raise ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def asyncio_transport(limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (TLS verification from certifi, HTTP/1.1, `limits`) whose
    connection pool uses the asyncio backend above."""
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx 0.28 takes no network backend: its pool is rebuilt with the same settings.
    # tests/test_github_network.py fails if a later httpx stops using this attribute.
    transport._pool = httpcore.AsyncConnectionPool(  # pyright: ignore[reportPrivateUsage]
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return transport
