"""PostgreSQL connections handed out by the pool are alive, without a ping before every
transaction: one the server closed is replaced, one used moments ago is trusted, one idle
for a while is pinged first (ghapp/store/database.py, `Database._checkout`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from ghapp.store import Database
from ghapp.store import database as database_module
from tests.services import postgres_url_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url)
    try:
        yield database
    finally:
        await database.close()


async def backend_pid(db: Database) -> int:
    return await db.transact(lambda conn: int(conn.scalar(text("SELECT pg_backend_pid()"))))


def count_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    dialect = db.engine.sync_engine.dialect
    original = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return original(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


async def test_a_connection_the_server_closed_is_replaced_not_used(
    db: Database, postgres_url: str
) -> None:
    first = await backend_pid(db)
    admin = Database(postgres_url)  # another engine: not a connection of db's pool
    try:
        await admin.transact(
            lambda conn: conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.3)  # asyncpg reads the server's goodbye
    # Without the check this transaction would run on the dead connection and fail.
    second = await backend_pid(db)
    assert second != first


async def test_a_recently_used_connection_is_not_pinged(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(db, monkeypatch)
    for _ in range(5):
        await backend_pid(db)
    assert pings == []


async def test_an_idle_connection_is_pinged_before_use(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(db, monkeypatch)
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.05)
    await backend_pid(db)
    await asyncio.sleep(0.1)
    await backend_pid(db)
    assert pings == [1]


async def test_a_failed_ping_gives_a_fresh_connection(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await backend_pid(db)
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.0)
    dialect = db.engine.sync_engine.dialect

    def dead(_dbapi_connection: Any) -> bool:
        raise OSError("connection reset")

    monkeypatch.setattr(dialect, "do_ping", dead)
    await asyncio.sleep(0.01)
    # The pinged connection is dropped; a new one (not pinged: it was just opened) serves.
    assert await backend_pid(db) != first
