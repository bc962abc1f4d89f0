"""The database engine: one URL for SQLite or PostgreSQL, dialect helpers; migrations run
through `migrate`."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from ghapp.store.direct import Direct
from ghapp.store.migrate import MIGRATIONS, at_head, upgrade_apart, upgrade_schema
from ghapp.store.tables import Table

T = TypeVar("T")
# A pooled PostgreSQL connection idle longer than this is pinged before it is used again.
PING_AFTER_IDLE = 2.0
# Commits on the event loop between two checkpoints of SQLite's log (see _Checkpointer).
CHECKPOINT_EVERY = 32
log = logging.getLogger("ghapp.store")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC, so re-attach it."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Database:
    """Owns the async engine; stores borrow connections from it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # Parameters hold secrets (sealed tokens, generated values): never in a log line
        # or an exception's text.
        options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if not self.is_sqlite:
            # Not `pool_pre_ping`: with asyncpg it is BEGIN, `;`, ROLLBACK before every
            # transaction (7 % of a worker's CPU, benchmarks/README.md). See _checkout.
            options.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine.sync_engine, "connect", _postgres_session)
            event.listen(self.engine.sync_engine.pool, "checkin", _checkin)
            event.listen(self.engine.sync_engine.pool, "checkout", self._checkout)
        self._write_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._sqlite_writer: _SqliteThread | None = None
        self._sqlite_reader: _SqliteThread | None = None
        self._sqlite_checkpointer: _Checkpointer | None = None
        self._inline_conn: _KeptConnection | None = None
        self.direct = None if self.is_sqlite else Direct(self.engine)  # asyncpg's own
        self.on_close: list[Callable[[], Awaitable[None]]] = []  # before the pool's disposal

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """Hand out only a live PostgreSQL connection, as `pool_pre_ping` did, cheaper.

        One the server closed (a restart, a terminated backend) is known without a round
        trip: asyncpg saw the socket close. One idle longer than PING_AFTER_IDLE is pinged
        (a connection that died silently, a firewall's timeout); one used moments ago, as
        under load, is trusted. A dead one makes the pool connect afresh (up to twice).
        """
        raw = getattr(dbapi_connection, "_connection", None)
        if raw is not None and raw.is_closed():
            raise exc.InvalidatePoolError("the server closed this connection")
        idle_since = record.info.get("ghapp_idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE:
            return
        try:
            self.engine.sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.InvalidatePoolError(f"ping failed: {type(error).__name__}") from error

    @property
    def in_memory(self) -> bool:
        """An in-memory SQLite (one per connection: tests)."""
        return self.is_sqlite and self.engine.url.database in (None, "", ":memory:")

    def insert(self, table: Table) -> Any:
        """An INSERT supporting on_conflict_do_nothing/do_update on both dialects."""
        if self.is_sqlite:
            return sqlite.insert(table)
        return postgresql.insert(table)

    def connect(self) -> Any:
        return self.engine.connect()

    def begin(self) -> Any:
        if self.is_sqlite:
            return self._sqlite_begin()
        return self.engine.begin()

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction, committed when it returns.

        On SQLite the whole transaction runs on the event loop's thread through a plain
        sqlite3 connection (same file, WAL): aiosqlite hops between threads for every
        statement, and even one hop into a writer thread per transaction waited 17 ms
        (median) for the scheduler on a busy 2-core machine against 1 ms done in place
        (benchmarks/README.md, issue 17). That connection never waits for the file's
        write lock (busy_timeout 0): when another process holds it, the transaction is
        rolled back and run in the writer thread, which waits. That connection does not
        checkpoint the write-ahead log (see _Checkpointer). On PostgreSQL it is the async
        engine's own connection, driven through `run_sync`.
        """
        if not self.is_sqlite or self.in_memory:
            async with self.begin() as conn:  # (an in-memory SQLite is per connection)
                return await conn.run_sync(work)
        writer = self._writer()
        async with self._lock():
            try:
                result = self._inline().run(work)
            except (OperationalError, sqlite3.OperationalError) as error:
                # (the second from work run on the driver's connection: raw_insert.py)
                if not _busy(error):
                    raise
            else:
                if self._checkpointer().committed():
                    self._inline().checkpoint()
                return result
            return await writer.call(work)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` (reads only) on one connection, as one call.

        On a SQLite file: in a reader thread of its own with a plain sqlite3 connection
        (WAL: it reads beside the writer, never waits for it), one thread hop instead of
        aiosqlite's hop per statement, fetch and pool reset. Elsewhere the async engine's
        connection through `run_sync`.
        """
        if not self.is_sqlite or self.in_memory:
            async with self.connect() as conn:
                return await conn.run_sync(work)
        return await self._reader().call(work)

    def _inline(self) -> _KeptConnection:
        if self._inline_conn is None:
            url = self.engine.url.set(drivername="sqlite+pysqlite")
            engine = create_engine(url, pool_size=1, max_overflow=0)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "connect", _inline_pragmas)
            self._inline_conn = _KeptConnection(engine)
        return self._inline_conn

    def _checkpointer(self) -> _Checkpointer:
        if self._sqlite_checkpointer is None:
            path = str(self.engine.url.database)
            self._sqlite_checkpointer = _Checkpointer(path, self._lock)
        return self._sqlite_checkpointer

    def _writer(self) -> _SqliteThread:
        if self._sqlite_writer is None:
            url = self.engine.url.set(drivername="sqlite+pysqlite")
            self._sqlite_writer = _SqliteThread(url, "ghapp-sqlite-writer")
        return self._sqlite_writer

    def _reader(self) -> _SqliteThread:
        if self._sqlite_reader is None:
            url = self.engine.url.set(drivername="sqlite+pysqlite")
            self._sqlite_reader = _SqliteThread(url, "ghapp-sqlite-reader")
        return self._sqlite_reader

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._write_lock is None or self._write_lock[0] is not loop:
            self._write_lock = (loop, asyncio.Lock())
        return self._write_lock[1]

    @asynccontextmanager
    async def _sqlite_begin(self) -> AsyncIterator[AsyncConnection]:
        # SQLite has one writer at a time. Without this lock, concurrent writers (ingress
        # and the in-process worker) wait in SQLite's busy handler, polling from their
        # threads; under load a webhook insert lost that race for busy_timeout and answered
        # 500 (benchmarks/end_to_end). Queued here, they wait in turn and take no CPU.
        async with self._lock(), self.engine.begin() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def upgrade(self, *, apart: bool = False) -> None:
        """Apply the migrations the database lacks (`ghapp db upgrade`); with `apart`, from
        a child process (`migrate.upgrade_apart`)."""
        if apart:
            async with self.engine.connect() as conn:
                if await conn.run_sync(at_head):
                    return
            await upgrade_apart(self.url)
            return
        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade_schema)

    async def close(self) -> None:
        await asyncio.gather(*(close() for close in self.on_close))
        await self.engine.dispose()
        if self._sqlite_checkpointer is not None:
            await self._sqlite_checkpointer.close()
            self._sqlite_checkpointer = None
        if self._inline_conn is not None:
            self._inline_conn.close()
            self._inline_conn = None
        for thread in (self._sqlite_writer, self._sqlite_reader):
            if thread is not None:
                await thread.close()
        self._sqlite_writer = self._sqlite_reader = None


