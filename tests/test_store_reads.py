"""`Database.read` on a SQLite file: one call into a reader thread of its own (plain
sqlite3), which sees what the writer committed and does not wait behind a write."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from ghapp.store import Database


async def test_reads_see_commits_and_run_in_their_own_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    try:
        await db.transact(lambda conn: conn.execute(text("CREATE TABLE t (v INTEGER)")))
        await db.transact(lambda conn: conn.execute(text("INSERT INTO t VALUES (1)")))

        def read(conn: Connection) -> tuple[list[int], str]:
            values = [int(v) for v in conn.execute(text("SELECT v FROM t")).scalars()]
            return values, threading.current_thread().name

        values, thread = await db.read(read)
        assert values == [1]
        assert thread.startswith("ghapp-sqlite-reader")
    finally:
        await db.close()


async def test_a_read_does_not_wait_for_an_open_write(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.transact(lambda conn: conn.execute(text("CREATE TABLE t (v INTEGER)")))
        # Another writer (the other process of `ghapp run` + `ghapp worker`, say) holds
        # SQLite's write lock with an uncommitted insert.
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (2)")
        # The read answers at once and sees the last committed state.
        rows = await asyncio.wait_for(
            db.read(lambda conn: conn.execute(text("SELECT count(*) FROM t")).scalar()), 5
        )
        assert rows == 0
        other.execute("COMMIT")
        other.close()
        assert await db.read(lambda conn: conn.execute(text("SELECT count(*) FROM t")).scalar())
    finally:
        await db.close()


async def test_the_writer_keeps_its_connection_and_a_failed_transaction_rolls_back(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    try:
        await db.transact(lambda conn: conn.execute(text("CREATE TABLE t (v INTEGER)")))
        first = await db.transact(lambda conn: conn.connection.dbapi_connection)

        def fails(conn: Connection) -> None:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("the work failed")

        with pytest.raises(RuntimeError):
            await db.transact(fails)
        count = await db.transact(
            lambda conn: conn.execute(text("SELECT count(*) FROM t")).scalar()
        )
        assert count == 0  # the failed transaction's insert was rolled back
        # The same sqlite3 connection, kept: not opened again per transaction.
        assert await db.transact(lambda conn: conn.connection.dbapi_connection) is first
    finally:
        await db.close()
