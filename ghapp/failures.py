"""Which failures heal by waiting: the one test the bus and every skill share.

GitHub down (5xx, a timeout, the connection lost), a rate limit, or Redis (through which
tokens, locks and pacing pass) unavailable: none of these is the skill's fault, and the
whole delivery is tried again later. A skill that catches exceptions to turn them into a
friendly line re-raises these:

    except Exception as exc:
        if is_transient(exc):
            raise
        ...

Everything else is final for the skill that raised it.
"""

from __future__ import annotations

from ghapp.github import GitHubUnavailable, RetryLater, classify_failure

__all__ = ["is_transient", "transient_failure"]


def transient_failure(exc: BaseException) -> RetryLater | GitHubUnavailable | None:
    """`exc` as the reason to try again later (with GitHub's wait, for a rate limit), or
    None when waiting will not help."""
    if isinstance(exc, RetryLater | GitHubUnavailable):
        return exc
    found = classify_failure(exc)
    return found if isinstance(found, RetryLater | GitHubUnavailable) else None


def is_transient(exc: BaseException) -> bool:
    """Whether trying the delivery again later may succeed where this attempt failed."""
    return transient_failure(exc) is not None
