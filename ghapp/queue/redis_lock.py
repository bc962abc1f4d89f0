"""A Redis lock that outlives no dead holder and is never lost by a live one.

redis-py's `Lock` expires after a fixed time: short, and a slow holder loses it; long,
and a crashed holder blocks everyone until it expires. `RenewedLock` keeps the expiry
short and pushes it back while the holder lives. The scale-out queue orders deliveries
with it, and `ghapp.scaleout` paces writes and mints tokens under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger("ghapp.queue")


class RenewedLock:
    """A redis-py `Lock` that expires soon after its holder dies, yet is never lost while
    the holder lives: its expiry is pushed back every `ttl / 3` seconds until released.

    Usable as `async with` (waits for the lock) or through `acquire(blocking=False)`.
    """

    def __init__(self, redis: Redis, name: str, *, ttl: float = 20.0) -> None:
        self.ttl = ttl
        self._lock = Lock(redis, name, timeout=ttl, sleep=0.05, thread_local=False)
        self._renewer: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return str(self._lock.name)

    async def acquire(self, *, blocking: bool = True) -> bool:
        if not await self._lock.acquire(blocking=blocking):
            return False
        self._renewer = asyncio.create_task(self._renew(), name=f"renew {self.name}")
        return True

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        try:
            await self._lock.release()
        except LockError:
            log.warning("lock %s expired while held", self.name)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._lock.reacquire()
            except LockError:
                log.warning("lock %s was lost while held", self.name)
                return
            except RedisError:
                log.warning("could not renew lock %s; trying again", self.name)

    async def __aenter__(self) -> RenewedLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()
