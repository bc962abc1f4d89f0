"""GitHub access through githubkit: the App, each installation, a signed-in person.

githubkit does the authentication, token caching, typed models and pagination. Around
it, this package adds what a bot needs and githubkit leaves open (see LIBRARIES.md), one
concern per module:

- `transport`: the one transport every request passes — it stamps `X-GitHub-Delivery`,
  implements `DRY_RUN` (writes are logged, not sent), counts requests for `/metrics`,
  and forgets a token GitHub refused so the single retry mints a new one;
- `retry`: a retry policy that never repeats a write that may have happened and never
  sleeps long inside a job (`RetryLater` hands the wait back to the queue);
- `pacing`: writes paced per installation through githubkit's throttler hook;
- `rate_limits`: after GitHub's rate limit, nothing sent for that installation until
  its reset or `retry-after`, on any worker;
- `tokens`: single-flight token minting per installation (githubkit has none);
- `locks`: the named locks minting (and `ctx.lock`) hold;
- `clients`: the clients themselves, built once and kept (`kept_client`: each sends its
  requests through one httpx client);
- `warm_up`: githubkit's lazily loaded REST modules and models, loaded at start-up;
- `request_kinds`: reads, writes, token requests and content-creating requests told apart.

The names below are the package's interface; import them from `ghapp.github`.
"""

from ghapp.github.clients import AppInfo, GitHubClients
from ghapp.github.locks import LockFactory, local_locks
from ghapp.github.pacing import InstallationThrottler, NoPacing, WritePacer
from ghapp.github.rate_limits import LocalRateLimitHolds, RateLimitHolds
from ghapp.github.request_kinds import READ_METHODS, creates_content, is_token_request, is_write
from ghapp.github.retry import (
    MAX_INLINE_WAIT,
    GitHubUnavailable,
    RetryLater,
    RetryPolicy,
    classify_failure,
    request_of,
)
from ghapp.github.tokens import InstallationTokens
from ghapp.github.transport import (
    GitHubTransport,
    InstallationTransport,
    JournalEntry,
    current_delivery,
    request_journal,
)
from ghapp.github.warm_up import warm_up_rest

__all__ = [
    "MAX_INLINE_WAIT",
    "READ_METHODS",
    "AppInfo",
    "GitHubClients",
    "GitHubTransport",
    "GitHubUnavailable",
    "InstallationThrottler",
    "InstallationTokens",
    "InstallationTransport",
    "JournalEntry",
    "LocalRateLimitHolds",
    "LockFactory",
    "NoPacing",
    "RateLimitHolds",
    "RetryLater",
    "RetryPolicy",
    "WritePacer",
    "classify_failure",
    "creates_content",
    "current_delivery",
    "is_token_request",
    "is_write",
    "local_locks",
    "request_journal",
    "request_of",
    "warm_up_rest",
]
