"""githubkit clients for the App, each installation and a signed-in person, built once.

Every client shares one transport (`ghapp.github.transport`), one retry policy
(`ghapp.github.retry`) and one token cache; each installation's client also gets that
installation's write pacing (`ghapp.github.pacing`) and tokens minted single-flight
(`ghapp.github.tokens`). Installation clients are kept (least recently used dropped
first), since building one costs more than a request, and each kept client sends all its
requests through one httpx client (`ghapp.github.kept_client`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from githubkit.throttling import BaseThrottler

from ghapp.github.kept_client import KeptClientGitHub
from ghapp.github.locks import LockFactory, local_locks
from ghapp.github.network import asyncio_transport
from ghapp.github.pacing import InstallationThrottler, NoPacing
from ghapp.github.rate_limits import LocalRateLimitHolds, RateLimitHolds
from ghapp.github.retry import RetryPolicy
from ghapp.github.tokens import InstallationTokens
from ghapp.github.transport import GitHubTransport, InstallationTransport
from ghapp.metrics import Metrics


@dataclass
class AppInfo:
    id: int
    slug: str
    name: str
    html_url: str
    owner: str | None = None


@dataclass
class GitHubClients:
    """Builds and keeps githubkit clients; created by the runtime, never a module global."""

    app_id: int
    private_key: str = field(repr=False)
    api_url: str
    metrics: Metrics | None = None
    dry_run: bool = False
    pacer: Any = field(default_factory=NoPacing)
    cache_strategy: BaseCacheStrategy = field(default_factory=MemCacheStrategy)
    locks: LockFactory = field(default_factory=local_locks)
    inner_transport: httpx.AsyncBaseTransport | None = None
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    max_cached_clients: int = 20_000
    # GitHub's rate limits held per installation (Redis-backed across workers).
    rate_limits: RateLimitHolds = field(default_factory=LocalRateLimitHolds)

    def __post_init__(self) -> None:
        self.transport = GitHubTransport(
            self.inner_transport or asyncio_transport(httpx.Limits(max_connections=50)),
            metrics=self.metrics,
            dry_run=self.dry_run,
        )
        self._installations: OrderedDict[int, KeptClientGitHub[Any]] = OrderedDict()
        self._app_info: AppInfo | None = None
        self.app: KeptClientGitHub[AppAuthStrategy] = self._github(
            AppAuthStrategy(
                str(self.app_id),
                self.private_key,
                client_id=self.client_id,
                client_secret=self.client_secret,
            ),
            kept=True,
        )
        self.tokens = InstallationTokens(self.app, self._strategy, self.cache_strategy, self.locks)

    def _github(
        self,
        auth: Any,
        throttler: BaseThrottler | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        kept: bool = False,
    ) -> Any:
        # Kept clients (the App, each installation) reuse one httpx client; a signed-in
        # person's client lives for one page view, so it keeps githubkit's default.
        return (KeptClientGitHub if kept else GitHub)(
            auth,
            base_url=self.api_url + "/",
            async_transport=transport or self.transport,
            cache_strategy=self.cache_strategy,
            # The HTTP cache would swallow the timeout (LIBRARIES.md); conditional requests
            # for repository config are made explicitly in repo_config.py.
            http_cache=False,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
            auto_retry=self.retry,
            throttler=throttler,
            user_agent="ghapp",
        )

    def _strategy(self, installation_id: int) -> AppInstallationAuthStrategy:
        return AppInstallationAuthStrategy(str(self.app_id), self.private_key, installation_id)

    async def installation(self, installation_id: int) -> GitHub[Any]:
        """A client authenticated as the installation, its token minted at most once."""
        await self.tokens.ensure(installation_id)
        client = self._installations.get(installation_id)
        if client is None:
            client = self._github(
                self._strategy(installation_id),
                InstallationThrottler(self.pacer, installation_id),
                InstallationTransport(
                    self.transport, installation_id, self.tokens.forget, self.rate_limits
                ),
                kept=True,
            )
            self._installations[installation_id] = client
            if len(self._installations) > self.max_cached_clients:
                # Not closed: a task may still hold it, and it owns no connections.
                self._installations.popitem(last=False)
        else:
            self._installations.move_to_end(installation_id)
        return client

    def user(self, token: str) -> GitHub[TokenAuthStrategy]:
        """A client acting as a signed-in person (settings page)."""
        return self._github(TokenAuthStrategy(token))

    async def app_info(self) -> AppInfo:
        """`GET /app`, read once: the slug is what people @mention."""
        if self._app_info is None:
            data = (await self.app.rest.apps.async_get_authenticated()).parsed_data
            if data is None:
                raise RuntimeError("GET /app returned no App")
            owner = getattr(data.owner, "login", None) if data.owner else None
            self._app_info = AppInfo(
                id=data.id,
                slug=str(data.slug or data.name),
                name=data.name,
                html_url=data.html_url,
                owner=owner,
            )
        return self._app_info

    async def close(self) -> None:
        for client in [self.app, *self._installations.values()]:
            await client.aclose_kept()
        await self.transport.close()
