"""Installation tokens minted once, however many jobs want one at the same moment.

githubkit mints and caches installation tokens itself, but with no single-flight: ten
concurrent first requests mint ten tokens. Here the first mint per installation happens
under a lock (`ghapp.github.locks`, Redis-backed across workers), and the token is stored
under githubkit's own cache key, so githubkit's auth flow then finds the token minted
here instead of minting another.

Two things lean on githubkit 0.16's insides (the version is pinned): the cache key is
githubkit's private installation cache key, and a refused token is "forgotten" by
writing an empty value, because githubkit's cache has no delete.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub
from githubkit.auth.app import AppAuth
from githubkit.cache import AsyncBaseCache, BaseCacheStrategy

from ghapp.github.locks import LockFactory


class InstallationTokens:
    """Single-flight minting and forgetting of installation tokens in githubkit's cache."""

    def __init__(
        self,
        app: GitHub[AppAuthStrategy],
        strategy: Callable[[int], AppInstallationAuthStrategy],
        cache_strategy: BaseCacheStrategy,
        locks: LockFactory,
    ) -> None:
        self.app = app
        self.strategy = strategy
        self.cache_strategy = cache_strategy
        self.locks = locks

    def cache_key(self, installation_id: int) -> str:
        # githubkit's own cache key for this installation's token, so that a token minted
        # here is the one githubkit's auth flow finds (private API, pinned githubkit 0.16).
        flow = self.strategy(installation_id).get_auth_flow(self.app)
        assert isinstance(flow, AppAuth)
        return flow._get_installation_cache_key()

    async def storage(self) -> AsyncBaseCache:
        return await self.cache_strategy.get_async_cache_storage()

    async def ensure(self, installation_id: int) -> None:
        """Mint the installation token once, even when many jobs start at the same time."""
        key = self.cache_key(installation_id)
        storage = await self.storage()
        if await storage.aget(key):
            return
        async with self.locks(f"token:{installation_id}"):
            if await storage.aget(key):
                return
            response = await self.app.rest.apps.async_create_installation_access_token(
                installation_id
            )
            data = response.parsed_data
            expires = datetime.strptime(data.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            ttl = expires - datetime.now(UTC) - timedelta(minutes=1)
            await storage.aset(key, data.token, max(ttl, timedelta(seconds=1)))

    async def forget(self, installation_id: int) -> None:
        # githubkit's cache has no delete; an empty value reads as "no token".
        storage = await self.storage()
        await storage.aset(self.cache_key(installation_id), "", timedelta(seconds=1))
