"""On PostgreSQL the statements of every delivery run on asyncpg's own connections, not
through SQLAlchemy's engine (ghapp/store/direct.py): the ordering check, the claim, the
installation and its switches, an effect's begin and finish, and the outcome, whose runs
and status are one statement (both or neither)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text

from ghapp.store import Database, Delivery, DeliveryStore, EffectStore, InstallationStore, SkillRun
from tests.services import migrated, postgres_url_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[Database]:
    async with migrated(postgres_url) as database:
        yield database


def delivery(ident: str) -> Delivery:
    return Delivery(
        id=ident,
        event="issue_comment",
        action="created",
        installation_id=7,
        repository="o/r",
        ordering_key="o/r#1",
        received_at=datetime.now(UTC),
        status="queued",
        attempts=0,
        payload=b"{}",
    )


async def test_the_statements_of_every_delivery_take_no_connection_of_the_engine(
    db: Database,
) -> None:
    deliveries, effects = DeliveryStore(db), EffectStore(db)
    installations = InstallationStore(db)
    await installations.upsert({"id": 7, "account": {"login": "o", "type": "User"}})
    await deliveries.record(delivery("d-1"))
    checkouts: list[int] = []
    pool = db.engine.sync_engine.pool

    def counted(*_: Any) -> None:
        checkouts.append(1)

    event.listen(pool, "checkout", counted)
    try:
        assert await deliveries.older_unfinished("d-1") is None
        claimed = await deliveries.claim("d-1")
        assert claimed is not None and claimed.attempts == 1
        found, switches = await installations.with_switches(7)
        assert found is not None and found.account_login == "o" and switches == {}
        assert await effects.begin("k", "d-1") == "new"
        await effects.finish("k", "done it")
        await deliveries.finish("d-1", "done", None, [SkillRun("s", "ok", None, 1.0)])
    finally:
        event.remove(pool, "checkout", counted)
    assert checkouts == [], "not one checkout of SQLAlchemy's pool"
    stored = await deliveries.get("d-1")
    assert stored is not None and stored.status == "done" and len(stored.runs) == 1
    assert await effects.result("k") == "done it"


async def test_an_outcome_is_its_runs_and_its_status_or_neither(db: Database) -> None:
    deliveries = DeliveryStore(db)
    await deliveries.record(delivery("d-1"))
    await deliveries.claim("d-1")
    too_long = "x" * 40  # skill_runs.outcome holds 16 characters: the INSERT fails
    with pytest.raises(asyncpg.PostgresError):
        await deliveries.finish("d-1", "done", None, [SkillRun("s", too_long, None, 1.0)])
    stored = await deliveries.get("d-1")
    assert stored is not None
    assert stored.status == "running" and stored.runs == [], "neither the runs nor the status"


async def test_a_connection_the_server_closed_is_replaced(db: Database) -> None:
    assert db.direct is not None
    first = await db.direct.fetchrow("SELECT pg_backend_pid()")
    assert first is not None
    await db.transact(
        lambda conn: conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first[0]})
    )
    await asyncio.sleep(0.3)  # asyncpg reads the server's goodbye
    second = await db.direct.fetchrow("SELECT pg_backend_pid()")
    assert second is not None and second[0] != first[0]


async def test_its_connections_close_with_the_database(postgres_url: str) -> None:
    database = Database(postgres_url)
    await database.upgrade()
    assert database.direct is not None
    pid = await database.direct.fetchrow("SELECT pg_backend_pid()")
    await database.close()
    admin = Database(postgres_url)
    try:

        def alive(conn: Any) -> int:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            return int(conn.scalar(query, {"p": pid[0] if pid else 0}))

        await asyncio.sleep(0.2)
        assert await admin.read(alive) == 0, "the asyncpg pool was closed with the engine"
    finally:
        await admin.close()


async def test_another_event_loop_gets_connections_of_its_own(db: Database) -> None:
    direct = db.direct
    assert direct is not None
    assert await direct.fetchrow("SELECT 1") == (1,)

    async def elsewhere() -> Any:
        return await direct.fetchrow("SELECT 2")

    # (asyncpg's connections belong to the loop that made them)
    assert await asyncio.to_thread(asyncio.run, elsewhere()) == (2,)
    assert await direct.fetchrow("SELECT 3") == (3,), "and this loop's again afterwards"
