"""GitHub access: tokens minted once per installation, refused tokens replaced, retries
that never repeat a write, long waits handed back to the queue, DRY_RUN, pacing."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RequestError, RequestFailed, RequestTimeout
from redis.exceptions import ConnectionError as RedisConnectionError

from ghapp.github import (
    GitHubClients,
    GitHubUnavailable,
    RetryLater,
    RetryPolicy,
    WritePacer,
    classify_failure,
)
from ghapp.testing import PrefixedApp, test_key_pair
from tests.support.fake_github import FakeGitHub, Fault

REPO = ("octo-org", "hello")


def clients(fake: FakeGitHub, **kwargs: object) -> GitHubClients:
    private, _ = test_key_pair()
    options: dict[str, object] = {
        "retry": RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
        **kwargs,
    }
    return GitHubClients(
        app_id=1,
        private_key=private,
        api_url="https://api.github.com",
        inner_transport=httpx.ASGITransport(app=PrefixedApp(fake.app)),  # type: ignore[arg-type]
        cache_strategy=MemCacheStrategy(),
        **options,  # type: ignore[arg-type]
    )


async def test_concurrent_first_calls_mint_one_token(fake_github: FakeGitHub) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")

    async def read() -> None:
        client = await gh.installation(1)
        await client.rest.issues.async_get(*REPO, 1)

    await asyncio.gather(*(read() for _ in range(20)))
    assert fake_github.tokens_issued == {1: 1}


async def test_a_refused_token_is_replaced_once(fake_github: FakeGitHub) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    client = await gh.installation(1)
    await client.rest.issues.async_get(*REPO, 1)
    fake_github.expire_all_tokens()  # revoked early: GitHub answers 401
    response = await client.rest.issues.async_get(*REPO, 1)
    assert response.status_code == 200
    assert fake_github.tokens_issued == {1: 2}


async def test_reads_are_retried_on_5xx_but_writes_are_not(fake_github: FakeGitHub) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    client = await gh.installation(1)
    fake_github.faults.append(Fault("GET", r"/issues/1$", 502, times=2))
    assert (await client.rest.issues.async_get(*REPO, 1)).status_code == 200

    fake_github.faults.append(Fault("POST", r"/issues/1/comments$", 502, times=1))
    with pytest.raises(RequestFailed) as info:
        await client.rest.issues.async_create_comment(*REPO, 1, body="hi")
    assert info.value.response.status_code == 502
    posted = fake_github.requests_to("POST", r"/issues/1/comments$")
    assert len(posted) == 1  # a write GitHub may have applied is never repeated blindly
    assert isinstance(classify_failure(info.value), Exception)


async def test_secondary_rate_limit_short_wait_is_honoured(fake_github: FakeGitHub) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    client = await gh.installation(1)
    fake_github.faults.append(
        Fault(
            "POST",
            r"/issues/1/comments$",
            403,
            headers={"retry-after": "1"},
            body={"message": "You have exceeded a secondary rate limit."},
        )
    )
    started = time.monotonic()
    await client.rest.issues.async_create_comment(*REPO, 1, body="hi")
    attempts = fake_github.requests_to("POST", r"/issues/1/comments$")
    assert len(attempts) == 2
    assert time.monotonic() - started >= 1.0  # no request before Retry-After


async def test_a_long_rate_limit_wait_goes_back_to_the_queue(fake_github: FakeGitHub) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    client = await gh.installation(1)
    reset = int(time.time()) + 600
    fake_github.faults.append(
        Fault(
            "GET",
            r"/issues/1$",
            403,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            body={"message": "API rate limit exceeded"},
        )
    )
    with pytest.raises(RequestFailed) as info:
        await client.rest.issues.async_get(*REPO, 1)
    later = classify_failure(info.value)
    assert isinstance(later, RetryLater)
    assert 500 <= later.delay <= 700
    assert len(fake_github.requests_to("GET", r"/issues/1$")) == 1  # did not sleep an hour


async def test_dry_run_sends_no_write_but_authenticates(
    fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    gh = clients(fake_github, dry_run=True)
    fake_github.add_issue("octo-org/hello", "One")
    client = await gh.installation(1)
    caplog.set_level("INFO", logger="ghapp")
    await client.rest.issues.async_create_comment(*REPO, 1, body="hi")
    assert fake_github.requests_to("POST", r"/comments$") == []
    # The write is logged instead, whole, so a dry run shows what would have happened.
    [not_sent] = [r for r in caplog.records if r.getMessage() == "dry run: not sent"]
    assert not_sent.body == 'POST /repos/octo-org/hello/issues/1/comments {"body": "hi"}'  # type: ignore[attr-defined]
    assert fake_github.tokens_issued == {1: 1}
    assert len(fake_github.requests_to("GET", r"^/repos")) == 0


async def test_writes_are_paced_per_installation_not_across() -> None:
    pacer = WritePacer()
    pacer.write_interval, pacer.content_interval = 0.2, 0.4
    stamps: dict[int, list[float]] = {1: [], 2: []}

    async def write(installation: int, content: bool) -> None:
        async with pacer.slot(installation, content):
            stamps[installation].append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(write(1, False), write(1, False), write(1, True), write(2, True))
    one = stamps[1]
    assert one[1] - one[0] >= 0.19 and one[2] - one[1] >= 0.39
    assert stamps[2][0] - started < 0.1  # another installation never waits


def test_retry_policy_table() -> None:
    policy = RetryPolicy(backoff=1.0)
    request = httpx.Request("POST", "https://api.github.com/x")
    timeout = RequestTimeout(httpx.ReadTimeout("slow", request=request))
    assert not policy(timeout, 0).do_retry  # a write that timed out may have happened
    get_timeout = RequestTimeout(
        httpx.ReadTimeout("slow", request=httpx.Request("GET", "https://api.github.com/x"))
    )
    assert policy(get_timeout, 0).do_retry
    assert not policy(get_timeout, 3).do_retry


def test_only_network_failures_count_as_github_unreachable() -> None:
    request = httpx.Request("GET", "https://api.github.com/x")
    for network in (httpx.ConnectError("refused", request=request), ConnectionResetError()):
        assert isinstance(classify_failure(RequestError(network)), GitHubUnavailable)
    # Anything else githubkit wraps (a bug, a cassette without this request) is final:
    # retrying the delivery for minutes would not change it.
    assert classify_failure(RequestError(ValueError("no such request recorded"))) is None
    # The token request inside githubkit's auth flow failing is judged as itself.
    minting = httpx.Request("POST", "https://api.github.com/app/installations/1/access_tokens")
    busy = RequestError(RequestTimeout(httpx.ReadTimeout("slow", request=minting)))
    assert isinstance(classify_failure(busy), GitHubUnavailable)
    # Redis behind the token cache, or behind a lock a skill holds, heals by waiting too.
    for redis_down in (RequestError(RedisConnectionError("gone")), RedisConnectionError("gone")):
        assert isinstance(classify_failure(redis_down), GitHubUnavailable)
