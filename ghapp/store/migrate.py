"""The schema brought up to the newest migration (Alembic), at start-up and by `ghapp db upgrade`.

Importing Alembic (and Mako, which it loads for its templates) costs a process ~6 MiB
that it keeps for its whole life. Every start but the first after a release with a new
migration finds the database already at `HEAD`: one read of `alembic_version` tells, and
Alembic is loaded only when there is something to migrate (issue 17's memory target).
`tests/test_migrations.py` checks `HEAD` against Alembic's own head of `migrations/`.
"""

from __future__ import annotations

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