class _KeptConnection:
    """One SQLAlchemy Connection on a plain sqlite3 connection, kept open between
    transactions (used from one thread only). Checking a connection out of a pool and
    building an SQLAlchemy Connection for every transaction was a third of the writer
    thread's CPU, and 8 % of the event loop's under ingress (benchmarks/README.md)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work` in one transaction, committed when it returns."""
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated or conn.in_transaction():
            # First use, or a failure left it unusable: start from a fresh connection.
            if conn is not None:
                conn.close()
            conn = self._conn = self.engine.connect()
        with conn.begin():
            return work(conn)

    def checkpoint(self) -> None:
        """A PASSIVE checkpoint of the log, here (outside any transaction)."""
        if self._conn is not None and not self._conn.in_transaction():
            driver = self._conn.connection.driver_connection
            if driver is not None:
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()


class _SqliteThread:
    """One thread and its own kept connection: each call is one transaction on it."""

    def __init__(self, url: Any, name: str) -> None:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        event.listen(engine, "connect", _sqlite_pragmas)
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._kept = _KeptConnection(engine)  # used in the thread only

    async def call(self, work: Callable[[Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._kept.run, work)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self._kept.close)
        self.executor.shutdown(wait=False)


class _Checkpointer:
    """The write-ahead log's checkpoints for the transactions run on the event loop.

    SQLite's automatic checkpoint (every ~1000 pages of log) ran in the committing
    connection, so on the loop: copying ~4 MB into the database file and two fsyncs
    every ~40 group commits of ingress, 0.1 ms per delivery, more than the INSERT and
    the commit together (benchmarks/README.md, issue 17, fourth pass). That connection
    has it off (wal_autocheckpoint=0); every CHECKPOINT_EVERY commits, a thread of its
    own checkpoints instead (PASSIVE: beside the writes, which go on meanwhile), then
    once more holding the write lock for the few pages written meanwhile, so the log is
    wholly copied and the next commit writes it from the start again: the log stays
    bounded under a steady load. (Checkpointing from the writer thread under the write
    lock every time made small commits wait an fsync every few deliveries: third pass.)
    """

    def __init__(self, path: str, lock: Callable[[], asyncio.Lock]) -> None:
        self._path = path
        self._lock = lock
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ghapp-sqlite-checkpoint")
        self._conn: sqlite3.Connection | None = None  # used in that thread only
        self._commits = 0
        self._task: asyncio.Task[None] | None = None
        self._started = False

    def committed(self) -> bool:
        """Count a commit on the loop; True when the caller should checkpoint in place:
        the last checkpoint asked of the thread has not even started (the loop has not
        yielded since; a loop that never yields would otherwise grow the log forever)."""
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY:
            return False
        self._commits = 0
        if self._task is None or self._task.done():
            self._started = False
            self._task = asyncio.get_running_loop().create_task(self._run())
            return False
        return not self._started

    async def _run(self) -> None:
        self._started = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._checkpoint)
            # What was written meanwhile (its answer above only covers the log as it
            # found it), with writes held back: the next commit then restarts the log.
            async with self._lock():
                await loop.run_in_executor(self._executor, self._checkpoint)
        except Exception:  # the next one will try again; the log is only longer meanwhile
            log.warning("a checkpoint of the SQLite write-ahead log failed", exc_info=True)

    def _checkpoint(self) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, check_same_thread=False)
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)


# Large values (deliveries' bodies) compressed with lz4 where the server has it, not pglz:
# half the server's CPU per delivery (benchmarks/README.md, issue 17, fifth pass). Each
# value records its method, so older ones read back alike. Set for the session.
_LZ4 = (
    "SELECT set_config('default_toast_compression', 'lz4', false) FROM pg_settings"
    " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
)


def _postgres_session(_dbapi_connection: Any, record: Any) -> None:
    driver = record.driver_connection  # asyncpg's own connection
    if driver is not None:
        await_(driver.execute(_LZ4))


def _checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["ghapp_idle_since"] = time.monotonic()


def _busy(exc: OperationalError | sqlite3.OperationalError) -> bool:
    cause = exc.orig if isinstance(exc, OperationalError) else exc
    return "locked" in str(cause) or "busy" in str(cause)


def _inline_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # _Checkpointer's thread does it
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process write while the worker reads; busy_timeout waits out locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def upgrade_url(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.close()


def run_upgrade(url: str) -> None:
    asyncio.run(upgrade_url(url))


__all__ = ["MIGRATIONS", "AsyncConnection", "Database", "as_utc", "utcnow"]
