"""A githubkit `GitHub` that reuses one httpx client for every request it makes.

Why a workaround: githubkit builds a new `httpx.AsyncClient` for every request
(`GitHubCore.get_async_client`) unless the call runs inside `async with github:`, whose
client lives in a ContextVar, so only for the task that entered it. ghapp keeps its App and
installation clients for the process's life and uses them from many tasks at once; building
and closing an AsyncClient per request (its headers, timeouts, environment proxies, mounts)
and parsing each response's cookies was ~7 % of a mention's CPU (issue 17, fourth pass).

Here the client githubkit would build is built once, by githubkit (`_create_async_client`:
its auth flow, base URL, headers, timeout, transport), and handed to every request;
githubkit still sends each request (retries, throttler, token cache, auth flow unchanged).
An httpx client is safe to share between tasks of one event loop. Its transport is ghapp's
shared `GitHubTransport`, so the client owns no connections: closing it is a formality,
and one dropped without closing (an evicted installation) frees nothing but memory.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from githubkit import GitHub
from githubkit.auth import BaseAuthStrategy

A = TypeVar("A", bound=BaseAuthStrategy)


class _NoCookies(httpx.Cookies):
    """Cookies that keep nothing. A client built per request never carried a cookie from
    one request to the next; a kept client would, so it keeps none (the REST API sets
    none that matter), and skips reading `Set-Cookie` on every response (~90 µs each)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class KeptClientGitHub(GitHub[A]):
    """`GitHub` whose requests share one `httpx.AsyncClient` (see the module docstring)."""

    _kept: httpx.AsyncClient | None = None

    async def _create_async_client(self) -> httpx.AsyncClient:
        client = await super()._create_async_client()
        # httpx's `cookies` setter copies into a plain jar, so the private attribute it
        # reads is set instead (httpx is pinned below 1.0; tests/test_github_kept_client.py
        # fails if a cookie outlives its request).
        client._cookies = _NoCookies()
        return client

    @asynccontextmanager
    async def get_async_client(self) -> AsyncGenerator[httpx.AsyncClient, None]:
        client = self._kept
        if client is None:
            client = await self._create_async_client()
            if self._kept is None:
                self._kept = client
            else:  # another task built one meanwhile: use that one
                await client.aclose()
                client = self._kept
        yield client

    async def aclose_kept(self) -> None:
        """Close the kept client (shutdown); a later request builds a new one."""
        client, self._kept = self._kept, None
        if client is not None:
            await client.aclose()
