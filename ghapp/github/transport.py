"""The one httpx transport every GitHub request passes through.

It stamps `X-GitHub-Delivery` with the delivery being handled, implements `DRY_RUN`
(writes are logged, not sent), writes requests down in the current journal
(`ghapp receive --dry-run`, `ghapp.testing`), counts requests for `/metrics`, and — seen
by one installation's client — forgets a token GitHub refused so that the retry policy's
single retry mints a new one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ghapp.github.rate_limits import (
    LocalRateLimitHolds,
    RateLimitHolds,
    held_response,
    hold_from,
)
from ghapp.github.request_kinds import READ_METHODS, is_token_request
from ghapp.metrics import Metrics

log = logging.getLogger("ghapp.github")

# The delivery being handled: every request made meanwhile carries its id.
current_delivery: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_delivery", default=None
)
# Where requests made meanwhile are written down (receive --dry-run, ghapp.testing).
request_journal: contextvars.ContextVar[list[JournalEntry] | None] = contextvars.ContextVar(
    "request_journal", default=None
)


@dataclass
class JournalEntry:
    method: str
    path: str
    query: str
    body: Any
    status: int | None = None
    sent: bool = True
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        """Whether the request changes GitHub: any method but GET/HEAD, except a GraphQL
        document that only reads (a `query`, no `mutation`)."""
        if self.method.upper() in READ_METHODS:
            return False
        if self.path.endswith("/graphql") and isinstance(self.body, dict):
            document = str(self.body.get("query") or "")
            # An operation starts the document or follows another one's closing brace.
            return re.search(r"(?:\A|\})\s*mutation\b", document) is not None
        return True

    def line(self) -> str:
        target = f"{self.path}?{self.query}" if self.query else self.path
        text = f"{self.method} {target}"
        if self.body is not None:
            text += " " + json.dumps(self.body, sort_keys=True)
        return text


class GitHubTransport(httpx.AsyncBaseTransport):
    """The single place every GitHub request passes (see the module docstring)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        metrics: Metrics | None = None,
        dry_run: bool = False,
    ) -> None:
        self.inner = inner
        self.metrics = metrics
        self.dry_run = dry_run

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        delivery = current_delivery.get()
        if delivery:
            request.headers["X-GitHub-Delivery"] = delivery
        entry = JournalEntry(request.method, request.url.path, request.url.query.decode(), None)
        # A redirected request (artifact downloads) carries an unread stream: read it first.
        await request.aread()
        if request.content and request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            try:
                entry.body = json.loads(request.content)
            except ValueError:
                entry.body = None
        journal = request_journal.get()
        if journal is not None and not is_token_request(request.url):
            journal.append(entry)

        if self.dry_run and entry.is_write and not is_token_request(request.url):
            entry.sent = False
            log.info(
                "dry run: not sent",
                extra={"method": request.method, "path": request.url.path, "body": entry.line()},
            )
            return httpx.Response(200, json={}, request=request)

        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        entry.status = response.status_code
        log.debug(
            "github request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        if self.metrics is not None:
            self.metrics.github_requests.labels(request.method, str(response.status_code)).inc()
            remaining = response.headers.get("x-ratelimit-remaining")
            if remaining is not None and remaining.isdigit():
                self.metrics.ratelimit_remaining.set(int(remaining))
        return response

    async def aclose(self) -> None:
        # Every client shares this transport (a signed-in person's githubkit client is
        # closed after each request, the kept ones at shutdown); the pooled connections
        # underneath must outlive them all, so closing is left to `close()`.
        return None

    async def close(self) -> None:
        await self.inner.aclose()


class InstallationTransport(httpx.AsyncBaseTransport):
    """The shared transport seen by one installation's client: it holds every request
    while GitHub's rate limit for the installation says so (`rate_limits`), and when
    GitHub refuses its token (revoked or expired early), the cached token is forgotten,
    so the one retry the RetryPolicy allows mints a fresh one."""

    def __init__(
        self,
        shared: GitHubTransport,
        installation_id: int,
        forget: Callable[[int], Awaitable[None]],
        holds: RateLimitHolds | None = None,
    ) -> None:
        self.shared = shared
        self.installation_id = installation_id
        self.forget = forget
        self.holds = holds or LocalRateLimitHolds()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        until = await self.holds.held_until(self.installation_id)
        if until is not None and until > time.time():
            return held_response(request, self.installation_id, until)
        sent_at = time.time()
        response = await self.shared.handle_async_request(request)
        until = await hold_from(response, sent_at)
        if until is not None:
            await self.holds.hold(self.installation_id, until)
            log.warning(
                "GitHub rate limit: requests for this installation held",
                extra={
                    "installation": self.installation_id,
                    "duration_ms": round(max(until - sent_at, 0) * 1000),
                },
            )
        if response.status_code == 401 and request.headers.get("authorization", "").startswith(
            "token "
        ):
            await self.forget(self.installation_id)
            log.info(
                "installation token refused; minting a new one",
                extra={"installation": self.installation_id},
            )
        return response

    async def aclose(self) -> None:
        return None
