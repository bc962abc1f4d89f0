"""When a failed GitHub request is tried again, and when the whole delivery is.

`RetryPolicy` is githubkit's `auto_retry` hook: it never repeats a write that may have
happened and never sleeps long inside a job. `classify_failure` turns what is left into
`RetryLater` (GitHub asked for a wait longer than a job should sleep: the queue waits
instead) or `GitHubUnavailable` (worth trying the delivery again later), or None for a
failure that waiting will not heal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.retry import RetryOption
from redis.exceptions import RedisError

from ghapp.github.request_kinds import is_write

# Longest wait a job may sleep for a rate limit before handing the delivery back.
MAX_INLINE_WAIT = timedelta(seconds=10)


class RetryLater(Exception):
    """GitHub asked us to wait longer than a job should sleep; requeue after `delay`."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class GitHubUnavailable(Exception):
    """GitHub (or the Redis ghapp reaches it through) failed in a way worth retrying the
    whole delivery later (5xx, timeout, connection lost)."""


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
    if isinstance(exc, RequestFailed) and exc.response.status_code == 401:
        request = request_of(exc)
        if request is not None and request.headers.get("authorization", "").startswith("token "):
            # An installation token refused on every try, each with a token minted afresh
            # (RetryPolicy): the App's own key still works, so the next attempt may well
            # succeed; a 401 to the App's own JWT is final.
            return GitHubUnavailable("GitHub refused the installation's fresh tokens")
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
