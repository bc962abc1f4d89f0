"""Pacing of writes per installation, plugged into githubkit's throttler hook.

GitHub's secondary-rate-limit guidance asks integrations for one mutation at a time,
mutations ≥1 s apart and content-creating requests ≥3 s apart (Octokit's throttling
values). `WritePacer` does that within a process (the Redis-backed pacer in
`ghapp.scaleout` across workers); `NoPacing` is `GITHUB_PACING=off`. Reads are never
paced, and different installations never wait for each other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from githubkit.throttling import BaseThrottler

from ghapp.github.request_kinds import creates_content, is_token_request, is_write


class WritePacer:
    """Spaces writes for one installation as GitHub's secondary-rate-limit guidance asks:
    one mutation at a time, ≥1 s apart, ≥3 s for content-creating requests (Octokit's
    throttling values). Different installations never wait for each other.

    This one paces within a process; the Redis-backed pacer does it across workers.
    """

    write_interval = 1.0
    content_interval = 3.0

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._last: dict[int, float] = {}

    @asynccontextmanager
    async def slot(self, installation_id: int, content: bool) -> AsyncIterator[None]:
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            interval = self.content_interval if content else self.write_interval
            wait = self._last.get(installation_id, 0.0) + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last[installation_id] = time.monotonic()


class NoPacing:
    @asynccontextmanager
    async def slot(self, installation_id: int, content: bool) -> AsyncIterator[None]:
        yield


class InstallationThrottler(BaseThrottler):
    """githubkit's throttler hook, bound to one installation; reads pass straight through."""

    def __init__(self, pacer: WritePacer | NoPacing | Any, installation_id: int) -> None:
        self.pacer = pacer
        self.installation_id = installation_id

    def acquire(self, request: httpx.Request) -> Any:  # pragma: no cover - sync unused
        raise NotImplementedError("ghapp uses githubkit asynchronously only")

    @asynccontextmanager
    async def async_acquire(self, request: httpx.Request) -> AsyncIterator[None]:
        if not is_write(request.method) or is_token_request(request.url):
            yield
            return
        async with self.pacer.slot(self.installation_id, creates_content(request)):
            yield
