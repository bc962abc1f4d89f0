"""On PostgreSQL, reads and writes of one statement run in autocommit: no BEGIN and
ROLLBACK/COMMIT round trips around them (benchmarks/README.md, issue 17, sixth pass);
`transact` still runs its statements in one transaction, on the same pooled connections."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, text

from ghapp.store import Database
from tests.services import postgres_url_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres
# Each statement's transaction id: two alike ran in one transaction.
TWO_XIDS = "SELECT txid_current()"


def two_transaction_ids(conn: Connection) -> tuple[int, int]:
    return int(conn.scalar(text(TWO_XIDS))), int(conn.scalar(text(TWO_XIDS)))


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url)
    try:
        yield database
    finally:
        await database.close()


async def test_read_and_autocommit_run_each_statement_on_its_own(db: Database) -> None:
    first, second = await db.read(two_transaction_ids)
    assert first != second, "a read is not wrapped in BEGIN ... ROLLBACK"
    first, second = await db.autocommit(two_transaction_ids)
    assert first != second, "nor is a write of one statement in BEGIN ... COMMIT"


async def test_transact_keeps_its_transaction_after_autocommit_on_the_pool(db: Database) -> None:
    await db.read(two_transaction_ids)  # the pooled connection goes back reset
    first, second = await db.transact(two_transaction_ids)
    assert first == second, "one transaction for all of transact's statements"


async def test_an_autocommit_write_is_committed_when_it_returns(
    db: Database, postgres_url: str
) -> None:
    await db.autocommit(lambda conn: conn.execute(text("CREATE TABLE autocommit_t (a int)")))
    try:
        await db.autocommit(lambda conn: conn.execute(text("INSERT INTO autocommit_t VALUES (1)")))
        other = Database(postgres_url)  # another engine sees it: committed
        try:
            count = await other.read(
                lambda conn: conn.scalar(text("SELECT count(*) FROM autocommit_t"))
            )
        finally:
            await other.close()
        assert count == 1
    finally:
        await db.autocommit(lambda conn: conn.execute(text("DROP TABLE autocommit_t")))
