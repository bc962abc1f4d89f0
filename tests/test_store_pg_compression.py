"""Issue 17: on PostgreSQL a delivery's body is compressed with lz4 (where the server has
it), which costs the server half the CPU of its default pglz; bodies read back the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ghapp.store import Database, Delivery, DeliveryStore
from tests.services import postgres_url_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres


async def _value(db: Database, sql: str) -> object:
    """One value read with asyncpg itself (``pg_column_compression`` and the server's settings
    are PostgreSQL's, not SQLAlchemy's)."""
    async with db.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        return await driver.fetchval(sql)


async def test_bodies_are_stored_with_lz4_and_read_back_unchanged(postgres_url: str) -> None:
    db = Database(postgres_url)
    await db.upgrade()
    try:
        lz4 = await _value(
            db,
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
            " WHERE name = 'default_toast_compression'",
        )
        if not lz4:
            pytest.skip("this PostgreSQL server was built without lz4")
        body = json.dumps({"comment": {"body": "looks right to me " * 400}}).encode()
        now = datetime.now(UTC)
        delivery = Delivery(
            id="big",
            event="issue_comment",
            action="created",
            installation_id=1,
            repository="o/r",
            ordering_key="o/r#1",
            received_at=now,
            status="queued",
            attempts=0,
            payload=body,
        )
        store = DeliveryStore(db)
        assert await store.record_many([delivery]) == {"big"}
        method = await _value(
            db, "SELECT pg_column_compression(payload) FROM deliveries WHERE id = 'big'"
        )
        assert method == "lz4"
        stored = await store.get("big")
        assert stored is not None and stored.payload == body
    finally:
        await db.close()
