"""Issue 17: on PostgreSQL ingress's group commit keeps one connection between batches
(ghapp/store/raw_insert.py, PostgresRecord) instead of a pool checkout per batch, and
replaces it when it breaks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from ghapp.store import Database, Delivery, DeliveryStore
from tests.services import migrated, postgres_url_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres


def _delivery(delivery_id: str) -> Delivery:
    return Delivery(
        id=delivery_id,
        event="star",
        action="created",
        installation_id=1,
        repository="o/r",
        ordering_key=None,
        received_at=datetime.now(UTC),
        status="ignored",
        attempts=0,
        payload=b"{}",
    )


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[Database]:
    async with migrated(postgres_url) as database:
        yield database


def _break(
    monkeypatch: pytest.MonkeyPatch, driver: Any, method: str, error: Exception
) -> list[str]:
    """`driver.method` raises `error` (asyncpg's connections take no attributes: the
    class is patched, for this connection only); returns the calls' first arguments."""
    cls = type(driver)
    real = getattr(cls, method)
    calls: list[str] = []

    async def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self is not driver:
            return await real(self, *args, **kwargs)
        calls.append(args[0])
        raise error

    monkeypatch.setattr(cls, method, broken)
    return calls


def _kept(store: DeliveryStore) -> Any:
    driver = store._postgres_record._driver
    assert driver is not None
    return driver


async def _backend(driver: Any) -> int:
    return int(await driver.fetchval("SELECT pg_backend_pid()"))


async def _terminate(db: Database, pid: int) -> None:
    async with db.connect() as conn:
        other = (await conn.get_raw_connection()).driver_connection
        assert other is not None
        assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)


async def test_batches_share_one_connection_kept_out_of_the_pool(db: Database) -> None:
    store = DeliveryStore(db)
    assert await store.record_many([_delivery("a1"), _delivery("a2")]) == {"a1", "a2"}
    first = _kept(store)
    pool = db.engine.sync_engine.pool
    checked_out = pool.checkedout()  # type: ignore[attr-defined]
    assert await store.record_many([_delivery("a2"), _delivery("a3")]) == {"a3"}
    assert _kept(store) is first
    assert pool.checkedout() == checked_out == 1  # type: ignore[attr-defined]
    await db.close()
    assert first.is_closed()  # returned to the pool, closed with it


async def test_an_idle_connection_that_answers_its_ping_is_kept(db: Database) -> None:
    store = DeliveryStore(db)
    assert await store.record_many([_delivery("g1")]) == {"g1"}
    old = _kept(store)
    store._postgres_record._used_at -= 60
    assert await store.record_many([_delivery("g2")]) == {"g2"}
    assert _kept(store) is old


async def test_batches_at_the_same_time_both_commit(db: Database) -> None:
    """One waits for the server on the kept connection, the other takes a pooled one."""
    store = DeliveryStore(db)
    assert await store.record_many([_delivery("b1")]) == {"b1"}
    kept = _kept(store)
    both = await asyncio.gather(
        store.record_many([_delivery("b2"), _delivery("b3")]),
        store.record_many([_delivery("b4")]),
    )
    assert both == [{"b2", "b3"}, {"b4"}]
    assert _kept(store) is kept
    assert db.engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]


async def test_a_connection_the_server_closed_is_replaced_before_the_next_batch(
    db: Database,
) -> None:
    store = DeliveryStore(db)
    assert await store.record_many([_delivery("c1")]) == {"c1"}
    old = _kept(store)
    await _terminate(db, await _backend(old))
    for _ in range(200):  # until asyncpg has seen the socket close
        if old.is_closed():
            break
        await asyncio.sleep(0.01)
    assert old.is_closed()
    assert await store.record_many([_delivery("c2")]) == {"c2"}
    assert _kept(store) is not old
    assert await store.get("c2") is not None


async def test_an_idle_connection_that_fails_its_ping_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DeliveryStore(db)
    record = store._postgres_record
    assert await store.record_many([_delivery("d1")]) == {"d1"}
    old = _kept(store)
    # The server vanished without a word: only a ping tells.
    pings = _break(monkeypatch, old, "fetchrow", ConnectionResetError("silently dead"))
    record._used_at -= 60
    assert await store.record_many([_delivery("d2")]) == {"d2"}
    assert pings == [";"]
    assert _kept(store) is not old
    assert old.is_closed()  # invalidated: never handed out again


async def test_a_connection_used_moments_ago_is_not_pinged(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DeliveryStore(db)
    assert await store.record_many([_delivery("e1")]) == {"e1"}
    old = _kept(store)
    pings = _break(monkeypatch, old, "fetchrow", ConnectionResetError("would fail a ping"))
    assert await store.record_many([_delivery("e2")]) == {"e2"}
    assert pings == []
    assert _kept(store) is old


async def test_a_batch_that_fails_on_a_broken_connection_fails_and_the_next_one_reconnects(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DeliveryStore(db)
    assert await store.record_many([_delivery("f1")]) == {"f1"}
    old = _kept(store)

    # It broke while the batch waited for the server.
    error = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    _break(monkeypatch, old, "fetch", error)
    with pytest.raises(asyncpg.exceptions.ConnectionDoesNotExistError):
        await store.record_many([_delivery("f2")])  # (ingress answers 503: redelivered)
    assert store._postgres_record._driver is None
    assert old.is_closed()  # invalidated: never handed out again
    assert await store.record_many([_delivery("f2")]) == {"f2"}
    assert _kept(store) is not old
    assert db.engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
