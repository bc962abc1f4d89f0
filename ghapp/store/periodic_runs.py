"""The last run of each periodic job, per installation and repository, and how it ended.

The bus writes one row per (job, installation, repository) when a periodic task ends,
replacing the previous one; the settings page reads an installation's rows to show when
the scheduled work last ran and what came of it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ghapp.store.database import Database, as_utc, utcnow
from ghapp.store.tables import periodic_runs


@dataclass(frozen=True)
class PeriodicRun:
    job: str  # "skill:periodic", e.g. "label-sync:repair"
    installation_id: int
    repository: str | None
    period: int
    outcome: str  # ok | error | skipped | retry
    detail: str | None
    finished_at: datetime

    @property
    def skill(self) -> str:
        return self.job.partition(":")[0]

    @property
    def name(self) -> str:
        return self.job.partition(":")[2]


class PeriodicRunStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        job: str,
        installation_id: int,
        repository: str | None,
        period: int,
        outcome: str,
        detail: str | None = None,
    ) -> None:
        """Keep this run as the last one of `job` there (an earlier row is replaced)."""
        values = {
            "period": period,
            "outcome": outcome,
            "detail": (detail or None) and detail[:500],
            "finished_at": utcnow(),
        }
        key = {"job": job, "installation_id": installation_id, "repository": repository or ""}
        async with self.db.begin() as conn:
            await conn.execute(
                self.db.insert(periodic_runs)
                .values(**key, **values)
                .on_conflict_do_update(index_elements=list(key), set_=values)
            )

    async def for_installation(
        self, installation_id: int, *, repositories: Collection[str] | None = None
    ) -> list[PeriodicRun]:
        """The last run of every periodic job in one installation, by job then repository.

        `repositories`: only those (the ones the viewer can see; names compared without
        case, as GitHub does) and the installation-wide jobs; None: all."""
        query = (
            select(periodic_runs)
            .where(periodic_runs.c.installation_id == installation_id)
            .order_by(periodic_runs.c.job, periodic_runs.c.repository)
        )
        async with self.db.connect() as conn:
            runs = [_run(row) for row in await conn.execute(query)]
        if repositories is None:
            return runs
        visible = {name.casefold() for name in repositories}
        return [r for r in runs if r.repository is None or r.repository.casefold() in visible]


def _run(row: Any) -> PeriodicRun:
    return PeriodicRun(
        job=row.job,
        installation_id=row.installation_id,
        repository=row.repository or None,
        period=row.period,
        outcome=row.outcome,
        detail=row.detail,
        finished_at=as_utc(row.finished_at) or utcnow(),
    )
