"""The guard behind "effects happen once", keyed by the object that triggered the effect.

A skill begins an effect under a key such as `mention-reply:o/r:comment:123`. The first
caller gets "new"; a later caller gets "done" once the effect was finished, or "retry"
when an earlier attempt began it but never finished (a crash): the skill then checks
GitHub for the effect before acting again.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, bindparam, select, update

from ghapp.store import direct
from ghapp.store.database import Database, utcnow
from ghapp.store.tables import effects

EffectState = Literal["new", "retry", "done"]
# Built once: building a statement per call cost five times its execution (issue 17).
_STATE = select(effects.c.state).where(effects.c.key == bindparam("k"))
_FINISH = (
    update(effects)
    .where(effects.c.key == bindparam("k"))
    .values(state="done", result=bindparam("r"), updated_at=bindparam("now"))
)


class EffectStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._begin = db.insert(effects).on_conflict_do_nothing(index_elements=["key"])

    async def begin(self, key: str, delivery_id: str | None) -> EffectState:
        if self.db.direct is not None:  # PostgreSQL: each statement alone, on asyncpg
            state = await direct.effect_begin(self.db.direct, key, delivery_id, utcnow())
            return "new" if state == "new" else "done" if state == "done" else "retry"
        row = {"key": key, "state": "started", "delivery_id": delivery_id, "updated_at": utcnow()}

        def work(conn: Connection) -> EffectState:
            if conn.execute(self._begin, row).rowcount == 1:
                return "new"
            state = conn.scalar(_STATE, {"k": key})
            return "done" if state == "done" else "retry"

        return await self.db.transact(work)

    async def finish(self, key: str, result: str | None = None) -> None:
        if self.db.direct is not None:
            return await direct.effect_finish(self.db.direct, key, result, utcnow())
        values = {"k": key, "r": result, "now": utcnow()}
        await self.db.transact(lambda conn: conn.execute(_FINISH, values))

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
