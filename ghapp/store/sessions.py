"""Server-side sessions of the settings page: who signed in, until when, with which token.

Rows are keyed by the SHA-256 of the session id the cookie carries, never the id itself.
The token column holds whatever sealed form the web layer hands in (it encrypts it); this
module neither sees nor logs a usable token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ghapp.store.database import Database, as_utc, utcnow
from ghapp.store.tables import web_sessions


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class WebSession:
    user_login: str
    user_id: int
    sealed_token: str = field(repr=False)
    csrf_token: str = field(repr=False)
    created_at: datetime
    expires_at: datetime


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        session_id: str,
        *,
        user_login: str,
        user_id: int,
        sealed_token: str,
        csrf_token: str,
        lifetime: timedelta,
    ) -> WebSession:
        now = utcnow()
        session = WebSession(user_login, user_id, sealed_token, csrf_token, now, now + lifetime)
        async with self.db.begin() as conn:
            # Expired rows are swept whenever someone signs in: no scheduler needed.
            await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
            await conn.execute(
                web_sessions.insert().values(
                    id_hash=_hash(session_id),
                    user_login=user_login,
                    user_id=user_id,
                    token=sealed_token,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
        return session

    async def get(self, session_id: str) -> WebSession | None:
        """The live session with this id; None when unknown or expired."""
        async with self.db.connect() as conn:
            row = (
                await conn.execute(
                    select(web_sessions).where(web_sessions.c.id_hash == _hash(session_id))
                )
            ).first()
        if row is None:
            return None
        expires_at = as_utc(row.expires_at) or utcnow()
        if expires_at <= utcnow():
            await self.delete(session_id)
            return None
        return WebSession(
            user_login=row.user_login,
            user_id=row.user_id,
            sealed_token=row.token,
            csrf_token=row.csrf_token,
            created_at=as_utc(row.created_at) or utcnow(),
            expires_at=expires_at,
        )

    async def delete(self, session_id: str) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                delete(web_sessions).where(web_sessions.c.id_hash == _hash(session_id))
            )

    async def expire(self, session_id: str) -> None:
        """End a session now (tests and "sign out everywhere" use it)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == _hash(session_id))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
