"""Trust (issue 15, "Also"): GitHub's rate limits are held for the whole installation.

After a primary rate limit (403 with `x-ratelimit-remaining: 0`) no request for that
installation reaches GitHub before `x-ratelimit-reset`; after a secondary one none before
`retry-after` — from any job, on any worker. Two "workers" here are two GitHubClients,
each with its own transport into the same fake GitHub, sharing what the runtime shares:
nothing but this process (in-process holds) or Redis (scale-out). Each records the Unix
time every request really left it, and the test checks none for the limited
installation left inside the window, while another installation is never held.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RateLimitExceeded, RequestFailed
from redis.asyncio import Redis

from ghapp.github import (
    GitHubClients,
    LocalRateLimitHolds,
    RateLimitHolds,
    RetryLater,
    RetryPolicy,
    classify_failure,
)
from ghapp.scaleout import RedisRateLimitHolds
from ghapp.testing import PrefixedApp, test_key_pair
from tests.services import RedisSpace, redis_space_fixture, redis_url_fixture  # noqa: F401
from tests.support.fake_github import FakeGitHub, Fault

HELLO = ("octo-org", "hello")
OTHER = ("other-org", "notes")


class Sent(httpx.AsyncBaseTransport):
    """Writes down when each request really leaves a worker for GitHub (Unix time)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.inner = httpx.ASGITransport(app=PrefixedApp(fake.app))  # type: ignore[arg-type]
        self.sent: list[tuple[float, str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((time.time(), request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    def to(self, repo: tuple[str, str], since: float = 0.0) -> list[float]:
        prefix = f"/repos/{repo[0]}/{repo[1]}/"
        return [t for t, _m, path in self.sent if t >= since and prefix in path]


def worker(fake: FakeGitHub, holds: RateLimitHolds) -> tuple[GitHubClients, Sent]:
    private, _ = test_key_pair()
    sent = Sent(fake)
    clients = GitHubClients(
        app_id=1,
        private_key=private,
        api_url="https://api.github.com",
        cache_strategy=MemCacheStrategy(),
        inner_transport=sent,
        # Waits longer than this go back to the queue, as in production (there 10 s).
        retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(milliseconds=500)),
        rate_limits=holds,
    )
    return clients, sent


@pytest.fixture
def fake(fake_github: FakeGitHub) -> Iterator[FakeGitHub]:
    fake_github.add_installation(2, "other-org", repositories=["other-org/notes"])
    fake_github.add_issue("octo-org/hello", "One")
    fake_github.add_issue("other-org/notes", "Elsewhere")
    yield fake_github


WINDOW = 3  # seconds GitHub asks for


async def held_everywhere(
    fake: FakeGitHub, one: GitHubClients, two: GitHubClients, limit: Callable[[int], Fault]
) -> float:
    """Worker one hits `limit` on installation 1; then every job on both workers tries
    installation 1 (a config read, a reaction, a comment) and installation 2. Returns
    the time GitHub's answer said requests may resume."""
    gh_one, gh_two = await one.installation(1), await two.installation(1)
    await gh_one.rest.issues.async_get(*HELLO, 1)  # both workers have tokens already
    await gh_two.rest.issues.async_get(*HELLO, 1)
    fake.faults.append(limit(WINDOW))
    limited_at = time.time()
    with pytest.raises(RequestFailed) as first:
        await gh_one.rest.issues.async_get(*HELLO, 1)
    later = classify_failure(first.value)
    assert isinstance(later, RetryLater)  # the job goes back to the queue, not a failure
    resume = limited_at + later.delay

    attempts = [
        gh_two.rest.repos.async_get_content(*HELLO, ".github/ghapp.yml"),
        gh_two.rest.reactions.async_create_for_issue(*HELLO, 1, content="eyes"),
        gh_one.rest.issues.async_create_comment(*HELLO, 1, body="hello"),
    ]
    for attempt in attempts:
        with pytest.raises(RequestFailed) as held:
            await attempt
        assert isinstance(held.value, RateLimitExceeded)
        assert isinstance(classify_failure(held.value), RetryLater)
    # Another installation is never held.
    other = await (await two.installation(2)).rest.issues.async_get(*OTHER, 1)
    assert other.status_code == 200
    return resume


async def after_the_window(resume: float, one: GitHubClients, two: GitHubClients) -> None:
    await asyncio.sleep(max(0.0, resume - time.time()) + 0.2)
    for clients in (one, two):
        gh = await clients.installation(1)
        assert (await gh.rest.issues.async_get(*HELLO, 1)).status_code == 200


def primary_limit(seconds: int) -> Fault:
    reset = int(time.time()) + seconds
    return Fault(
        "GET",
        r"/repos/octo-org/hello/issues/1$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )


def secondary_limit(seconds: int) -> Fault:
    return Fault(
        "GET",
        r"/repos/octo-org/hello/issues/1$",
        403,
        headers={"retry-after": str(seconds)},
        body={"message": "You have exceeded a secondary rate limit."},
    )


@pytest.mark.parametrize("limit", [primary_limit, secondary_limit])
async def test_no_request_for_a_limited_installation_before_github_allows_it(
    fake: FakeGitHub, limit: object
) -> None:
    holds = LocalRateLimitHolds()  # one process: its jobs share it
    (one, sent_one), (two, sent_two) = worker(fake, holds), worker(fake, holds)
    try:
        resume = await held_everywhere(fake, one, two, limit)  # type: ignore[arg-type]
        limited = max(t for t, _m, p in sent_one.sent if p.endswith("/issues/1"))
        assert sent_one.to(HELLO, since=limited + 1e-6) == []
        assert sent_two.to(HELLO, since=limited) == []
        assert sent_two.to(OTHER)  # installation 2 went through meanwhile
        await after_the_window(resume, one, two)
        assert all(t >= resume - 1 for t in sent_two.to(HELLO, since=limited))
        assert sent_one.to(HELLO, since=limited + 1e-6) and sent_two.to(HELLO, since=limited)
    finally:
        await one.close()
        await two.close()


@pytest.mark.redis
async def test_workers_sharing_redis_hold_the_limit_together(
    fake: FakeGitHub, redis_space: RedisSpace
) -> None:
    redis = Redis.from_url(redis_space.url)
    try:
        # Two workers, nothing shared but Redis.
        (one, sent_one) = worker(fake, RedisRateLimitHolds(redis, redis_space.namespace))
        (two, sent_two) = worker(fake, RedisRateLimitHolds(redis, redis_space.namespace))
        try:
            resume = await held_everywhere(fake, one, two, primary_limit)
            limited = max(t for t, _m, p in sent_one.sent if p.endswith("/issues/1"))
            assert sent_two.to(HELLO, since=limited) == []
            assert sent_one.to(HELLO, since=limited + 1e-6) == []
            await after_the_window(resume, one, two)
            assert sent_two.to(HELLO, since=limited)
        finally:
            await one.close()
            await two.close()
    finally:
        await redis.aclose()


async def test_a_longer_hold_is_never_shortened() -> None:
    holds = LocalRateLimitHolds()
    far = time.time() + 600
    await holds.hold(1, far)
    await holds.hold(1, time.time() + 5)
    assert await holds.held_until(1) == far
    assert await holds.held_until(2) is None
