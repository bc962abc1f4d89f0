"""The statements of every delivery on PostgreSQL, on asyncpg's own connections.

Through SQLAlchemy's async engine one statement cost ~200 µs of CPU (its pool checkout,
the greenlet, the Connection and execution context, the result): ten times the same
statement on asyncpg itself, round trip included (benchmarks/README.md, issue 17, sixth
pass). The worker runs several per delivery (ordering check, claim, installation and
switches, an effect's begin and finish, the outcome), so those run here: each a prepared
statement (asyncpg keeps them per connection) alone in autocommit, on a small asyncpg pool
beside the engine's. Everything else, SQLite, and every statement of the web side keep to
SQLAlchemy.

A connection is checked by asyncpg when it is taken (one the server closed is replaced);
one idle longer than IDLE_LIFETIME is closed rather than trusted (a firewall's timeout).
The pool is closed with the engine (`Database.close` disposes of it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

POOL_SIZE = 10  # as the engine's pool_size: a worker runs up to 8 jobs at once
IDLE_LIFETIME = 30.0  # seconds
# Keys SQLAlchemy's asyncpg dialect takes for itself, not asyncpg.connect's.
_DIALECT_ONLY = (
    "async_fallback",
    "async_creator_fn",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
)


class Direct:
    """asyncpg connections to the engine's database, for the hot statements."""

    def __init__(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        _args, kwargs = sync.dialect.create_connect_args(sync.url)
        self._connect = {k: v for k, v in kwargs.items() if k not in _DIALECT_ONLY}
        self._starting: asyncio.Task[asyncpg.Pool] | None = None
        event.listen(sync, "engine_disposed", self._disposed)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PoolConnectionProxy]:
        pool = await self._ready()
        async with pool.acquire() as conn:
            yield conn

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def close(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and not starting.done():
            starting.cancel()  # still connecting: nothing to close yet
        pool = _made(starting)
        if starting is not None and pool is not None:
            if starting.get_loop() is asyncio.get_running_loop():
                await pool.close()
            else:
                _discard(starting)

    async def _ready(self) -> asyncpg.Pool:
        """The pool, made on first use on this event loop (callers meanwhile share it)."""
        loop = asyncio.get_running_loop()
        starting = self._starting
        if starting is None or starting.get_loop() is not loop:
            if starting is not None:
                _discard(starting)  # another event loop's: unusable here
            starting = self._starting = loop.create_task(self._create())
        try:
            return await asyncio.shield(starting)
        except BaseException:
            if starting.done() and self._starting is starting:
                self._starting = None  # the next call tries again
            raise

    async def _create(self) -> asyncpg.Pool:
        # Imported here, with the first PostgreSQL statement: a SQLite process never
        # needs asyncpg (~2 MiB kept; issue 17's memory target).
        import asyncpg

        return await asyncpg.create_pool(
            min_size=0,
            max_size=POOL_SIZE,
            max_inactive_connection_lifetime=IDLE_LIFETIME,
            # Nothing to reset: these statements leave no session state behind (the
            # default reset is a round trip per release).
            reset=_keep,
            **self._connect,
        )

    def _disposed(self, _engine: Any) -> None:
        # Called inside the engine's dispose (a greenlet of the async engine).
        if self._starting is not None:
            await_(self.close())


async def _keep(_conn: asyncpg.Connection) -> None:
    return None


def _discard(starting: asyncio.Task[asyncpg.Pool]) -> None:
    """Close, from elsewhere, the pool another event loop made (asyncpg's connections
    belong to their loop)."""
    pool, loop = _made(starting), starting.get_loop()
    if pool is None or loop.is_closed():
        return  # nothing made, or nothing left to close it on (closed when collected)
    if loop.is_running():
        asyncio.run_coroutine_threadsafe(pool.close(), loop)
    else:
        pool.terminate()


def _made(starting: asyncio.Task[asyncpg.Pool] | None) -> asyncpg.Pool | None:
    """The pool `starting` made, if it finished making one."""
    if starting is None or not starting.done() or starting.cancelled():
        return None
    return None if starting.exception() is not None else starting.result()


# -- the statements (names from the schema, ghapp/store/tables.py; values as parameters) --

_CLAIM = (
    "UPDATE deliveries SET status = 'running', attempts = attempts + 1"
    " WHERE id = $1 AND status IN ('queued', 'running') RETURNING *"
)
_RUNS = (
    "SELECT skill, outcome, detail, duration_ms FROM skill_runs WHERE delivery_id = $1"
    " ORDER BY skill"
)
_OLDER = (  # DeliveryStore.older_unfinished
    "SELECT other.id, other.ordering_key, other.not_before FROM deliveries AS me"
    " JOIN deliveries AS other ON other.ordering_key = me.ordering_key"
    " WHERE me.id = $1 AND other.status IN ('queued', 'running') AND"
    " (other.received_at < me.received_at"
    " OR (other.received_at = me.received_at AND other.id < me.id))"
    " ORDER BY other.received_at, other.id LIMIT 1"
)
# A delivery's outcome, its skills' runs and its status, as one statement (one commit).
_FINISH = (
    "WITH runs AS (INSERT INTO skill_runs"
    " (delivery_id, skill, outcome, detail, duration_ms, finished_at)"
    " SELECT $1, r.skill, r.outcome, r.detail, r.duration_ms, $4"
    " FROM unnest($5::varchar[], $6::varchar[], $7::text[], $8::float8[])"
    " AS r(skill, outcome, detail, duration_ms)"
    " ON CONFLICT (delivery_id, skill) DO UPDATE SET outcome = excluded.outcome,"
    " detail = excluded.detail, duration_ms = excluded.duration_ms,"
    " finished_at = excluded.finished_at)"
    " UPDATE deliveries SET status = $2, error = $3, finished_at = $4, not_before = NULL"
    " WHERE id = $1"
)
_EFFECT_BEGIN = (
    "INSERT INTO effects (key, state, delivery_id, updated_at) VALUES ($1, 'started', $2, $3)"
    " ON CONFLICT (key) DO NOTHING"
)
_EFFECT_STATE = "SELECT state FROM effects WHERE key = $1"
_EFFECT_FINISH = "UPDATE effects SET state = 'done', result = $2, updated_at = $3 WHERE key = $1"
_WITH_SWITCHES = (  # InstallationStore.with_switches
    "SELECT i.id, i.account_login, i.account_type, i.suspended_at, i.deleted_at,"
    " i.permissions, s.repository AS switch_repository, s.skill AS switch_skill,"
    " s.enabled AS switch_enabled FROM (SELECT $1::bigint AS asked) AS q"
    " LEFT JOIN installations AS i ON i.id = q.asked"
    " LEFT JOIN skill_switches AS s ON s.installation_id = q.asked"
)
Run = tuple[str, str, str | None, float | None]  # skill, outcome, detail, duration_ms


async def claim(direct: Direct, delivery_id: str) -> tuple[asyncpg.Record | None, list[Run]]:
    """The claimed delivery's row (None: finished or unknown) and, after an earlier
    attempt, the runs that attempt left."""
    async with direct.connection() as conn:
        row = await conn.fetchrow(_CLAIM, delivery_id)
        if row is None or row["attempts"] <= 1:  # only an earlier attempt leaves runs
            return row, []
        return row, [(r[0], r[1], r[2], r[3]) for r in await conn.fetch(_RUNS, delivery_id)]


async def older_unfinished(direct: Direct, delivery_id: str) -> asyncpg.Record | None:
    return await direct.fetchrow(_OLDER, delivery_id)


async def finish(
    direct: Direct,
    delivery_id: str,
    status: str,
    error: str | None,
    at: datetime,
    runs: Sequence[Run],
) -> None:
    last = list({run[0]: run for run in runs}.values())  # one row per skill: its last
    columns = [list(column) for column in zip(*last, strict=True)] or [[], [], [], []]
    async with direct.connection() as conn:
        await conn.execute(_FINISH, delivery_id, status, error, at, *columns)


async def effect_begin(direct: Direct, key: str, delivery_id: str | None, at: datetime) -> str:
    """ "new" when this call began the effect, else the state it was found in."""
    async with direct.connection() as conn:
        if await conn.execute(_EFFECT_BEGIN, key, delivery_id, at) == "INSERT 0 1":
            return "new"
        return str(await conn.fetchval(_EFFECT_STATE, key))


async def effect_finish(direct: Direct, key: str, result: str | None, at: datetime) -> None:
    async with direct.connection() as conn:
        await conn.execute(_EFFECT_FINISH, key, result, at)


async def with_switches(direct: Direct, installation_id: int) -> list[asyncpg.Record]:
    return await direct.fetch(_WITH_SWITCHES, installation_id)
