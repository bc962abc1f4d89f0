"""Migrations from an empty database, on SQLite and PostgreSQL, end at exactly the schema
of `ghapp.store.tables.metadata` (autogenerate finds nothing to add, drop or alter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from ghapp.store.database import MIGRATIONS, Database
from ghapp.store.migrate import HEAD
from ghapp.store.tables import metadata
from tests.services import postgres_url_fixture  # noqa: F401  (fixture)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _differences(sync_conn: Any) -> list[Any]:
    context = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _tables(sync_conn: Any) -> set[str]:
    return set(inspect(sync_conn).get_table_names())


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def test_upgrade_from_empty_matches_the_tables(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.connect() as conn:
            assert await conn.run_sync(_tables) == set(), "starts empty"
        await db.upgrade()
        await db.upgrade()  # a second run (every deploy runs it) changes nothing
        async with db.connect() as conn:
            assert await conn.run_sync(_tables) == {*metadata.tables, "alembic_version"}
            assert await conn.run_sync(_differences) == []
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == _head() == HEAD  # HEAD: what start-up compares without Alembic
    finally:
        await db.close()


def _downgrade(sync_conn: Any) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = sync_conn
    command.downgrade(config, "base")


async def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    db = Database(db_url)
    try:
        await db.upgrade()
        async with db.begin() as conn:
            await conn.run_sync(_downgrade)
        async with db.connect() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}
        await db.upgrade()
        async with db.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await db.close()


@pytest.mark.postgres
def test_ghapp_db_upgrade_takes_a_hosting_platform_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`ghapp db upgrade` with `postgres://…` as Heroku-style platforms hand it out."""
    database_url = str(request.getfixturevalue("postgres_url"))
    plain = database_url.replace("postgresql+asyncpg://", "postgres://", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "APP_"))}
    env["DATABASE_URL"] = plain
    done = subprocess.run(
        [sys.executable, "-m", "ghapp.cli", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "latest schema" in done.stdout

    async def check() -> list[Any]:
        db = Database(database_url)
        try:
            async with db.connect() as conn:
                return await conn.run_sync(_differences)
        finally:
            await db.close()

    import asyncio

    assert asyncio.run(check()) == []
