"""Periodic jobs that skills declare: each period, once across all workers.

Every process that runs workers ticks; the first to claim (job, period) in the database
queues one task per installation or repository, and whichever worker is free runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from ghapp.queue import Queue
from ghapp.skill import Skill
from ghapp.store import InstallationStore, StoredTask, TaskStore
from ghapp.store.database import utcnow

log = logging.getLogger("ghapp.scheduler")


@dataclass
class PeriodicScheduler:
    skills: dict[str, Skill]
    installations: InstallationStore
    tasks: TaskStore
    queue: Queue
    tick_seconds: float = 30.0

    async def tick(self, now: float | None = None) -> int:
        """Queue the jobs whose period began; returns how many tasks were queued."""
        now = time.time() if now is None else now
        queued = 0
        for skill in self.skills.values():
            for periodic in skill.periodics.values():
                period = int(now // periodic.every.total_seconds())
                job = f"{skill.name}:{periodic.name}"
                if not await self.tasks.claim_period(job, period):
                    continue
                if periodic.per == "installation":
                    scopes = [(iid, None) for iid in await self.installations.active_ids()]
                else:
                    active = set(await self.installations.active_ids())
                    scopes = [
                        (iid, repo)
                        for iid, repo in await self.installations.repositories()
                        if iid in active
                    ]
                for iid, repo in scopes:
                    task = StoredTask(
                        key=f"periodic:{job}:{iid}:{repo or ''}:{period}",
                        skill=skill.name,
                        name=periodic.name,
                        installation_id=iid,
                        repository=repo,
                        # The period, so the run's record says which one it was.
                        args={"period": period},
                        run_at=utcnow(),
                    )
                    queued += await self.queue.enqueue_task(task, 0.0)
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("periodic scheduler tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_seconds)
