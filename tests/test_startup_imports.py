"""What a process keeps from start-up: packages only some deliveries need are loaded by
those deliveries (issue 17's memory target), and start-up still does everything it did.

- `openai` (~20 MiB): by the first mention the agent answers (`tests/test_agent*.py`
  answer through it), not by loading the mention-reply skill;
- asyncpg (~2 MiB): only by a process on PostgreSQL;
- Alembic (~6 MiB): only when the database is not at the newest migration, and by
  `ghapp run` (`migrate_apart`) not even then: a child process migrates.

Each case runs in a fresh interpreter: in this one, other tests have loaded them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ghapp.cli import main
from ghapp.store.migrate import HEAD

PRELUDE = """
import asyncio, sys
from pathlib import Path
from sqlalchemy import text
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.store.database import Database
from ghapp.testing import test_settings

settings = test_settings(Path(sys.argv[1]), api_url="https://api.github.com")

async def version():
    db = Database(settings.database_url)
    async with db.connect() as conn:
        found = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    await db.close()
    return found
"""


def run(tmp_path: Path, code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code, str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


START = """
async def main():
    runtime = Runtime(settings, RuntimeOptions(migrate_apart="apart" in sys.argv))
    await runtime.prepare()
    skills = sorted(runtime.skills)
    await runtime.stop()
    loaded = ["alembic" in sys.modules, "openai" in sys.modules, "asyncpg" in sys.modules]
    print(skills, *loaded, await version())

asyncio.run(main())
"""


def test_a_new_database_is_migrated_and_a_current_one_loads_no_alembic(tmp_path: Path) -> None:
    first = run(tmp_path, START)
    assert "'label-sync', 'mention-reply', 'milestone-progress'" in first  # loaded, as before
    assert first.endswith(f"True False False {HEAD}"), first  # new: Alembic migrated it
    assert run(tmp_path, START).endswith(f"False False False {HEAD}")  # at head: no Alembic


def test_a_database_behind_head_is_migrated(tmp_path: Path) -> None:
    run(tmp_path, START)
    behind = """
async def main():
    from ghapp.store.migrate import upgrade_schema
    db = Database(settings.database_url)
    async with db.begin() as conn:
        await conn.execute(text("DROP TABLE periodic_runs"))
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    async with db.begin() as conn:
        await conn.run_sync(upgrade_schema)
    async with db.connect() as conn:
        print(await conn.scalar(text("SELECT count(*) FROM periodic_runs")), await version())
    await db.close()

asyncio.run(main())
"""
    assert run(tmp_path, behind) == f"0 {HEAD}"


def test_ghapp_run_migrates_a_new_database_from_a_child_process(tmp_path: Path) -> None:
    assert run(tmp_path, START, "apart").endswith(f"False False False {HEAD}")


def test_a_failed_migration_in_the_child_says_why(tmp_path: Path) -> None:
    run(tmp_path, START)
    broken = """
async def main():
    from ghapp.store.migrate import MigrationFailed
    db = Database(settings.database_url)
    async with db.begin() as conn:  # 0002 would create a table that is already there
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        await db.upgrade(apart=True)
    except MigrationFailed as exc:
        print(exc)
    await db.close()

asyncio.run(main())
"""
    said = run(tmp_path, broken)
    assert said.startswith("migrating the database failed: "), said
    assert "periodic_runs already exists" in said, said


def test_ghapp_run_serves_no_websockets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn would load `websockets` for an endpoint kind ghapp does not have."""
    import uvicorn

    served: list[dict[str, Any]] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(options))
    assert main(["run"]) == 0
    assert served[0]["ws"] == "none"
