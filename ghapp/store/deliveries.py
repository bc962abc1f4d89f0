"""Deliveries and the outcome of each skill on each delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)

from ghapp.store import direct
from ghapp.store.database import AsyncConnection, Database, as_utc, utcnow
from ghapp.store.raw_insert import COLUMNS, PostgresRecord, SqliteRecord
from ghapp.store.tables import deliveries, skill_runs

UNFINISHED = ("queued", "running")
# The statements of every delivery, built once: building one per call cost five times
# its execution on SQLite (issue 17).
_CLAIM = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("d"), deliveries.c.status.in_(UNFINISHED))
    .values(status="running", attempts=deliveries.c.attempts + 1)
    .returning(*deliveries.c)
)
_FINISH = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("d"))
    .values(
        status=bindparam("s"), error=bindparam("e"), finished_at=bindparam("at"), not_before=None
    )
)
_ME = deliveries.alias("me")
_OTHER = deliveries.alias("other")
_OLDER = (  # checked before every job of the Redis queue (ordering per issue)
    select(_OTHER.c.id, _OTHER.c.ordering_key, _OTHER.c.not_before)
    .select_from(_ME.join(_OTHER, _OTHER.c.ordering_key == _ME.c.ordering_key))
    .where(
        _ME.c.id == bindparam("d"),
        _OTHER.c.status.in_(UNFINISHED),
        or_(
            _OTHER.c.received_at < _ME.c.received_at,
            and_(_OTHER.c.received_at == _ME.c.received_at, _OTHER.c.id < _ME.c.id),
        ),
    )
    .order_by(_OTHER.c.received_at, _OTHER.c.id)
    .limit(1)
)
_REQUEUE = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("d"))
    .values(status="queued", error=bindparam("e"), not_before=bindparam("nb"))
)


@dataclass
class SkillRun:
    skill: str
    outcome: str
    detail: str | None
    duration_ms: float | None


@dataclass
class Delivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    ordering_key: str | None
    received_at: datetime
    status: str
    attempts: int
    payload: bytes = field(repr=False)
    finished_at: datetime | None = None
    not_before: datetime | None = None
    error: str | None = None
    runs: list[SkillRun] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.event}.{self.action}" if self.action else self.event


def _row(delivery: Delivery) -> dict[str, object]:
    """A new delivery's values by column, for SQLAlchemy's own INSERT (in-memory SQLite)."""
    return dict(zip(COLUMNS, _values(delivery), strict=True))


def _values(delivery: Delivery) -> tuple[Any, ...]:
    """A new delivery's values in the order of raw_insert.COLUMNS."""
    return (
        delivery.id,
        delivery.event,
        delivery.action,
        delivery.installation_id,
        delivery.repository,
        delivery.ordering_key,
        delivery.received_at,
        delivery.payload,
        delivery.status,
        0,
        delivery.finished_at,
    )


def _delivery(row: Any) -> Delivery:
    m = getattr(row, "_mapping", row)  # (an asyncpg Record is read by key as it is)
    return Delivery(
        id=m["id"],
        event=m["event"],
        action=m["action"],
        installation_id=m["installation_id"],
        repository=m["repository"],
        ordering_key=m["ordering_key"],
        received_at=as_utc(m["received_at"]) or utcnow(),
        status=m["status"],
        attempts=m["attempts"],
        payload=m["payload"],
        finished_at=as_utc(m["finished_at"]),
        not_before=as_utc(m["not_before"]),
        error=m["error"],
    )


