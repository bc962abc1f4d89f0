"""`installation*` events keep the installations table true and reach the skills' onboarding.

A recording skill stands in for label-sync's first sync: it shows which installation
events reach skills, and that a suspended or deleted installation gets no work. The data of
a deleted installation is kept (docs/setup.md, "Data retention").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ghapp import Context, Skill
from ghapp.bus import load_skills
from ghapp.store.tables import installations
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import (
    installation_event,
    installation_repositories_event,
    issues_event,
)

IID = 1  # the fake GitHub's installation (tests/conftest.py)
Call = tuple[str, str | None, int]


def recording_skill(name: str, calls: list[Call]) -> Skill:
    skill = Skill(name, "Records what reaches it", permissions={"issues": "read"})

    @skill.on("installation", "installation_repositories", "issues.opened")
    async def record(ctx: Context) -> None:
        calls.append((ctx.event, ctx.action, ctx.installation_id))

    return skill


@pytest.fixture
def calls() -> list[Call]:
    return []


@pytest.fixture
async def app(
    tmp_path: Path, fake_github: FakeGitHub, calls: list[Call]
) -> AsyncIterator[SkillTestApp]:
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[recording_skill("recorder", calls)]
    ) as test_app:
        yield test_app


async def repos(app: SkillTestApp) -> list[str]:
    return [name for _iid, name in await app.runtime.installations.repositories(IID)]


async def row(app: SkillTestApp) -> Any:
    async with app.runtime.db.connect() as conn:
        return (await conn.execute(select(installations).where(installations.c.id == IID))).first()


@pytest.mark.parametrize("action", ["deleted", "suspend"])
async def test_an_installation_change_github_does_not_confirm_stops_nothing(
    app: SkillTestApp, calls: list[Call], action: str
) -> None:
    """The signature covers the body only: a signed `installation` body re-sent under a new
    delivery id (or another event's body under this header) must not switch the
    installation off while GitHub says it is there and not suspended."""
    await app.dispatch("installation", created())
    calls.clear()
    delivery = await app.dispatch("installation", installation_event(action))
    assert delivery.status == "ignored" and "does not confirm" in (delivery.error or "")
    stored = await app.runtime.installations.get(IID)
    assert stored is not None and stored.active
    assert stored.deleted_at is None and stored.suspended_at is None
    asked = [r for r in app.requests if r.path == f"/app/installations/{IID}"]
    assert asked, "GitHub was not asked"
    await app.dispatch("issues", opened())
    assert calls == [("issues", "opened", IID)]  # still gets work


def created() -> dict[str, Any]:
    return installation_event("created", installation_id=IID, repositories=["octo-org/hello"])


def opened() -> dict[str, Any]:
    return issues_event("opened", repo="octo-org/hello", installation_id=IID)


async def test_created_is_recorded_and_reaches_onboarding(
    app: SkillTestApp, calls: list[Call]
) -> None:
    payload = installation_event(
        "created", installation_id=IID, repositories=["octo-org/hello", "octo-org/docs"]
    )
    delivery = await app.dispatch("installation", payload)
    assert delivery.status == "done"
    assert calls == [("installation", "created", IID)]
    stored = await app.runtime.installations.get(IID)
    assert stored is not None and stored.active
    assert (stored.account_login, stored.account_type) == ("octo-org", "Organization")
    assert await repos(app) == ["octo-org/docs", "octo-org/hello"]
    assert await app.runtime.installations.active_ids() == [IID]


async def test_repositories_added_and_removed(app: SkillTestApp, calls: list[Call]) -> None:
    await app.dispatch("installation", installation_event("created", repositories=["octo-org/a"]))
    added = installation_repositories_event("added", added=["octo-org/b", "octo-org/c"])
    await app.dispatch("installation_repositories", added)
    assert await repos(app) == ["octo-org/a", "octo-org/b", "octo-org/c"]
    removed = installation_repositories_event("removed", removed=["octo-org/a", "octo-org/c"])
    await app.dispatch("installation_repositories", removed)
    assert await repos(app) == ["octo-org/b"]
    # Each change reaches the skills (label-sync syncs the repositories just added).
    assert calls[1:] == [
        ("installation_repositories", "added", IID),
        ("installation_repositories", "removed", IID),
    ]


async def test_suspended_installation_gets_no_work_until_unsuspended(
    app: SkillTestApp, calls: list[Call], fake_github: FakeGitHub
) -> None:
    await app.dispatch(
        "installation", installation_event("created", repositories=["octo-org/hello"])
    )
    calls.clear()
    fake_github.installations[IID].suspended_at = datetime.now(UTC)  # GitHub agrees
    await app.dispatch("installation", installation_event("suspend"))
    stored = await app.runtime.installations.get(IID)
    assert stored is not None and stored.suspended_at is not None and not stored.active
    assert await app.runtime.installations.active_ids() == []

    delivery = await app.dispatch("issues", opened())
    assert delivery.status == "done"
    assert delivery.runs == []
    assert calls == []  # not even the suspend event itself

    fake_github.installations[IID].suspended_at = None
    await app.dispatch("installation", installation_event("unsuspend"))
    stored = await app.runtime.installations.get(IID)
    assert stored is not None and stored.active
    await app.dispatch("issues", opened())
    assert calls == [("installation", "unsuspend", IID), ("issues", "opened", IID)]


async def test_deleted_installation_keeps_its_data_and_gets_no_work(
    app: SkillTestApp, calls: list[Call], fake_github: FakeGitHub
) -> None:
    await app.dispatch(
        "installation", installation_event("created", repositories=["octo-org/hello"])
    )
    await app.set_switch(IID, "", "recorder", True)
    calls.clear()
    removed = fake_github.installations.pop(IID)  # GitHub agrees: GET answers 404
    await app.dispatch("installation", installation_event("deleted"))
    fake_github.installations[IID] = removed
    stored = await app.runtime.installations.get(IID)
    assert stored is not None and stored.deleted_at is not None and not stored.active
    # Kept, not purged: repositories and switches survive a deletion.
    assert await repos(app) == ["octo-org/hello"]
    switches = await app.runtime.switches.enabled_map(IID, None, {"recorder": False})
    assert switches == {"recorder": True}

    delivery = await app.dispatch("issues", opened())
    assert delivery.runs == []
    assert calls == []

    # Installed again: active again, with what it had.
    await app.dispatch(
        "installation", installation_event("created", repositories=["octo-org/hello"])
    )
    stored = await app.runtime.installations.get(IID)
    assert stored is not None and stored.active
    assert calls == [("installation", "created", IID)]


async def test_new_permissions_accepted_is_recorded(app: SkillTestApp, calls: list[Call]) -> None:
    await app.dispatch("installation", installation_event("created"))
    before = await row(app)
    assert before.permissions_accepted_at is None
    payload = installation_event("new_permissions_accepted")
    payload["installation"]["permissions"] = {"issues": "write", "members": "read"}
    await app.dispatch("installation", payload)
    after = await row(app)
    assert after.permissions_accepted_at is not None
    assert after.permissions == {"issues": "write", "members": "read"}
    assert calls[-1] == ("installation", "new_permissions_accepted", IID)


async def test_onboarding_runs_only_for_enabled_skills(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    on_calls: list[Call] = []
    off_calls: list[Call] = []
    skills = [recording_skill("on", on_calls), recording_skill("off", off_calls)]
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills) as test_app:
        await test_app.set_switch(IID, "", "off", False)
        delivery = await test_app.dispatch("installation", installation_event("created"))
    assert on_calls == [("installation", "created", IID)]
    assert off_calls == []
    outcomes = {run.skill: run.outcome for run in delivery.runs}
    assert outcomes == {"on": "ok", "off": "skipped"}


def test_label_sync_onboards_new_installations_and_repositories() -> None:
    label_sync = load_skills()["label-sync"]
    assert label_sync.handlers_for("installation", "created")
    assert label_sync.handlers_for("installation_repositories", "added")
