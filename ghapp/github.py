"""GitHub access through githubkit: the App, each installation, a signed-in user.

githubkit does the authentication, token caching, typed models and pagination. Around
it, this module adds what a bot needs and githubkit leaves open (see LIBRARIES.md):

- one transport for every request: it stamps `X-GitHub-Delivery`, implements `DRY_RUN`
  (writes are logged, not sent), counts requests for `/metrics`, and forgets a token
  GitHub refused so the single retry mints a new one;
- a retry policy that never repeats a write that may have happened and never sleeps long
  inside a job (`RetryLater` hands the wait back to the queue);
- single-flight token minting per installation (githubkit has none);
- pacing of writes per installation through githubkit's throttler hook.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.auth.app import AppAuth
from githubkit.cache import AsyncBaseCache, BaseCacheStrategy, MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.retry import RetryOption
from githubkit.throttling import BaseThrottler
from redis.exceptions import RedisError

from ghapp.metrics import Metrics

log = logging.getLogger("ghapp.github")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Longest wait a job may sleep for a rate limit before handing the delivery back.
MAX_INLINE_WAIT = timedelta(seconds=10)

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


class RetryLater(Exception):
    """GitHub asked us to wait longer than a job should sleep; requeue after `delay`."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class GitHubUnavailable(Exception):
    """GitHub (or the Redis ghapp reaches it through) failed in a way worth retrying the
    whole delivery later (5xx, timeout, connection lost)."""


def is_write(method: str) -> bool:
    return method.upper() not in READ_METHODS


def is_token_request(url: httpx.URL) -> bool:
    return url.path.endswith("/access_tokens") or "/app-manifests/" in url.path


def creates_content(request: httpx.Request) -> bool:
    """Requests GitHub's guidance asks to space 3 s apart (comments, issues, releases…)."""
    if request.method != "POST":
        return False
    path = request.url.path
    if path.endswith("/graphql"):
        return b"addDiscussionComment" in request.content
    return path.endswith(("/comments", "/replies", "/issues", "/releases", "/pulls"))


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
        # githubkit opens and closes an httpx client per request; the pooled connections
        # underneath must outlive those clients, so closing is left to `close()`.
        return None

    async def close(self) -> None:
        await self.inner.aclose()


class InstallationTransport(httpx.AsyncBaseTransport):
    """The shared transport seen by one installation's client: when GitHub refuses its
    token (revoked or expired early), the cached token is forgotten, so the one retry the
    RetryPolicy allows mints a fresh one."""

    def __init__(
        self,
        shared: GitHubTransport,
        installation_id: int,
        forget: Callable[[int], Awaitable[None]],
    ) -> None:
        self.shared = shared
        self.installation_id = installation_id
        self.forget = forget

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.shared.handle_async_request(request)
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


def request_of(exc: GitHubException) -> httpx.Request | None:
    if isinstance(exc, RequestFailed):
        return exc.request
    if isinstance(exc, RequestError):
        inner = exc.exc
        if isinstance(inner, httpx.RequestError):
            try:
                return inner.request
            except RuntimeError:
                return None
    return None


