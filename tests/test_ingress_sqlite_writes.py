"""Issue 17: ingress's group commit on SQLite runs on the event loop's own thread (no
thread hop per batch), falls back to the writer thread when another process holds the
write lock, and keeps the write-ahead log bounded (its checkpoints run off the loop)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from ghapp.store import Database, Delivery, DeliveryStore
from ghapp.store.deliveries import _row


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'ghapp.db'}")
    await database.upgrade()
    try:
        yield database
    finally:
        await database.close()


def _delivery(ident: str, body: bytes = b"{}") -> Delivery:
    return Delivery(
        id=ident,
        event="star",
        action="created",
        installation_id=1,
        repository="o/r",
        ordering_key=None,
        received_at=datetime.now(UTC),
        status="ignored",
        attempts=0,
        payload=body,
        finished_at=datetime.now(UTC),
    )


async def test_a_commit_runs_on_the_loop_thread_when_the_file_is_free(db: Database) -> None:
    seen: list[int] = []

    def work(conn: Connection) -> int:
        seen.append(threading.get_ident())
        return int(conn.execute(text("SELECT 1")).scalar_one())

    assert await db.transact(work) == 1
    assert seen == [threading.get_ident()]
    assert await DeliveryStore(db).record_many([_delivery("a"), _delivery("b")]) == {"a", "b"}
    stored = await DeliveryStore(db).get("b")
    assert stored is not None and stored.status == "ignored"


async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_loop(
    db: Database, tmp_path: Path
) -> None:
    """Another process's transaction holds SQLite's write lock: the loop is not blocked
    (a busy answer sends the batch to the writer thread, which waits for the lock)."""
    other = sqlite3.connect(tmp_path / "ghapp.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store = DeliveryStore(db)
    pending = asyncio.ensure_future(store.record_many([_delivery("late")]))
    started = time.monotonic()
    for _ in range(20):  # the loop keeps running while the lock is held
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < 2.0  # not stuck in SQLite's busy wait
    assert not pending.done()
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(pending, 10) == {"late"}


async def test_the_write_ahead_log_stays_bounded(db: Database, tmp_path: Path) -> None:
    store = DeliveryStore(db)
    body = b"x" * 60_000
    for n in range(250):
        await store.record_many([_delivery(f"d{n}", body)])
    wal = tmp_path / "ghapp.db-wal"
    # 250 deliveries of 60 KB: 15 MB written through the log; SQLite's automatic
    # checkpoint (every 1000 pages, ~4 MB) lets it reuse the log from the start.
    assert wal.stat().st_size < 6_000_000


async def test_rows_stored_on_the_driver_connection_are_those_sqlalchemy_writes(
    db: Database,
) -> None:
    # ingress's INSERT bypasses SQLAlchemy on SQLite (ghapp/store/raw_insert.py): every
    # column's stored text must be the one SQLAlchemy's own INSERT leaves, or reads,
    # ordering by received_at and the settings page would see other values.
    store = DeliveryStore(db)
    at = datetime(2026, 12, 2, 5, 6, 7, tzinfo=UTC)  # microsecond 0: still six digits
    fast = replace(_delivery("fast", b'{"a": 1}'), received_at=at, finished_at=None)
    fast.ordering_key, fast.status = "o/r#1", "queued"
    slow = replace(fast, id="slow", received_at=at.replace(microsecond=120))

    assert await store.record_many([fast, fast, replace(fast, payload=b"second copy")]) == {"fast"}
    # the same delivery through SQLAlchemy's INSERT, as record_many ran it before
    await db.transact(lambda conn: conn.execute(store._record, [_row(slow)]).all())
    assert await store.record_many([fast, slow, replace(fast, id="new")]) == {"new"}

    def stored(conn: Connection) -> dict[str, tuple[object, ...]]:
        found = conn.exec_driver_sql(
            "SELECT id, event, action, installation_id, repository, ordering_key,"
            " received_at, payload, status, attempts, not_before, finished_at, error,"
            " typeof(received_at), typeof(payload), typeof(installation_id)"
            " FROM deliveries"
        )
        return {row[0]: tuple(row[1:]) for row in found}

    texts = await db.read(stored)
    assert texts["fast"][5] == "2026-12-02 05:06:07.000000"
    assert texts["slow"][5] == "2026-12-02 05:06:07.000120"
    assert texts["fast"][6] == b'{"a": 1}'  # the first copy of a repeated id
    assert texts["fast"][:5] == texts["slow"][:5]
    assert texts["fast"][6:] == texts["slow"][6:]
    assert texts["fast"][-3:] == ("text", "blob", "integer")
    found = await store.get("fast")
    assert found is not None and found.received_at == at and found.attempts == 0


async def test_checkpoints_leave_the_loop_when_it_yields(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_place: list[int] = []
    kept = type(db._inline())
    monkeypatch.setattr(kept, "checkpoint", lambda self: in_place.append(1))
    store = DeliveryStore(db)
    body = b"x" * 60_000
    for n in range(250):
        await store.record_many([_delivery(f"d{n}", body)])
        await asyncio.sleep(0.001)  # a serving loop yields between commits
    # the thread's checkpoints kept the log short and the loop never checkpointed
    assert in_place == []
    assert (tmp_path / "ghapp.db-wal").stat().st_size < 6_000_000
