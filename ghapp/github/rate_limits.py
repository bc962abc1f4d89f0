"""GitHub's rate limits held per installation: after GitHub says "stop", nothing is sent
for that installation until it said to resume, by any job on any worker.

After a primary rate limit (403/429 with `x-ratelimit-remaining: 0`) no request for the
installation goes out before `x-ratelimit-reset`; after a secondary one (`retry-after`,
or a 403 whose message names a secondary rate limit) none before `retry-after` (60 s
when GitHub gives no time, as Octokit's throttling plugin waits). Retrying only the
request that hit the limit is not enough: other jobs for the same installation (config
reads, reactions) would keep sending, which GitHub counts against the integration.

`InstallationTransport` asks the holds before each request and answers a held request
itself, as GitHub would (a 403 with `retry-after`), so githubkit, the retry policy and
the queue treat it as the rate limit it is: a short wait is slept, a long one goes back
to the queue. `LocalRateLimitHolds` holds within this process; the Redis-backed holds in
`ghapp.scaleout` hold across workers. Times are Unix times, the clock GitHub's
`x-ratelimit-reset` uses.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

import httpx

NO_TIME_GIVEN = 60.0  # seconds: Octokit's wait when GitHub names no time


class RateLimitHolds(Protocol):
    """Until when (Unix time) requests for an installation are held."""

    async def held_until(self, installation_id: int) -> float | None: ...
    async def hold(self, installation_id: int, until: float) -> None: ...


class LocalRateLimitHolds:
    """The holds of one process (no REDIS_URL: one process does all the work)."""

    def __init__(self) -> None:
        self._until: dict[int, float] = {}

    async def held_until(self, installation_id: int) -> float | None:
        until = self._until.get(installation_id)
        if until is not None and until <= time.time():
            del self._until[installation_id]
            return None
        return until

    async def hold(self, installation_id: int, until: float) -> None:
        self._until[installation_id] = max(until, self._until.get(installation_id, 0.0))


async def hold_from(response: httpx.Response, now: float) -> float | None:
    """Until when GitHub asked for no more requests, from a response; None: no limit."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isascii() and retry_after.isdigit():
        return now + int(retry_after)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isascii() and reset.isdigit():
            return float(reset)
        return now + NO_TIME_GIVEN
    if response.status_code == 403:
        body = await response.aread()
        if b"secondary rate limit" in body.lower():
            return now + NO_TIME_GIVEN
    return None


def held_response(request: httpx.Request, installation_id: int, until: float) -> httpx.Response:
    """GitHub's answer to a request it asked not to get yet, made here, nothing sent."""
    wait = max(1, math.ceil(until - time.time()))
    return httpx.Response(
        403,
        headers={
            "retry-after": str(wait),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(math.ceil(until)),
        },
        json={
            "message": f"Not sent: GitHub's rate limit for installation {installation_id} "
            f"holds requests for {wait} s more (ghapp)."
        },
        request=request,
    )
