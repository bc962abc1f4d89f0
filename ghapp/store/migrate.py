"""The schema brought up to the newest migration (Alembic), at start-up and by `ghapp db upgrade`.

Importing Alembic (and Mako, which it loads for its templates) costs a process ~6 MiB
that it keeps for its whole life. Every start but the first after a release with a new
migration finds the database already at `HEAD`: one read of `alembic_version` tells, and
Alembic is loaded only when there is something to migrate (issue 17's memory target);
`ghapp run` on a new SQLite file migrates it from a short-lived child process
(`upgrade_apart`), so that even its first start does not keep Alembic.
`tests/test_migrations.py` checks `HEAD` against Alembic's own head of `migrations/`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0002"  # the newest revision in migrations/versions


def at_head(sync_conn: Any) -> bool:
    """Whether the database's recorded revision is `HEAD` (no table: a new database)."""
    if not inspect(sync_conn).has_table("alembic_version"):
        return False
    versions = sync_conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return list(versions) == [HEAD]


def upgrade_schema(sync_conn: Any) -> None:
    """Apply the migrations the database lacks, in the caller's transaction."""
    if at_head(sync_conn):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = sync_conn
    command.upgrade(config, "head")


_SAID = "ghapp-migrate: "  # the child's one line of error, among whatever else it printed


class MigrationFailed(RuntimeError):
    """The child process could not bring the database to `HEAD`."""


async def upgrade_apart(url: str) -> None:
    """`upgrade_schema` on the SQLite file at `url`, run by a child process of this Python."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ghapp.store.migrate",
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await child.communicate()
    if child.returncode != 0:
        said = [
            line.removeprefix(_SAID)
            for line in err.decode(errors="replace").splitlines()
            if line.startswith(_SAID)
        ]
        why = said[-1] if said else f"the child process ended with {child.returncode}"
        raise MigrationFailed(f"migrating the database failed: {why}")


if __name__ == "__main__":  # the child: a SQLite file, through the standard library's driver
    from sqlalchemy import create_engine, make_url

    try:
        engine = create_engine(make_url(sys.argv[1]).set(drivername="sqlite"))
        with engine.begin() as connection:
            upgrade_schema(connection)
    except Exception as exc:  # one line for the parent's error: the first of the message
        first = (str(exc).splitlines() or [""])[0]
        print(f"{_SAID}{type(exc).__name__}: {first}", file=sys.stderr, flush=True)
        sys.exit(1)
