"""Fixtures for the real services: a PostgreSQL database and a Redis key space per test.

Import the fixtures into a test module under their function names
(`from tests.services import postgres_url_fixture`); tests ask for them by fixture name
(`postgres_url`, `redis_url`, `redis_space`, and `db_url`/`db`: a store test run once on a
SQLite file and once on PostgreSQL, the latter needing `postgres_url_fixture` imported too).
Each test gets its own database (`CREATE DATABASE ghapp_test_<random>`, dropped at the
end) and its own Redis key space (a random App id, so every ghapp and saq key carries it;
those keys are deleted at the end; never FLUSHDB). A missing server skips the test with
the reason, or fails it under CI=true (`require_service`).

Servers: GHAPP_TEST_POSTGRES (an admin URL, default the local server's `postgres`
database) and GHAPP_TEST_REDIS (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ghapp.store import Database
from tests.conftest import require_service

POSTGRES_ADMIN = os.environ.get(
    "GHAPP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("GHAPP_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _with_database(url: str, database: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, ""))


@pytest.fixture(name="postgres_url")
async def postgres_url_fixture() -> AsyncIterator[str]:
    """`postgresql+asyncpg://…/ghapp_test_<random>`: an empty database of its own."""
    import asyncpg

    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        require_service("postgresql", f"cannot connect to {POSTGRES_ADMIN}: {exc}")
        raise  # unreachable: require_service skips or fails
    name = f"ghapp_test_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_database(POSTGRES_ADMIN, name, "postgresql+asyncpg")
    finally:
        # FORCE: a worker process killed mid-test may still hold a connection.
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(
    name="db_url", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def db_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the test's own, once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    # Looked up here, not in the async fixture below: pytest-asyncio cannot start an
    # async fixture from inside another one's running loop.
    return str(request.getfixturevalue("postgres_url"))


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    """The database at `url` with every migration applied, closed afterwards."""
    database = Database(url)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture(name="db")
async def db_fixture(db_url: str) -> AsyncIterator[Database]:
    """That database with every migration applied."""
    async with migrated(db_url) as database:
        yield database


@dataclass(frozen=True)
class RedisSpace:
    """Where one test's keys live: ghapp names its keys after the App id."""

    url: str
    app_id: int

    @property
    def namespace(self) -> str:
        return f"ghapp:{self.app_id}"

    @property
    def patterns(self) -> tuple[str, ...]:
        return (f"{self.namespace}:*", f"saq:{self.namespace}:*", f"saq:job:{self.namespace}:*")


@pytest.fixture(name="redis_url")
async def redis_url_fixture() -> str:
    """The Redis server's URL, once it answered a PING."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS, socket_connect_timeout=3)
    try:
        await client.execute_command("PING")
    except OSError as exc:
        require_service("redis", f"cannot reach {REDIS}: {exc}")
    except Exception as exc:  # redis' ConnectionError is not an OSError
        require_service("redis", f"cannot reach {REDIS}: {exc}")
    finally:
        await client.aclose()
    return REDIS


@pytest.fixture(name="redis_space")
async def redis_space_fixture(redis_url: str) -> AsyncIterator[RedisSpace]:
    """A random App id (hence key space) on the Redis server; its keys go at the end."""
    from redis.asyncio import Redis

    space = RedisSpace(redis_url, app_id=700_000_000 + secrets.randbelow(100_000_000))
    yield space
    client = Redis.from_url(redis_url)
    try:
        keys = [
            key
            for pattern in space.patterns
            async for key in client.scan_iter(match=pattern, count=500)
        ]
        # saq marks a swept job as aborting under `saq:abort:<job key>` for 5 s, a name
        # that leaves out the queue: left behind, it would make the next test's job with
        # the same key (tests reuse "d-1") be silently refused by saq's enqueue.
        job_prefix = f"saq:job:{space.namespace}:".encode()
        keys += [b"saq:abort:" + k[len(job_prefix) :] for k in keys if k.startswith(job_prefix)]
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])
    finally:
        await client.aclose()
