"""The guard behind "effects happen once", keyed by the object that triggered the effect.

A skill begins an effect under a key such as `mention-reply:o/r:comment:123`. The first
caller gets "new"; a later caller gets "done" once the effect was finished, or "retry"
when an earlier attempt began it but never finished (a crash): the skill then checks
GitHub for the effect before acting again.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, select, update

from ghapp.store.database import Database, utcnow
from ghapp.store.tables import effects

EffectState = Literal["new", "retry", "done"]


class EffectStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def begin(self, key: str, delivery_id: str | None) -> EffectState:
        stmt = (
            self.db.insert(effects)
            .values(key=key, state="started", delivery_id=delivery_id, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["key"])
        )

        def work(conn: Connection) -> EffectState:
            if conn.execute(stmt).rowcount == 1:
                return "new"
            state = conn.scalar(select(effects.c.state).where(effects.c.key == key))
            return "done" if state == "done" else "retry"

        return await self.db.transact(work)

    async def finish(self, key: str, result: str | None = None) -> None:
        stmt = (
            update(effects)
            .where(effects.c.key == key)
            .values(state="done", result=result, updated_at=utcnow())
        )
        await self.db.transact(lambda conn: conn.execute(stmt))

    async def done(self, key: str) -> bool:
        """Whether the effect under `key` was finished (a begun one is not)."""
        async with self.db.connect() as conn:
            state = await conn.scalar(select(effects.c.state).where(effects.c.key == key))
        return state == "done"

    async def result(self, key: str) -> str | None:
        async with self.db.connect() as conn:
            return await conn.scalar(
                select(effects.c.result).where(effects.c.key == key, effects.c.state == "done")
            )
