"""Which skills are on: per installation, overridden per repository; every change audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, or_, select

from ghapp.store.database import Database, as_utc, utcnow
from ghapp.store.tables import skill_switches, switch_audit

INSTALLATION_WIDE = ""
# Read for every delivery: built once (issue 17).
_SWITCHES = select(skill_switches).where(skill_switches.c.installation_id == bindparam("i"))


@dataclass
class SwitchChange:
    installation_id: int
    repository: str
    skill: str
    before: str
    after: str
    actor: str
    at: datetime


def _word(value: bool | None) -> str:
    return "inherit" if value is None else ("on" if value else "off")


class SwitchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def switches(self, installation_id: int) -> dict[tuple[str, str], bool]:
        """{(repository or "", skill): enabled} as stored for one installation."""
        rows = await self.db.read(
            lambda conn: conn.execute(_SWITCHES, {"i": installation_id}).all()
        )
        return {(r.repository, r.skill): r.enabled for r in rows}

    async def enabled_map(
        self, installation_id: int, repository: str | None, defaults: dict[str, bool]
    ) -> dict[str, bool]:
        """Effective on/off of every skill for a repository: override → installation → default."""
        return effective(await self.switches(installation_id), repository, defaults)

    async def set(
        self,
        installation_id: int,
        repository: str,
        skill: str,
        enabled: bool | None,
        *,
        actor: str,
    ) -> SwitchChange | None:
        """Set a switch (None = inherit, i.e. remove the override) and audit the change."""
        now = utcnow()
        async with self.db.begin() as conn:
            before_value = await conn.scalar(
                select(skill_switches.c.enabled).where(
                    skill_switches.c.installation_id == installation_id,
                    skill_switches.c.repository == repository,
                    skill_switches.c.skill == skill,
                )
            )
            if before_value == enabled:
                return None
            await conn.execute(
                delete(skill_switches).where(
                    skill_switches.c.installation_id == installation_id,
                    skill_switches.c.repository == repository,
                    skill_switches.c.skill == skill,
                )
            )
            if enabled is not None:
                await conn.execute(
                    skill_switches.insert().values(
                        installation_id=installation_id,
                        repository=repository,
                        skill=skill,
                        enabled=enabled,
                        updated_by=actor,
                        updated_at=now,
                    )
                )
            change = SwitchChange(
                installation_id, repository, skill, _word(before_value), _word(enabled), actor, now
            )
            await conn.execute(
                switch_audit.insert().values(
                    installation_id=installation_id,
                    repository=repository,
                    skill=skill,
                    before=change.before,
                    after=change.after,
                    actor=actor,
                    at=now,
                )
            )
        return change

    async def audit(
        self,
        installation_id: int,
        limit: int = 50,
        *,
        offset: int = 0,
        repositories: list[str] | None = None,
        repository: str | None = None,
    ) -> list[SwitchChange]:
        """Newest first. `repositories`: only changes of these repositories and of the
        whole installation (what one person may see); `repository`: only that one's."""
        query = (
            select(switch_audit)
            .where(switch_audit.c.installation_id == installation_id)
            .order_by(switch_audit.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        if repositories is not None:
            query = query.where(
                or_(
                    switch_audit.c.repository == INSTALLATION_WIDE,
                    switch_audit.c.repository.in_(repositories),
                )
            )
        if repository is not None:
            query = query.where(switch_audit.c.repository == repository)
        async with self.db.connect() as conn:
            rows = await conn.execute(query)
            return [
                SwitchChange(
                    r.installation_id,
                    r.repository,
                    r.skill,
                    r.before,
                    r.after,
                    r.actor,
                    as_utc(r.at) or now_fallback(),
                )
                for r in rows
            ]


def effective(
    stored: dict[tuple[str, str], bool], repository: str | None, defaults: dict[str, bool]
) -> dict[str, bool]:
    """Effective on/off of every skill for a repository from its installation's stored
    switches: override → installation → default."""
    result: dict[str, bool] = {}
    for skill, default in defaults.items():
        value = stored.get((INSTALLATION_WIDE, skill), default)
        if repository is not None:
            value = stored.get((repository, skill), value)
        result[skill] = value
    return result


def now_fallback() -> datetime:
    return utcnow()
