"""Scale-out parts, built when REDIS_URL is set: everything workers must share goes
through Redis.

- the job queue (`ghapp.queue.redis`, on saq);
- installation tokens: githubkit's own `AsyncRedisCacheStrategy`, so N workers mint
  about one token per installation per hour, not N;
- locks (single-flight token minting, `ctx.lock`): redis-py locks that free themselves
  soon after a holder dies;
- write pacing per installation across all workers (`RedisWritePacer`);
- GitHub's rate limits held per installation across all workers (`RedisRateLimitHolds`);
- the `.github/ghapp.yml` ETag cache (`RedisConfigCache`).

Every key lives under `ghapp:<APP_ID>:` (saq's under `saq:ghapp:<APP_ID>`), so two Apps,
or test runs, can share one Redis without seeing each other's keys.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from githubkit.cache import AsyncRedisCacheStrategy, BaseCacheStrategy
from redis.asyncio import Redis

from ghapp.config import Settings
from ghapp.github import LockFactory
from ghapp.queue.redis import RedisQueue
from ghapp.queue.redis_lock import RenewedLock
from ghapp.store import DeliveryStore, TaskStore


def namespace_for(settings: Settings) -> str:
    """The key prefix of one deployment: one App's web and workers share it."""
    return f"ghapp:{settings.app_id}"


class RedisWritePacer:
    """`WritePacer` across workers: per installation, one mutation at a time (a Redis
    lock held around the request), mutations ≥1 s apart and content-creating ones ≥3 s
    (Octokit's throttling values), measured on Redis' clock so that machines whose
    clocks differ still agree. Different installations never wait for each other."""

    write_interval = 1.0
    content_interval = 3.0

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace

    async def _now(self) -> float:
        seconds, micros = await self.redis.time()
        return seconds + micros / 1_000_000

    @asynccontextmanager
    async def slot(self, installation_id: int, content: bool) -> AsyncIterator[None]:
        last_key = f"{self.namespace}:pace-last:{installation_id}"
        async with RenewedLock(self.redis, f"{self.namespace}:pace:{installation_id}"):
            interval = self.content_interval if content else self.write_interval
            last = await self.redis.get(last_key)
            if last is not None:
                wait = float(last) + interval - await self._now()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                yield
            finally:
                # Kept a little longer than the longest interval, then not needed.
                await self.redis.set(last_key, repr(await self._now()), ex=60)


class RedisRateLimitHolds:
    """`LocalRateLimitHolds` across workers: until when (Unix time) GitHub asked for no
    requests for an installation, one key each, gone once that time has passed."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:ratelimit-hold:"

    async def held_until(self, installation_id: int) -> float | None:
        raw = await self.redis.get(f"{self.prefix}{installation_id}")
        return None if raw is None else float(raw)

    async def hold(self, installation_id: int, until: float) -> None:
        key = f"{self.prefix}{installation_id}"
        current = await self.redis.get(key)
        if current is not None and float(current) >= until:
            return  # a longer hold already stands
        await self.redis.set(key, repr(until), exat=math.ceil(until) + 1)


# Stores an entry only if the repository's generation is still the one read before the
# request (a push seen meanwhile changed it): KEYS[1] the hash, ARGV generation field,
# expected generation, entry name, entry, ttl in seconds.
_SET_IF_SAME_GENERATION = """
local current = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

# Drops every entry of a repository but moves its generation on (deleting the hash would
# start it again from 0, which an answer in flight may carry): KEYS[1] the hash, ARGV the
# generation field and the ttl in seconds.
_FORGET_ALL = """
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if field ~= ARGV[1] then redis.call('HDEL', KEYS[1], field) end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


class RedisConfigCache:
    """What GitHub last said of each config file (`ghapp.repo_config.ConfigCache`), shared
    by all workers: one hash per repository, so a push drops its files in one command;
    its generation field keeps an answer fetched before the push from being stored after."""

    generation_field = "\0generation"  # ghapp.repo_config.cache.GENERATION

    def __init__(self, redis: Redis, namespace: str, ttl: timedelta = timedelta(days=1)) -> None:
        self.redis = redis
        self.prefix = f"{namespace}:config:"
        self.ttl = ttl
        self._set = redis.register_script(_SET_IF_SAME_GENERATION)
        self._forget_all = redis.register_script(_FORGET_ALL)

    async def get(self, repo: str, name: str) -> tuple[str | None, str]:
        raw, generation = await self.redis.hmget(self.prefix + repo, [name, self.generation_field])  # type: ignore[misc]
        return _text(raw), _text(generation) or "0"

    async def set(self, repo: str, name: str, entry: str, generation: str) -> None:
        await self._set(
            keys=[self.prefix + repo],
            args=[self.generation_field, generation, name, entry, int(self.ttl.total_seconds())],
        )

    async def forget(self, repo: str, names: Iterable[str] | None = None) -> None:
        key, ttl = self.prefix + repo, int(self.ttl.total_seconds())
        if names is None:
            await self._forget_all(keys=[key], args=[self.generation_field, ttl])
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            if names := list(names):
                pipe.hdel(key, *names)
            pipe.hincrby(key, self.generation_field, 1)
            pipe.expire(key, ttl)
            await pipe.execute()


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw


def redis_locks(redis: Redis, namespace: str) -> LockFactory:
    """Lock factory for GitHubClients: `token:<installation>` and `ctx.lock` names."""

    def factory(name: str) -> AbstractAsyncContextManager[Any]:
        return RenewedLock(redis, f"{namespace}:lock:{name}")

    return factory


@dataclass
class ScaleOutParts:
    """What workers share through one Redis connection pool, built from Settings alone;
    the runtime is handed these and makes its queue with `queue()`."""

    redis: Redis
    namespace: str
    cache_strategy: BaseCacheStrategy
    pacer: RedisWritePacer
    rate_limits: RedisRateLimitHolds
    locks: LockFactory
    config_cache: RedisConfigCache

    def queue(self, deliveries: DeliveryStore, tasks: TaskStore, concurrency: int) -> RedisQueue:
        return RedisQueue(
            self.redis,
            name=self.namespace,
            namespace=self.namespace,
            deliveries=deliveries,
            tasks=tasks,
            concurrency=concurrency,
        )

    async def close(self) -> None:
        await self.redis.aclose()


def build(settings: Settings) -> ScaleOutParts:
    """The scale-out parts of the deployment `settings` describe (REDIS_URL must be set)."""
    if settings.redis_url is None:
        raise ValueError("scale-out needs REDIS_URL")
    # Bytes replies: saq needs them, and githubkit's cache decodes them itself.
    redis: Redis = Redis.from_url(settings.redis_url, health_check_interval=30)
    namespace = namespace_for(settings)
    return ScaleOutParts(
        redis=redis,
        namespace=namespace,
        cache_strategy=AsyncRedisCacheStrategy(redis, prefix=f"{namespace}:cache"),
        pacer=RedisWritePacer(redis, namespace),
        rate_limits=RedisRateLimitHolds(redis, namespace),
        locks=redis_locks(redis, namespace),
        config_cache=RedisConfigCache(redis, namespace),
    )
