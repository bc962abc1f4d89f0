"""Registrations sent to GitHub and not yet come back: the manifest flow's `state`.

Each `state` is random, good for one callback, and forgotten after an hour (GitHub's
manifest codes expire after an hour as well); the oldest are dropped first when too many
are started and never finished.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

STATE_TTL = 3600.0  # seconds; GitHub's manifest codes are valid for one hour as well
MAX_PENDING = 100  # registrations started and not finished; the oldest are forgotten first


@dataclass(frozen=True)
class PendingRegistration:
    """A registration sent to GitHub and not yet come back."""

    base_url: str
    organization: str | None  # None: the signed-in person's own account
    replace: bool  # the person agreed to replace an App already in `.env`
    expires_at: float


class PendingRegistrations:
    """`state` values handed out, each good for one callback within `ttl` seconds."""

    def __init__(self, ttl: float = STATE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._pending: OrderedDict[str, PendingRegistration] = OrderedDict()

    def start(self, base_url: str, organization: str | None, replace: bool) -> str:
        now = self.clock()
        for state in [s for s, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[state]
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
        state = secrets.token_urlsafe(32)
        self._pending[state] = PendingRegistration(base_url, organization, replace, now + self.ttl)
        return state

    def take(self, state: str) -> PendingRegistration | None:
        """The registration `state` names, once; None when unknown, used or expired."""
        pending = self._pending.pop(state, None)
        if pending is None or pending.expires_at <= self.clock():
            return None
        return pending
