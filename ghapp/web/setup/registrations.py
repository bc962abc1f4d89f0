"""Registrations sent to GitHub and not yet come back: the manifest flow's `state`.

Each `state` is random, bound to the browser that started it (`access.py`), good for one
callback, and forgotten after an hour (GitHub's manifest codes expire after an hour as
well). What is kept is bounded twice, and only browsers holding the setup token can add
to it: a browser keeps its latest few registrations (its own oldest are forgotten
first), and when too many are under way in all, a new one is refused rather than
another browser's forgotten.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

STATE_TTL = 3600.0  # seconds; GitHub's manifest codes are valid for one hour as well
MAX_PENDING = 100  # registrations under way in all; beyond, new ones are refused
MAX_PER_BROWSER = 5  # a browser's own oldest registrations are forgotten first


@dataclass(frozen=True)
class PendingRegistration:
    """A registration sent to GitHub and not yet come back."""

    base_url: str
    organization: str | None  # None: the signed-in person's own account
    replace: bool  # the person agreed to replace an App already in `.env`
    expires_at: float
    browser: str = ""  # the setup cookie's browser id that started it


class PendingRegistrations:
    """`state` values handed out, each good for one callback within `ttl` seconds."""

    def __init__(self, ttl: float = STATE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._pending: OrderedDict[str, PendingRegistration] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pending)

    def start(
        self, base_url: str, organization: str | None, replace: bool, browser: str = ""
    ) -> str | None:
        """A new `state` for `browser`; None when too many registrations are under way."""
        now = self.clock()
        for state in [s for s, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[state]
        own = [s for s, p in self._pending.items() if p.browser == browser]
        for state in own[: max(0, len(own) - MAX_PER_BROWSER + 1)]:
            del self._pending[state]
        if len(self._pending) >= MAX_PENDING:
            return None
        state = secrets.token_urlsafe(32)
        self._pending[state] = PendingRegistration(
            base_url, organization, replace, now + self.ttl, browser
        )
        return state

    def take(self, state: str, browser: str = "") -> PendingRegistration | None:
        """The registration `state` names, once, for the browser that started it; None
        when unknown, used, expired or started by another browser (then it stays for
        its own browser)."""
        pending = self._pending.get(state)
        if pending is None or pending.browser != browser:
            return None
        del self._pending[state]
        if pending.expires_at <= self.clock():
            return None
        return pending