@dataclass(frozen=True)
class DeliveryFilter:
    """Which deliveries one person looks at: those of `repositories` (and, with
    `unscoped`, those of no repository), narrowed by repository, status and event."""

    repositories: list[str]
    unscoped: bool = False
    repository: str | None = None
    status: str | None = None
    event: str | None = None  # "issues" or "issues.opened"

    def apply(self, query: Select[Any]) -> Select[Any]:
        seen = deliveries.c.repository.in_(self.repositories)
        query = query.where(or_(seen, deliveries.c.repository.is_(None)) if self.unscoped else seen)
        if self.repository is not None:
            query = query.where(deliveries.c.repository == self.repository)
        if self.status is not None:
            query = query.where(deliveries.c.status == self.status)
        if self.event:
            event, _, action = self.event.partition(".")
            query = query.where(deliveries.c.event == event)
            if action:
                query = query.where(deliveries.c.action == action)
        return query


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._record = (
            db.insert(deliveries)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(deliveries.c.id)
        )
        # (ghapp/store/raw_insert.py: the statement on the driver's own connection)
        self._sqlite_record = SqliteRecord(db.engine.dialect)
        self._postgres_record = PostgresRecord()
        upsert = db.insert(skill_runs)
        self._runs_upsert = upsert.on_conflict_do_update(
            index_elements=["delivery_id", "skill"],
            set_={
                "outcome": upsert.excluded.outcome,
                "detail": upsert.excluded.detail,
                "duration_ms": upsert.excluded.duration_ms,
                "finished_at": upsert.excluded.finished_at,
            },
        )

    async def record(self, delivery: Delivery) -> bool:
        """Store a new delivery; False when this delivery id was seen before."""
        return delivery.id in await self.record_many([delivery])

    async def record_many(self, batch: Sequence[Delivery]) -> set[str]:
        """Store new deliveries in one transaction (one commit for all: ingress's group
        commit); returns the ids actually inserted (not seen before). A repeated id within
        `batch` is inserted once (its first copy)."""
        if not batch:
            return set()
        unique = list({d.id: d for d in reversed(batch)}.values())
        if not self.db.is_sqlite:
            return await self._postgres_record(self.db, [_values(d) for d in unique])
        if self.db.in_memory:  # (aiosqlite's connection: SQLAlchemy's own INSERT)
            stmt, rows = self._record, [_row(d) for d in unique]
            return await self.db.transact(lambda conn: set(conn.execute(stmt, rows).scalars()))
        insert, values = self._sqlite_record, [_values(d) for d in unique]
        return await self.db.transact(lambda conn: insert(conn, values))

    async def get(self, delivery_id: str) -> Delivery | None:
        async with self.db.connect() as conn:
            row = (
                await conn.execute(select(deliveries).where(deliveries.c.id == delivery_id))
            ).first()
            if row is None:
                return None
            found = _delivery(row)
            found.runs = await self._runs(conn, delivery_id)
        return found

    async def claim(self, delivery_id: str) -> Delivery | None:
        """Mark an unfinished delivery running (one more attempt) and return it."""
        if self.db.direct is not None:  # PostgreSQL: each statement alone, on asyncpg
            row, runs = await direct.claim(self.db.direct, delivery_id)
            found = None if row is None else _delivery(row)
            if found is not None:
                found.runs = [SkillRun(*run) for run in runs]
            return found

        def work(conn: Connection) -> Delivery | None:
            row = conn.execute(_CLAIM, {"d": delivery_id}).first()
            if row is None:
                return None
            found = _delivery(row)
            if found.attempts > 1:  # only an earlier attempt can have left runs
                found.runs = _runs_of(conn, [delivery_id]).get(delivery_id, [])
            return found

        return await self.db.transact(work)

    async def finish(
        self,
        delivery_id: str,
        status: str,
        error: str | None = None,
        runs: Sequence[SkillRun] = (),
    ) -> None:
        """The outcome of a delivery: its status and its skills' runs, in one transaction."""
        at = utcnow()
        if self.db.direct is not None:  # one statement: runs and status (one commit)
            rows = [(r.skill, r.outcome, r.detail, r.duration_ms) for r in runs]
            return await direct.finish(self.db.direct, delivery_id, status, error, at, rows)
        values = {"d": delivery_id, "s": status, "e": error, "at": at}
        await self.db.transact(lambda conn: self._outcome(conn, delivery_id, runs, _FINISH, values))

    async def requeue(
        self,
        delivery_id: str,
        not_before: datetime,
        error: str | None,
        runs: Sequence[SkillRun] = (),
    ) -> None:
        """Queued again for `not_before`; the runs so far are kept (finished skills are
        not run again)."""
        values = {"d": delivery_id, "e": error, "nb": not_before}
        await self.db.transact(
            lambda conn: self._outcome(conn, delivery_id, runs, _REQUEUE, values)
        )

    async def reset_running(self) -> int:
        """After a crash of the only worker, its running deliveries are queued again."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(deliveries).where(deliveries.c.status == "running").values(status="queued")
            )
        return result.rowcount

    async def unfinished(self) -> list[Delivery]:
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(deliveries)
                .where(deliveries.c.status.in_(UNFINISHED))
                .order_by(deliveries.c.received_at)
            )
            return [_delivery(r) for r in rows]

    async def unfinished_refs(self) -> list[tuple[str, str | None, datetime | None]]:
        """(id, ordering key, not_before) of every unfinished delivery, without payloads."""
        query = select(deliveries.c.id, deliveries.c.ordering_key, deliveries.c.not_before).where(
            deliveries.c.status.in_(UNFINISHED)
        )
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(r.id, r.ordering_key, as_utc(r.not_before)) for r in rows]

    async def older_unfinished(
        self, delivery_id: str
    ) -> tuple[str, str | None, datetime | None] | None:
        """The oldest unfinished delivery received before this one for the same issue or
        pull request: (id, ordering key, not_before)."""
        if self.db.direct is not None:
            row = await direct.older_unfinished(self.db.direct, delivery_id)
        else:
            row = await self.db.read(lambda conn: conn.execute(_OLDER, {"d": delivery_id}).first())
        if row is None:
            return None
        return row[0], row[1], as_utc(row[2])

    async def count_unfinished(self) -> int:
        async with self.db.connect() as conn:
            value = await conn.scalar(
                select(func.count())
                .select_from(deliveries)
                .where(deliveries.c.status.in_(UNFINISHED))
            )
        return int(value or 0)

    async def record_run(self, delivery_id: str, run: SkillRun) -> None:
        await self.db.transact(lambda conn: self._outcome(conn, delivery_id, [run]))

    def _outcome(
        self,
        conn: Connection,
        delivery_id: str,
        runs: Sequence[SkillRun],
        status: Executable | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        if runs:
            now = utcnow()
            rows = {
                run.skill: {
                    "delivery_id": delivery_id,
                    "skill": run.skill,
                    "outcome": run.outcome,
                    "detail": run.detail,
                    "duration_ms": run.duration_ms,
                    "finished_at": now,
                }
                for run in runs
            }
            conn.execute(self._runs_upsert, list(rows.values()))
        if status is not None:
            conn.execute(status, values)

    async def list(
        self,
        *,
        since: datetime | None = None,
        failed_only: bool = False,
        installation_ids: list[int] | None = None,
        limit: int = 100,
        offset: int = 0,
        visible: DeliveryFilter | None = None,
    ) -> list[Delivery]:
        query = (
            select(deliveries)
            .order_by(deliveries.c.received_at.desc(), deliveries.c.id)
            .offset(offset)
            .limit(limit)
        )
        if visible is not None:
            query = visible.apply(query)
        if since is not None:
            query = query.where(deliveries.c.received_at >= since)
        if failed_only:
            query = query.where(deliveries.c.status == "failed")
        if installation_ids is not None:
            query = query.where(deliveries.c.installation_id.in_(installation_ids))
        async with self.db.connect() as conn:
            found = [_delivery(r) for r in await conn.execute(query)]
            runs = await self._runs_for(conn, [d.id for d in found])
        for d in found:
            d.runs = runs.get(d.id, [])
        return found

    async def ids_seen(self, ids: list[str]) -> set[str]:
        """Which of these delivery ids were stored (redeliver skips those)."""
        if not ids:
            return set()
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(deliveries.c.id, deliveries.c.status).where(deliveries.c.id.in_(ids))
            )
            return {r.id for r in rows if r.status != "failed"}

    async def _runs(self, conn: AsyncConnection, delivery_id: str) -> list[SkillRun]:
        return (await self._runs_for(conn, [delivery_id])).get(delivery_id, [])

    async def _runs_for(self, conn: AsyncConnection, ids: list[str]) -> dict[str, list[SkillRun]]:
        return await conn.run_sync(_runs_of, ids)


def _runs_of(conn: Connection, ids: list[str]) -> dict[str, list[SkillRun]]:
    if not ids:
        return {}
    rows = conn.execute(
        select(skill_runs).where(skill_runs.c.delivery_id.in_(ids)).order_by(skill_runs.c.skill)
    )
    out: dict[str, list[SkillRun]] = {}
    for r in rows:
        out.setdefault(r.delivery_id, []).append(
            SkillRun(r.skill, r.outcome, r.detail, r.duration_ms)
        )
    return out
