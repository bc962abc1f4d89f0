"""GitHub access: tokens minted once per installation, refused tokens replaced, retries
that never repeat a write, long waits handed back to the queue, DRY_RUN, pacing."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

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
    creates_content,
)
from ghapp.testing import PrefixedApp, test_key_pair
from tests.support.fake_github import FakeGitHub, Fault

REPO = ("octo-org", "hello")


def clients(fake: FakeGitHub, **kwargs: object) -> GitHubClients:
    private, _ = test_key_pair()
    options: dict[str, object] = {
        "retry": RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
        "inner_transport": httpx.ASGITransport(app=PrefixedApp(fake.app)),  # type: ignore[arg-type]
        **kwargs,
    }
    return GitHubClients(
        app_id=1,
        private_key=private,
        api_url="https://api.github.com",
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


async def test_a_token_refused_on_every_try_is_tried_again_later(
    fake_github: FakeGitHub,
) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    client = await gh.installation(1)
    fake_github.faults.append(Fault("GET", r"/issues/1$", 401, times=10))
    with pytest.raises(RequestFailed) as info:
        await client.rest.issues.async_get(*REPO, 1)
    assert info.value.response.status_code == 401
    assert fake_github.tokens_issued[1] >= 3  # a fresh token for each try
    # the delivery is tried again later, as for a 5xx, not failed for good
    assert isinstance(classify_failure(info.value), GitHubUnavailable)


async def test_the_apps_own_credentials_refused_are_final(fake_github: FakeGitHub) -> None:
    fake_github.faults.append(Fault("GET", r"/app$", 401, times=10))
    with pytest.raises(RequestFailed) as info:
        await clients(fake_github).app.rest.apps.async_get_authenticated()
    assert info.value.response.status_code == 401
    assert classify_failure(info.value) is None


async def test_a_token_is_renewed_a_minute_before_it_expires_not_after(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    mint = fake_github.mint_installation_token

    def short_lived(installation_id: int, *args: Any, **kwargs: Any) -> Any:
        token = mint(installation_id, *args, **kwargs)
        token.expires_at = datetime.now(UTC) + timedelta(seconds=62)  # 2 s before the margin
        return token

    monkeypatch.setattr(fake_github, "mint_installation_token", short_lived)
    await (await gh.installation(1)).rest.issues.async_get(*REPO, 1)
    await asyncio.sleep(3)  # still valid on GitHub's side for most of a minute
    await (await gh.installation(1)).rest.issues.async_get(*REPO, 1)
    # Replaced ahead of its expiry, not after GitHub started refusing it.
    assert fake_github.tokens_issued == {1: 2}
    assert [r.status for r in fake_github.requests if r.status == 401] == []


async def test_a_token_is_kept_for_its_lifetime_not_minted_per_job(
    fake_github: FakeGitHub,
) -> None:
    gh = clients(fake_github)
    fake_github.add_issue("octo-org/hello", "One")
    await (await gh.installation(1)).rest.issues.async_get(*REPO, 1)
    await asyncio.sleep(1.5)  # GitHub's tokens live an hour; ghapp keeps one 59 minutes
    await (await gh.installation(1)).rest.issues.async_get(*REPO, 1)
    assert fake_github.tokens_issued == {1: 1}


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


def test_pacing_defaults_are_githubs_secondary_rate_limit_guidance() -> None:
    """One mutation per second, one content-creating request per three seconds, in one
    process and across workers alike."""
    from ghapp.scaleout import RedisWritePacer

    for pacer in (WritePacer, RedisWritePacer):
        assert (pacer.write_interval, pacer.content_interval) == (1.0, 3.0), pacer


class Stamped(httpx.AsyncBaseTransport):
    """Notes when each request leaves the client (after githubkit's throttler)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path, time.monotonic()))
        return await self.inner.handle_async_request(request)


async def test_writes_through_an_installation_client_are_paced_reads_are_not(
    fake_github: FakeGitHub,
) -> None:
    pacer = WritePacer()
    pacer.write_interval, pacer.content_interval = 0.3, 0.6
    stamped = Stamped(httpx.ASGITransport(app=PrefixedApp(fake_github.app)))  # type: ignore[arg-type]
    gh = clients(fake_github, pacer=pacer, inner_transport=stamped)
    number = fake_github.add_issue("octo-org/hello", "One").number
    fake_github.add_label("octo-org/hello", "bug")
    client = await gh.installation(1)
    await client.rest.issues.async_get(*REPO, number)
    await client.rest.issues.async_get(*REPO, number)
    await client.rest.issues.async_update(*REPO, number, title="Two")
    await client.rest.issues.async_update_label(*REPO, "bug", color="ffffff")
    await client.rest.issues.async_create_comment(*REPO, number, body="a")
    await client.rest.issues.async_create_comment(*REPO, number, body="b")
    sent = [(m, t) for m, path, t in stamped.sent if not path.endswith("/access_tokens")]
    reads = [t for m, t in sent if m == "GET"]
    writes = [(m, t) for m, t in sent if m != "GET"]
    assert reads[1] - reads[0] < 0.25  # reads are never held back
    assert [m for m, _ in writes] == ["PATCH", "PATCH", "POST", "POST"]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(writes)]
    # A mutation waits the write interval; a comment (content) the longer one.
    assert gaps[0] >= 0.29 and gaps[1] >= 0.59 and gaps[2] >= 0.59, gaps


@pytest.mark.parametrize(
    ("method", "path", "body", "content"),
    [
        ("POST", "/repos/o/r/issues/1/comments", b"{}", True),
        ("POST", "/repos/o/r/pulls/1/comments/2/replies", b"{}", True),
        ("POST", "/repos/o/r/issues", b"{}", True),
        ("POST", "/repos/o/r/releases", b"{}", True),
        ("POST", "/repos/o/r/pulls", b"{}", True),
        ("POST", "/graphql", b'{"query": "mutation { addDiscussionComment }"}', True),
        ("POST", "/graphql", b'{"query": "mutation { addReaction }"}', False),
        ("POST", "/repos/o/r/issues/1/labels", b"{}", False),
        ("PATCH", "/repos/o/r/issues/1", b"{}", False),
        ("DELETE", "/repos/o/r/issues/comments/1", b"", False),
    ],
)
def test_which_writes_count_as_creating_content(
    method: str, path: str, body: bytes, content: bool
) -> None:
    request = httpx.Request(method, f"https://api.github.com{path}", content=body)
    assert creates_content(request) is content


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
