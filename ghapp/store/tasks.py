"""Deferred skill work kept durable for the in-process queue, and periodic-job claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from ghapp.store.database import Database, as_utc, utcnow
from ghapp.store.tables import periodic_claims, tasks


@dataclass
class StoredTask:
    key: str
    skill: str
    name: str
    installation_id: int | None
    repository: str | None
    args: dict[str, Any]
    run_at: datetime


class TaskStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, task: StoredTask) -> bool:
        """Store a task unless one with the same key is pending (that one coalesces it)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                self.db.insert(tasks)
                .values(
                    key=task.key,
                    skill=task.skill,
                    name=task.name,
                    installation_id=task.installation_id,
                    repository=task.repository,
                    args=task.args,
                    run_at=task.run_at,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
        return result.rowcount == 1

    async def take(self, key: str) -> StoredTask | None:
        """Remove and return a pending task (so events after this point schedule anew)."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(tasks).where(tasks.c.key == key))).first()
            if row is None:
                return None
            await conn.execute(delete(tasks).where(tasks.c.key == key))
        return _task(row)

    async def pending(self) -> list[StoredTask]:
        async with self.db.connect() as conn:
            return [_task(r) for r in await conn.execute(select(tasks).order_by(tasks.c.run_at))]

    async def claim_period(self, job: str, period: int) -> bool:
        """True for exactly one caller per (job, period) across all workers."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                self.db.insert(periodic_claims)
                .values(job=job, period=period, claimed_at=utcnow())
                .on_conflict_do_nothing(index_elements=["job", "period"])
            )
        return result.rowcount == 1


def _task(row: Any) -> StoredTask:
    return StoredTask(
        key=row.key,
        skill=row.skill,
        name=row.name,
        installation_id=row.installation_id,
        repository=row.repository,
        args=row.args or {},
        run_at=as_utc(row.run_at) or utcnow(),
    )
