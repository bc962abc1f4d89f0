"""Named locks: what token minting and `ctx.lock` hold while only one may act.

A lock factory maps a name to an async context manager. This process's factory hands out
asyncio locks; `ghapp.scaleout` has the Redis-backed one that holds across workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

LockFactory = Callable[[str], AbstractAsyncContextManager[Any]]


def local_locks() -> LockFactory:
    locks: dict[str, asyncio.Lock] = {}

    def factory(name: str) -> AbstractAsyncContextManager[Any]:
        return locks.setdefault(name, asyncio.Lock())

    return factory
