"""Signed deliveries and the load generator (`fire`): GitHub's example payloads, HMAC
signatures, latencies and answers of a burst."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from benchmarks._constants import (
    WEBHOOK_SECRET,
)
from benchmarks._stats import percentile

T = TypeVar("T")


class PayloadsUnavailable(Exception):
    """GitHub's example payloads could not be loaded (offline and not cached)."""


def skip_failed_sniffio_import() -> None:
    """Make httpcore's per-request `import sniffio` fail fast when sniffio is not installed.

    httpcore 1.0 imports sniffio inside `current_async_library()`, several times per
    request; without the package every attempt searches sys.path again (measured: most of
    the load generator's CPU). A None entry in sys.modules makes the import fail at once.
    """
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


skip_failed_sniffio_import()


# -- payloads ---------------------------------------------------------------------------------


def example_payload(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Call a `tests.support.payloads` builder; PayloadsUnavailable when offline."""
    import pytest

    try:
        return build()
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:
        raise PayloadsUnavailable(str(exc)) from None


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# -- the load generator -----------------------------------------------------------------------


@dataclass
class Delivery:
    event: str
    body: bytes
    signature: str = ""

    def __post_init__(self) -> None:
        if not self.signature:
            self.signature = sign(self.body)


@dataclass
class LoadResult:
    """Acknowledgement latencies (seconds) of one burst, and what the server answered."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # transport errors by type

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else math.nan

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def merge(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        self.elapsed += other.elapsed
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)

    def status_text(self) -> str:
        text = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return text + "".join(f" {name}:{n}" for name, n in sorted(self.errors.items()))


def run_client(coro: Coroutine[Any, Any, T]) -> T:
    """Run the load generator on uvloop when it is installed (less client CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def fire(
    url: str,
    deliveries: Sequence[Delivery],
    *,
    concurrency: int = 32,
    id_prefix: str = "bench",
) -> LoadResult:
    """POST every delivery to `url` over `concurrency` keep-alive connections.

    Each request carries its own `X-GitHub-Delivery` id (`id_prefix-N`); the latency is from
    just before the request is written to the moment the whole response is read.

    The load generator writes HTTP/1.1 by hand over asyncio streams (BENCH_CLIENT=httpx
    brings back httpx.AsyncClient): httpx costs about 4 ms of CPU per request on this
    machine kind, ten times what the bare endpoint spends, so with it the client and not
    the server set every target's pace and the ratios said little.
    """
    if os.environ.get("BENCH_CLIENT") == "httpx":
        return await _fire_httpx(url, deliveries, concurrency=concurrency, id_prefix=id_prefix)
    result = LoadResult()
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode()
    pending = iter(enumerate(deliveries))

    def request(n: int, delivery: Delivery) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nUser-Agent: GitHub-Hookshot/benchmark\r\n"
            f"X-GitHub-Event: {delivery.event}\r\nX-GitHub-Delivery: {id_prefix}-{n}\r\n"
            f"X-Hub-Signature-256: {delivery.signature}\r\n"
            f"Content-Length: {len(delivery.body)}\r\n\r\n"
        )
        return head.encode() + delivery.body

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        for n, delivery in pending:
            started = time.perf_counter()
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(request(n, delivery))
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                fields = dict(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                )
                await reader.readexactly(int(fields.get("content-length", "0")))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.errors[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[int(lines[0].split(" ", 2)[1])] += 1
            if fields.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def _fire_httpx(
    url: str, deliveries: Sequence[Delivery], *, concurrency: int, id_prefix: str
) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    pending = iter(enumerate(deliveries))
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0)) as client:

        async def worker() -> None:
            for n, delivery in pending:
                headers = {
                    "content-type": "application/json",
                    "user-agent": "GitHub-Hookshot/benchmark",
                    "x-github-event": delivery.event,
                    "x-github-delivery": f"{id_prefix}-{n}",
                    "x-hub-signature-256": delivery.signature,
                }
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=delivery.body, headers=headers)
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.statuses[response.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    return result