@dataclass
class RetryPolicy:
    """githubkit's `auto_retry` hook, shaped by "effects happen once".

    - Rate limits (primary and secondary): the request was not executed, so retrying it is
      safe for any method; a wait up to MAX_INLINE_WAIT is slept, a longer one is not.
    - 5xx, timeouts, connection errors: reads are retried with growing waits; writes are
      not (GitHub may have applied them), the delivery is retried later instead and the
      skill re-checks what exists before acting.
    - 401: retried after the transport forgot the cached token (installation tokens up
      to max_retries, since one may expire between two tries of the same request).
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_inline_wait: timedelta = MAX_INLINE_WAIT

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if isinstance(exc, RateLimitExceeded):
            # A reset already past reads as a zero wait, which githubkit takes for
            # "unknown" and sleeps 60 s: wait at least a second instead.
            wait = max(exc.retry_after, timedelta(seconds=1))
            if retry_count < 2 and wait <= self.max_inline_wait:
                return RetryOption(True, wait)
            return RetryOption(False)
        request = request_of(exc)
        if request is None:
            return RetryOption(False)
        if isinstance(exc, RequestFailed):
            status = exc.response.status_code
            credential = request.headers.get("authorization", "")
            # The first 401 of any request gets one retry; an installation token may also
            # expire after an earlier retry of the same request (a 502, then 401): the
            # transport forgot it, so each retry mints a fresh one, up to max_retries.
            refused_token = credential.startswith("token ") and retry_count < self.max_retries
            if status == 401 and credential and (retry_count == 0 or refused_token):
                # githubkit reads a zero wait as "unknown" and sleeps 60 s: wait 10 ms.
                return RetryOption(True, timedelta(milliseconds=10))
            if status < 500:
                return RetryOption(False)
        if is_write(request.method) or retry_count >= self.max_retries:
            return RetryOption(False)
        return RetryOption(True, timedelta(seconds=self.backoff * (retry_count + 1) ** 2))


def classify_failure(exc: BaseException) -> Exception | None:
    """Turn a GitHub failure into RetryLater / GitHubUnavailable when the delivery should
    be tried again; None when it is a final failure for this skill."""
    if isinstance(exc, RateLimitExceeded):
        return RetryLater(max(exc.retry_after.total_seconds(), 1.0), "GitHub rate limit")
    if isinstance(exc, RequestFailed) and exc.response.status_code >= 500:
        return GitHubUnavailable(f"GitHub answered {exc.response.status_code}")
    if isinstance(exc, RequestTimeout):
        return GitHubUnavailable("GitHub did not answer in time")
    inner = exc.exc if isinstance(exc, RequestError) else None
    if isinstance(inner, GitHubException):
        # Minting a token inside githubkit's auth flow failed (rate limit, 5xx, ...).
        return classify_failure(inner)
    if isinstance(inner, httpx.RequestError | OSError):
        return GitHubUnavailable(f"could not reach GitHub ({type(inner).__name__})")
    # Redis (the shared token cache, locks, pacing) failing heals by waiting, too.
    if isinstance(inner, RedisError) or isinstance(exc, RedisError):
        return GitHubUnavailable(f"Redis unavailable ({type(inner or exc).__name__})")
    # githubkit wraps whatever the HTTP stack raised in RequestError; anything else (a
    # bug, a test cassette without such a request) will not heal by waiting.
    return None


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


LockFactory = Callable[[str], AbstractAsyncContextManager[Any]]


def local_locks() -> LockFactory:
    locks: dict[str, asyncio.Lock] = {}

    def factory(name: str) -> AbstractAsyncContextManager[Any]:
        return locks.setdefault(name, asyncio.Lock())

    return factory


@dataclass
class AppInfo:
    id: int
    slug: str
    name: str
    html_url: str
    owner: str | None = None


@dataclass
class GitHubClients:
    """Builds and keeps githubkit clients; created by the runtime, never a module global."""

    app_id: int
    private_key: str = field(repr=False)
    api_url: str
    metrics: Metrics | None = None
    dry_run: bool = False
    pacer: Any = field(default_factory=NoPacing)
    cache_strategy: BaseCacheStrategy = field(default_factory=MemCacheStrategy)
    locks: LockFactory = field(default_factory=local_locks)
    inner_transport: httpx.AsyncBaseTransport | None = None
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    max_cached_clients: int = 20_000

    def __post_init__(self) -> None:
        self.transport = GitHubTransport(
            self.inner_transport
            or httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=50)),
            metrics=self.metrics,
            dry_run=self.dry_run,
        )
        self._installations: OrderedDict[int, GitHub[Any]] = OrderedDict()
        self._app_info: AppInfo | None = None
        self.app: GitHub[AppAuthStrategy] = self._github(
            AppAuthStrategy(
                str(self.app_id),
                self.private_key,
                client_id=self.client_id,
                client_secret=self.client_secret,
            )
        )

    def _github(
        self,
        auth: Any,
        throttler: BaseThrottler | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> GitHub[Any]:
        return GitHub(
            auth,
            base_url=self.api_url + "/",
            async_transport=transport or self.transport,
            cache_strategy=self.cache_strategy,
            # The HTTP cache would swallow the timeout (LIBRARIES.md); conditional requests
            # for repository config are made explicitly in repo_config.py.
            http_cache=False,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
            auto_retry=self.retry,
            throttler=throttler,
            user_agent="ghapp",
        )

    def _strategy(self, installation_id: int) -> AppInstallationAuthStrategy:
        return AppInstallationAuthStrategy(str(self.app_id), self.private_key, installation_id)

    def _token_key(self, installation_id: int) -> str:
        # githubkit's own cache key for this installation's token, so that a token minted
        # here is the one githubkit's auth flow finds (private API, pinned githubkit 0.16).
        flow = self._strategy(installation_id).get_auth_flow(self.app)
        assert isinstance(flow, AppAuth)
        return flow._get_installation_cache_key()

    async def _storage(self) -> AsyncBaseCache:
        return await self.cache_strategy.get_async_cache_storage()

    async def ensure_token(self, installation_id: int) -> None:
        """Mint the installation token once, even when many jobs start at the same time."""
        key = self._token_key(installation_id)
        storage = await self._storage()
        if await storage.aget(key):
            return
        async with self.locks(f"token:{installation_id}"):
            if await storage.aget(key):
                return
            response = await self.app.rest.apps.async_create_installation_access_token(
                installation_id
            )
            data = response.parsed_data
            expires = datetime.strptime(data.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            ttl = expires - datetime.now(UTC) - timedelta(minutes=1)
            await storage.aset(key, data.token, max(ttl, timedelta(seconds=1)))

    async def forget_token(self, installation_id: int) -> None:
        # githubkit's cache has no delete; an empty value reads as "no token".
        storage = await self._storage()
        await storage.aset(self._token_key(installation_id), "", timedelta(seconds=1))

    async def installation(self, installation_id: int) -> GitHub[Any]:
        """A client authenticated as the installation, its token minted at most once."""
        await self.ensure_token(installation_id)
        client = self._installations.get(installation_id)
        if client is None:
            client = self._github(
                self._strategy(installation_id),
                InstallationThrottler(self.pacer, installation_id),
                InstallationTransport(self.transport, installation_id, self.forget_token),
            )
            self._installations[installation_id] = client
            if len(self._installations) > self.max_cached_clients:
                self._installations.popitem(last=False)
        else:
            self._installations.move_to_end(installation_id)
        return client

    def user(self, token: str) -> GitHub[TokenAuthStrategy]:
        """A client acting as a signed-in person (settings page)."""
        return self._github(TokenAuthStrategy(token))

    async def app_info(self) -> AppInfo:
        """`GET /app`, read once: the slug is what people @mention."""
        if self._app_info is None:
            data = (await self.app.rest.apps.async_get_authenticated()).parsed_data
            if data is None:
                raise RuntimeError("GET /app returned no App")
            owner = getattr(data.owner, "login", None) if data.owner else None
            self._app_info = AppInfo(
                id=data.id,
                slug=str(data.slug or data.name),
                name=data.name,
                html_url=data.html_url,
                owner=owner,
            )
        return self._app_info

    async def close(self) -> None:
        await self.transport.close()
