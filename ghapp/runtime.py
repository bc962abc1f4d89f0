"""The application factory's parts: builds every service from Settings, once, and wires them.

Nothing is a module global: tests and `ghapp receive` build their own Runtime. With
`REDIS_URL` the queue, token cache, config cache, locks and pacing come from the
`ghapp.scaleout` parts handed in (built from Settings when none are given); otherwise
everything lives in this process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from pydantic import BaseModel

from ghapp.bus import Bus, invalid_section, load_skills
from ghapp.config import Settings
from ghapp.config_check import ConfigCheck
from ghapp.context import RepoRef
from ghapp.github import (
    GitHubClients,
    LocalRateLimitHolds,
    NoPacing,
    RateLimitHolds,
    RetryPolicy,
    WritePacer,
    local_locks,
    warm_up_rest,
)
from ghapp.metrics import Metrics
from ghapp.options import OptionsResolver
from ghapp.queue import Queue
from ghapp.queue.inline import InlineQueue
from ghapp.repo_config import MemoryConfigCache, RepoConfigLoader
from ghapp.scaleout import ScaleOutParts
from ghapp.scaleout import build as build_scaleout
from ghapp.scheduler import PeriodicScheduler
from ghapp.services import HandlerServices
from ghapp.skill import Skill
from ghapp.store import (
    Database,
    Delivery,
    DeliveryStore,
    EffectStore,
    InstallationStore,
    PeriodicRunStore,
    RepoConfigStore,
    SwitchStore,
    TaskStore,
)
from ghapp.store.database import utcnow
from ghapp.worker import DeliveryProcessor

log = logging.getLogger("ghapp.runtime")


@dataclass
class RuntimeOptions:
    """Knobs for tests and benchmarks; production uses the defaults."""

    skills: list[Skill] | None = None  # None: the installed entry points
    extra_skills: list[Skill] = field(default_factory=list)
    inner_transport: httpx.AsyncBaseTransport | None = None
    cache_strategy: BaseCacheStrategy | None = None
    retry: RetryPolicy | None = None
    retry_delay: float = 30.0
    concurrency: int = 8
    scheduler_tick: float = 30.0
    github_timeout: float = 10.0
    # Load githubkit's lazy modules before serving (`ghapp run`, `ghapp worker`; tests
    # leave it off: it costs seconds, once per process).
    warm_up: bool = False
    # Migrate a SQLite file from a child process (`ghapp run`): a long-lived process does
    # not keep Alembic's ~6 MiB for the migration of its first start (`store.migrate`).
    migrate_apart: bool = False


# ghapp's own secrets: no skill is handed them through `operator_settings`.
CORE_SECRETS = frozenset({"private_key", "webhook_secrets", "client_secret", "session_secret"})


def operator_settings(skills: dict[str, Skill], settings: Settings) -> dict[str, BaseModel]:
    """Each skill's `operator_settings` model, filled from the Settings fields it names."""
    found: dict[str, BaseModel] = {}
    for name, skill in skills.items():
        model = skill.operator_settings
        if model is None:
            continue
        wanted = set(model.model_fields) & set(Settings.model_fields)
        if wanted & CORE_SECRETS:
            raise ValueError(f"skill {name} asks for ghapp's own secrets: {sorted(wanted)}")
        found[name] = model.model_validate({field: getattr(settings, field) for field in wanted})
    return found


