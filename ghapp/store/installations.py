"""Installations and their repositories, kept true by `installation*` events.

`InstallationStore.follow` is that upkeep: the worker hands it every delivery before the
bus routes it, so a suspended or deleted installation is inactive before any skill
would act for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, select, update

from ghapp.store import direct
from ghapp.store.database import Database, as_utc, utcnow
from ghapp.store.deliveries import Delivery
from ghapp.store.tables import installations, repositories, skill_switches

# The events that change installations; GitHub sends them to every App.
INSTALLATION_EVENTS = frozenset({"installation", "installation_repositories"})
# Read for every delivery: built once (issue 17).
_GET = select(installations).where(installations.c.id == bindparam("i"))
# The installation and its skill switches, as one query: one row per switch (or one row
# without), the installation's columns empty when there is no such installation. What a
# delivery needs before any skill runs (issue 17, sixth pass: one read, not two).
_ASKED = select(bindparam("i", type_=BigInteger).label("asked")).subquery("asked")
_WITH_SWITCHES = select(
    installations,
    skill_switches.c.repository.label("switch_repository"),
    skill_switches.c.skill.label("switch_skill"),
    skill_switches.c.enabled.label("switch_enabled"),
).select_from(
    _ASKED.outerjoin(installations, installations.c.id == _ASKED.c.asked).outerjoin(
        skill_switches, skill_switches.c.installation_id == _ASKED.c.asked
    )
)
Switches = dict[tuple[str, str], bool]  # {(repository or "", skill): enabled}, as stored


@dataclass
class Installation:
    id: int
    account_login: str | None
    account_type: str | None
    suspended_at: datetime | None
    deleted_at: datetime | None
    permissions: dict[str, str]

    @property
    def active(self) -> bool:
        return self.suspended_at is None and self.deleted_at is None


class InstallationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(self, data: dict[str, Any]) -> None:
        """Store an installation object as found in webhook payloads and `GET /app/...`."""
        account = data.get("account") or {}
        now = utcnow()
        values = {
            "account_login": account.get("login") or account.get("slug"),
            "account_type": account.get("type") or data.get("target_type"),
            "repository_selection": data.get("repository_selection"),
            "permissions": data.get("permissions") or {},
            "events": data.get("events") or [],
            "updated_at": now,
            "deleted_at": None,
        }
        stmt = self.db.insert(installations).values(id=data["id"], created_at=now, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=values)
        async with self.db.begin() as conn:
            await conn.execute(stmt)

    async def follow(self, delivery: Delivery) -> None:
        """Apply an `installation*` delivery to the tables; other deliveries change nothing."""
        if delivery.event not in INSTALLATION_EVENTS:
            return
        payload: dict[str, Any] = json.loads(delivery.payload)
        installation = payload.get("installation")
        if not isinstance(installation, dict):
            return
        iid = installation["id"]
        action = delivery.action
        if delivery.event == "installation":
            if action == "deleted":
                await self.set_state(iid, deleted_at=utcnow())
                return
            await self.upsert(installation)
            if action == "suspend":
                await self.set_state(iid, suspended_at=utcnow())
            elif action == "unsuspend":
                await self.set_state(iid, suspended_at=None)
            elif action == "new_permissions_accepted":
                await self.set_state(iid, permissions_accepted_at=utcnow())
            await self.add_repositories(iid, payload.get("repositories") or [])
        else:
            await self.upsert(installation)
            await self.add_repositories(iid, payload.get("repositories_added") or [])
            removed = [r["id"] for r in payload.get("repositories_removed") or []]
            await self.remove_repositories(iid, removed)

    async def set_state(self, installation_id: int, **values: Any) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(installations)
                .where(installations.c.id == installation_id)
                .values(updated_at=utcnow(), **values)
            )

    async def get(self, installation_id: int) -> Installation | None:
        row = await self.db.read(lambda conn: conn.execute(_GET, {"i": installation_id}).first())
        return None if row is None else _installation(row._mapping)

    async def with_switches(self, installation_id: int) -> tuple[Installation | None, Switches]:
        """The installation (None when unknown) and its skill switches as stored, in one
        query (SwitchStore.switches reads the same switches alone)."""
        rows: list[Any]  # asyncpg Records or SQLAlchemy RowMappings: read by key
        if self.db.direct is not None:
            rows = await direct.with_switches(self.db.direct, installation_id)
        else:
            found = await self.db.read(
                lambda conn: conn.execute(_WITH_SWITCHES, {"i": installation_id}).all()
            )
            rows = [r._mapping for r in found]
        installation = _installation(rows[0]) if rows and rows[0]["id"] is not None else None
        switches = {
            (r["switch_repository"], r["switch_skill"]): r["switch_enabled"]
            for r in rows
            if r["switch_skill"] is not None
        }
        return installation, switches

    async def active_ids(self) -> list[int]:
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(installations.c.id).where(
                    installations.c.suspended_at.is_(None), installations.c.deleted_at.is_(None)
                )
            )
            return [r.id for r in rows]

    async def add_repositories(self, installation_id: int, repos: list[dict[str, Any]]) -> None:
        if not repos:
            return
        async with self.db.begin() as conn:
            for repo in repos:
                values = {
                    "installation_id": installation_id,
                    "full_name": repo["full_name"],
                    "private": repo.get("private"),
                }
                stmt = self.db.insert(repositories).values(id=repo["id"], **values)
                await conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    async def remove_repositories(self, installation_id: int, repo_ids: list[int]) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                delete(repositories).where(
                    repositories.c.installation_id == installation_id,
                    repositories.c.id.in_(repo_ids),
                )
            )

    async def purge(self, installation_id: int) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                delete(repositories).where(repositories.c.installation_id == installation_id)
            )

    async def repositories(self, installation_id: int | None = None) -> list[tuple[int, str]]:
        """(installation id, full name) of every known repository."""
        query = select(repositories.c.installation_id, repositories.c.full_name).order_by(
            repositories.c.full_name
        )
        if installation_id is not None:
            query = query.where(repositories.c.installation_id == installation_id)
        async with self.db.connect() as conn:
            return [(r.installation_id, r.full_name) for r in await conn.execute(query)]


def _installation(row: Any) -> Installation:
    permissions = row["permissions"]
    if isinstance(permissions, str):  # JSON as asyncpg returns it (SQLAlchemy decodes it)
        permissions = json.loads(permissions)
    return Installation(
        id=row["id"],
        account_login=row["account_login"],
        account_type=row["account_type"],
        suspended_at=as_utc(row["suspended_at"]),
        deleted_at=as_utc(row["deleted_at"]),
        permissions=permissions or {},
    )
