"""Ingress's INSERT of a batch of deliveries, on the driver's own connection.

PostgreSQL (PostgresRecord): one `INSERT … SELECT FROM unnest(…)` of one array per
column, alone in autocommit: one prepared statement for every batch size (asyncpg keeps
it), one round trip to the server where SQLAlchemy's transaction took three (BEGIN, the
INSERT, COMMIT), and no bind processing on the event loop. The connection is kept between
batches: a pool checkout per batch was 4 % of ingress's event loop (benchmarks/README.md,
issue 17). It is checked as the pool's checkout checks its own (`Database._checkout`):
one asyncpg saw close, or one idle past PING_AFTER_IDLE that fails a ping, is replaced
before the batch; one that fails during a batch is invalidated (the batch fails, as it
did on a pooled connection) and the next batch takes a fresh one. A batch that comes
while another is in flight (ingress commits one at a time; another caller may not) runs
on a connection of the pool. `Database.close` returns the kept one to the pool.

SQLite (SqliteRecord):

On SQLite, SQLAlchemy's multi-row INSERT of a group commit (its statement cache lookup,
the bind processing of 11 columns per row through the dialect, the result's wrapping) was
half of the batch's cost on the event loop, more than SQLite's own INSERT and commit
(benchmarks/README.md, issue 17, fourth pass). The same statement — one multi-row
`INSERT … ON CONFLICT (id) DO NOTHING RETURNING id` — is run here on the sqlite3
connection under the SQLAlchemy transaction of `Database.transact` (so its commit, its
rollback and its rerun in the writer thread when another process holds the write lock
are unchanged), with the values converted by the dialect's own bind processors (the
stored text of a datetime is the one SQLAlchemy writes and reads back).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from ghapp.store.database import PING_AFTER_IDLE, Database
from ghapp.store.tables import deliveries

Row = tuple[Any, ...]  # one delivery's values, in the order of COLUMNS

# The columns a new delivery sets; the others keep their defaults (NULL).
COLUMNS = (
    "id",
    "event",
    "action",
    "installation_id",
    "repository",
    "ordering_key",
    "received_at",
    "payload",
    "status",
    "attempts",
    "finished_at",
)
# Rows per statement: SQLite allows 32,766 parameters in one (ingress sends up to 256 rows).
MAX_ROWS = 1000


class SqliteRecord:
    """`DeliveryStore.record_many`'s INSERT on SQLite: the ids actually inserted."""

    def __init__(self, dialect: Dialect) -> None:
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(COLUMNS):
            column_type = deliveries.c[name].type
            process = column_type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((index, process))
        self._processors = tuple(processors)
        names = ", ".join(dialect.identifier_preparer.quote(n) for n in COLUMNS)
        # Names from the table definition, values bound as parameters: nothing from outside.
        self._head = f"INSERT INTO {deliveries.name} ({names}) VALUES "  # noqa: S608
        self._row = "(" + ", ".join("?" * len(COLUMNS)) + ")"
        self._sql: dict[int, str] = {}  # by number of rows; sqlite3 caches the prepared ones

    def sql(self, rows: int) -> str:
        found = self._sql.get(rows)
        if found is None:
            values = ", ".join([self._row] * rows)
            found = self._sql[rows] = (
                f"{self._head}{values} ON CONFLICT (id) DO NOTHING RETURNING id"
            )
        return found

    def __call__(self, conn: Connection, batch: Sequence[Row]) -> set[str]:
        # The DBAPI connection of this SQLAlchemy Connection, inside its transaction: the
        # sqlite3 module opens it before the INSERT, SQLAlchemy commits it.
        driver = conn.connection.driver_connection
        assert driver is not None
        inserted: set[str] = set()
        for start in range(0, len(batch), MAX_ROWS):
            part = batch[start : start + MAX_ROWS]
            cursor = driver.execute(self.sql(len(part)), self._params(part))
            inserted.update(row[0] for row in cursor)
        return inserted

    def _params(self, batch: Sequence[Row]) -> list[Any]:
        params: list[Any] = []
        processors = self._processors  # on SQLite: the datetimes' (never none)
        for values in batch:
            converted = list(values)
            for index, process in processors:
                converted[index] = process(converted[index])
            params.extend(converted)
        return params


class PostgresRecord:
    """`DeliveryStore.record_many`'s INSERT on PostgreSQL: the ids actually inserted."""

    def __init__(self) -> None:
        types = {
            "installation_id": "bigint",
            "received_at": "timestamptz",
            "finished_at": "timestamptz",
            "payload": "bytea",
            "attempts": "integer",
        }
        arrays = ", ".join(
            f"${n}::{types.get(name, 'varchar')}[]" for n, name in enumerate(COLUMNS, 1)
        )
        # Names from the table definition, values bound as parameters: nothing from outside.
        self.sql = (
            f"INSERT INTO {deliveries.name} ({', '.join(COLUMNS)}) "  # noqa: S608
            f"SELECT * FROM unnest({arrays}) ON CONFLICT (id) DO NOTHING RETURNING id"
        )
        self._kept: AsyncConnection | None = None  # a connection of the pool, kept
        self._driver: Any = None  # its asyncpg connection
        self._used_at = 0.0
        self._busy = False

    async def __call__(self, db: Database, batch: Sequence[Row]) -> set[str]:
        # Used through asyncpg itself: outside a transaction the INSERT commits on its own.
        columns = [list(column) for column in zip(*batch, strict=True)]
        if self._busy:
            async with db.engine.connect() as conn:  # (its checkout checks it is alive)
                driver: Any = (await conn.get_raw_connection()).driver_connection
                rows = await driver.fetch(self.sql, *columns)
            return {row[0] for row in rows}
        self._busy = True
        try:
            driver = await self._kept_driver(db)
            try:
                rows = await driver.fetch(self.sql, *columns)
            except BaseException:
                await self._drop(invalidate=True)
                raise
            self._used_at = time.monotonic()
        finally:
            self._busy = False
        return {row[0] for row in rows}

    async def _kept_driver(self, db: Database) -> Any:
        driver = self._driver
        if driver is not None and (
            driver.is_closed()
            or (time.monotonic() - self._used_at > PING_AFTER_IDLE and not await _alive(driver))
        ):
            await self._drop(invalidate=True)
        if self._kept is None:
            if self.close not in db.on_close:
                db.on_close.append(self.close)
            self._kept = await db.engine.connect()
            self._driver = (await self._kept.get_raw_connection()).driver_connection
        return self._driver

    async def _drop(self, *, invalidate: bool) -> None:
        kept, self._kept, self._driver = self._kept, None, None
        if kept is not None:
            if invalidate:  # closed, never handed out again
                await kept.invalidate()
            await kept.close()

    async def close(self) -> None:
        """Return the kept connection to the pool (`Database.close`)."""
        await self._drop(invalidate=False)


async def _alive(driver: Any) -> bool:
    try:
        await driver.fetchrow(";")  # (as SQLAlchemy's ping)
    except Exception:
        return False
    return True