class Runtime:
    def __init__(
        self,
        settings: Settings,
        options: RuntimeOptions | None = None,
        *,
        scaleout: ScaleOutParts | None = None,
    ) -> None:
        if not settings.configured or settings.app_id is None or settings.private_key is None:
            raise ValueError("Runtime needs a configured App (APP_ID and PRIVATE_KEY)")
        self.settings = settings
        self.options = options = options or RuntimeOptions()
        self.metrics = Metrics()
        self.db = Database(settings.database_url)
        self.deliveries = DeliveryStore(self.db)
        self.installations = InstallationStore(self.db)
        self.switches = SwitchStore(self.db)
        self.effects = EffectStore(self.db)
        self.tasks = TaskStore(self.db)
        self.repo_configs = RepoConfigStore(self.db)
        self.periodic_runs = PeriodicRunStore(self.db)

        skills = (
            {s.name: s for s in options.skills}
            if options.skills is not None
            else load_skills(options.extra_skills)
        )
        self.skills = skills
        cache_strategy = options.cache_strategy or MemCacheStrategy()
        pacer: Any = WritePacer() if settings.pacing else NoPacing()
        locks = local_locks()
        rate_limits: RateLimitHolds = LocalRateLimitHolds()
        config_cache: Any = MemoryConfigCache()
        self.queue: Queue
        if scaleout is None and settings.redis_url:
            scaleout = build_scaleout(settings)
        self.scaleout = scaleout
        if scaleout is not None:
            cache_strategy = options.cache_strategy or scaleout.cache_strategy
            pacer = scaleout.pacer if settings.pacing else NoPacing()
            locks = scaleout.locks
            rate_limits = scaleout.rate_limits
            config_cache = scaleout.config_cache
            self.queue = scaleout.queue(self.deliveries, self.tasks, options.concurrency)
        else:
            self.queue = InlineQueue(self.deliveries, self.tasks, concurrency=options.concurrency)

        self.clients = GitHubClients(
            app_id=settings.app_id,
            private_key=settings.private_key.get_secret_value(),
            api_url=settings.github_api_url,
            metrics=self.metrics,
            dry_run=settings.dry_run,
            pacer=pacer,
            cache_strategy=cache_strategy,
            locks=locks,
            inner_transport=options.inner_transport,
            timeout=options.github_timeout,
            retry=options.retry or RetryPolicy(),
            rate_limits=rate_limits,
            client_id=settings.client_id,
            client_secret=(
                settings.client_secret.get_secret_value() if settings.client_secret else None
            ),
        )
        self.config_loader = RepoConfigLoader(cache=config_cache)
        self.options_resolver = OptionsResolver(
            skills, self.switches, self.repo_configs, self.config_loader
        )
        for skill in skills.values():
            for counter in skill.counters.values():
                self.metrics.add_skill_counter(counter.name, counter.description, counter.labels)
        services = HandlerServices(
            skills,
            self.options_resolver,
            self.effects,
            locks=locks,
            tasks=self.queue,
            operator=operator_settings(skills, settings),
            counter=self.metrics.count,
        )
        self.bus = Bus(
            skills=skills,
            clients=self.clients,
            deliveries=self.deliveries,
            installations=self.installations,
            resolver=self.options_resolver,
            services=services,
            metrics=self.metrics,
            core=[ConfigCheck(self.options_resolver).skill],
            periodic_runs=self.periodic_runs,
            dry_run=settings.dry_run,
            retry_delay=options.retry_delay,
        )
        # What ingress queues; everything else is stored as ignored.
        self.queued_events = self.bus.queued_events
        self.processor = DeliveryProcessor(
            self.deliveries, self.installations, self.bus, self.metrics
        )
        self.scheduler = PeriodicScheduler(
            skills, self.installations, self.tasks, self.queue, options.scheduler_tick
        )
        self._stop = asyncio.Event()
        self._scheduler_task: asyncio.Task[None] | None = None
        self.workers_running = False

    async def prepare(self) -> None:
        """Apply migrations on SQLite (PostgreSQL: `ghapp db upgrade`, run once per deploy),
        and warm up (RuntimeOptions.warm_up) for the web app's workers."""
        if self.db.is_sqlite:
            await self.db.upgrade(apart=self.options.migrate_apart and not self.db.in_memory)
        if self.options.warm_up:
            await self.warm_up()

    async def warm_up(self) -> None:
        """Load, before the first delivery, what githubkit loads on first use: the REST
        methods' models (`ghapp.github.warm_up`). Not the webhook models ingress checks
        shapes against: those of every handled event would add ~135 MiB and seconds of
        CPU to each process at start, for events that may never arrive."""
        started = time.perf_counter()
        # In a thread: activated from setup mode, the web app keeps answering meanwhile.
        await asyncio.to_thread(warm_up_rest, self.clients.app)
        log.info(
            "githubkit warmed up",
            extra={"duration_ms": round((time.perf_counter() - started) * 1000)},
        )

    async def start_workers(self) -> None:
        await self.queue.start_workers(self.processor)
        if self.options.scheduler_tick > 0:  # 0: ticks are driven by hand (tests)
            self._scheduler_task = asyncio.create_task(self.scheduler.run(self._stop))
        self.workers_running = True

    async def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self.workers_running:
            await self.queue.stop(timeout)
        if self._scheduler_task is not None:
            await asyncio.gather(self._scheduler_task, return_exceptions=True)
        await self.clients.close()
        if self.scaleout is not None:
            await self.scaleout.close()
        await self.db.close()

    async def queue_depth(self) -> int:
        return await self.queue.depth()

    async def unavailable(self) -> list[str]:
        """What is down, for /readyz: the database, and Redis when configured."""
        down = []
        try:
            await self.db.ping()
        except Exception as exc:
            down.append(f"database: {type(exc).__name__}")
        try:
            await self.queue.ping()
        except Exception as exc:
            down.append(f"redis: {type(exc).__name__}")
        return down

    async def render_metrics(self) -> bytes:
        """The Prometheus text for /metrics, with the queue depth read now."""
        try:
            self.metrics.queue_depth.set(await self.queue_depth())
        except Exception:
            log.warning("queue depth unavailable for /metrics")
        return self.metrics.render()

    async def redeliver(self, delivery: Delivery) -> None:
        """Queue a stored delivery again; the skills that finished it stay done."""
        await self.deliveries.requeue(delivery.id, utcnow(), delivery.error)
        await self.queue.enqueue_delivery(delivery.id, delivery.ordering_key)

    async def repository_options(
        self, installation_id: int, full_name: str
    ) -> dict[str, tuple[BaseModel, bool] | str]:
        """Each skill's options in one repository, as a delivery there gets them, or,
        when the skill's section is invalid (so it would do nothing), why: the reason a
        delivery's skipped run stores, the line to fix included."""
        repo = RepoRef.parse(full_name)
        gh = await self.clients.installation(installation_id)
        config = await self.options_resolver.load_config(gh, repo)
        resolved: dict[str, tuple[BaseModel, bool] | str] = {}
        for name, skill in self.skills.items():
            found = await self.options_resolver.options_for(skill, config, repo)
            if found is None:
                resolved[name] = invalid_section(skill, config, repo).encode()
            else:
                resolved[name] = found
        return resolved
