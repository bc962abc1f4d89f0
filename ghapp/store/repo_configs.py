"""The last valid `.github/ghapp.yml` of each repository, and small App-wide values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from ghapp.store.database import Database, utcnow
from ghapp.store.tables import app_values, repo_configs


class RepoConfigStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def remember(self, repository: str, sections: dict[str, Any]) -> None:
        stmt = self.db.insert(repo_configs).values(
            repository=repository.lower(), content=sections, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["repository"],
            set_={"content": stmt.excluded.content, "updated_at": stmt.excluded.updated_at},
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)

    async def last_good(self, repository: str) -> dict[str, Any] | None:
        async with self.db.connect() as conn:
            return await conn.scalar(
                select(repo_configs.c.content).where(
                    repo_configs.c.repository == repository.lower()
                )
            )


class AppValues:
    """Named values ghapp generates once and keeps (e.g. the session secret)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_or_create(self, name: str, make: Any) -> str:
        async with self.db.begin() as conn:
            await conn.execute(
                self.db.insert(app_values)
                .values(name=name, value=make())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = await conn.scalar(select(app_values.c.value).where(app_values.c.name == name))
        return str(value)

    async def get(self, name: str) -> str | None:
        async with self.db.connect() as conn:
            value = await conn.scalar(select(app_values.c.value).where(app_values.c.name == name))
        return None if value is None else str(value)

    async def delete(self, name: str) -> None:
        async with self.db.begin() as conn:
            await conn.execute(delete(app_values).where(app_values.c.name == name))
