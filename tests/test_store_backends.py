"""The same store tests on SQLite and PostgreSQL: one schema, one set of queries, both
dialects (upserts, time zones, JSON, autoincrement) behave alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ghapp.store import (
    Database,
    Delivery,
    DeliveryStore,
    EffectStore,
    InstallationStore,
    SkillRun,
    StoredTask,
    SwitchStore,
    TaskStore,
)
from tests.services import (  # noqa: F401  (fixtures)
    db_fixture,
    db_url_fixture,
    postgres_url_fixture,
)


def delivery(
    ident: str,
    *,
    key: str | None = "o/r#1",
    at: datetime | None = None,
    status: str = "queued",
    event: str = "issues",
) -> Delivery:
    return Delivery(
        id=ident,
        event=event,
        action="opened",
        installation_id=7,
        repository="o/r",
        ordering_key=key,
        received_at=at or datetime.now(UTC),
        status=status,
        attempts=0,
        payload=b'{"action": "opened"}',
    )


async def test_deliveries_record_once_claim_finish(db: Database) -> None:
    store = DeliveryStore(db)
    assert await store.record(delivery("d-1"))
    assert not await store.record(delivery("d-1")), "a delivery id is stored once"

    claimed = await store.claim("d-1")
    assert claimed is not None
    assert claimed.status == "running" and claimed.attempts == 1
    assert claimed.payload == b'{"action": "opened"}'
    assert claimed.received_at.tzinfo is not None, "times come back in UTC on every backend"

    await store.record_run("d-1", SkillRun("hello", "retry", "30|down", 1.5))
    await store.record_run("d-1", SkillRun("hello", "ok", None, 2.5))  # upsert per skill
    await store.record_run("d-1", SkillRun("label-sync", "skipped", "switched off", None))
    await store.finish("d-1", "done")

    assert await store.claim("d-1") is None, "a finished delivery is never claimed again"
    got = await store.get("d-1")
    assert got is not None
    assert got.status == "done" and got.finished_at is not None
    assert [(r.skill, r.outcome, r.duration_ms) for r in got.runs] == [
        ("hello", "ok", 2.5),
        ("label-sync", "skipped", None),
    ]
    assert await store.get("missing") is None


async def test_deliveries_requeue_unfinished_and_reset(db: Database) -> None:
    store = DeliveryStore(db)
    base = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    for n in range(3):
        await store.record(delivery(f"d-{n}", at=base + timedelta(seconds=n)))
    await store.record(delivery("ignored", status="ignored"))

    await store.claim("d-0")
    later = base + timedelta(hours=1)
    await store.requeue("d-0", later, "GitHub answered 502")
    await store.claim("d-1")  # a worker died holding it
    await store.claim("d-2")
    await store.finish("d-2", "failed", "boom")

    unfinished = await store.unfinished()
    assert [d.id for d in unfinished] == ["d-0", "d-1"], "oldest first, finished left out"
    assert unfinished[0].not_before == later
    assert unfinished[0].error == "GitHub answered 502"
    assert await store.count_unfinished() == 2

    assert await store.reset_running() == 1
    again = await store.claim("d-1")
    assert again is not None and again.attempts == 2, "attempts survive a crash"


async def test_deliveries_list_filters(db: Database) -> None:
    store = DeliveryStore(db)
    now = datetime.now(UTC)
    await store.record(delivery("old", at=now - timedelta(hours=3)))
    await store.record(delivery("new", at=now))
    await store.record(delivery("other-inst", at=now - timedelta(minutes=1)))
    await store.claim("new")
    await store.finish("new", "failed", "boom")

    assert [d.id for d in await store.list()] == ["new", "other-inst", "old"]
    assert [d.id for d in await store.list(since=now - timedelta(hours=1))] == [
        "new",
        "other-inst",
    ]
    assert [d.id for d in await store.list(failed_only=True)] == ["new"]
    assert await store.list(installation_ids=[99]) == []
    assert len(await store.list(installation_ids=[7], limit=2)) == 2
    assert await store.ids_seen(["old", "new", "never"]) == {"old"}, "failed ones count unseen"
    assert await store.ids_seen([]) == set()


async def test_effects_once(db: Database) -> None:
    effects = EffectStore(db)
    assert await effects.begin("hello:o/r:greet:1", "d-1") == "new"
    assert await effects.begin("hello:o/r:greet:1", "d-2") == "retry", "begun, not finished"
    assert await effects.result("hello:o/r:greet:1") is None
    assert not await effects.done("hello:o/r:greet:1")
    assert not await effects.done("hello:o/r:greet:2")  # never begun
    await effects.finish("hello:o/r:greet:1", "comment 5")
    assert await effects.begin("hello:o/r:greet:1", "d-3") == "done"
    assert await effects.result("hello:o/r:greet:1") == "comment 5"
    assert await effects.done("hello:o/r:greet:1")


async def test_switches_and_audit(db: Database) -> None:
    switches = SwitchStore(db)
    defaults = {"hello": True, "label-sync": True}
    assert await switches.enabled_map(7, "o/r", defaults) == defaults

    first = await switches.set(7, "", "hello", False, actor="mona")
    assert first is not None and (first.before, first.after) == ("inherit", "off")
    assert await switches.set(7, "", "hello", False, actor="mona") is None, "no-op unaudited"
    await switches.set(7, "o/r", "hello", True, actor="hubot")
    assert await switches.enabled_map(7, "o/r", defaults) == defaults
    assert await switches.enabled_map(7, "o/other", defaults) == {
        "hello": False,
        "label-sync": True,
    }
    assert await switches.enabled_map(7, None, defaults) == {"hello": False, "label-sync": True}
    await switches.set(7, "o/r", "hello", None, actor="hubot")  # back to inheriting
    assert (await switches.enabled_map(7, "o/r", defaults))["hello"] is False
    assert await switches.enabled_map(8, "o/r", defaults) == defaults, "per installation"

    audit = await switches.audit(7)
    assert [(c.repository, c.skill, c.before, c.after, c.actor) for c in audit] == [
        ("o/r", "hello", "on", "inherit", "hubot"),
        ("o/r", "hello", "inherit", "on", "hubot"),
        ("", "hello", "inherit", "off", "mona"),
    ]
    assert all(c.at.tzinfo is not None for c in audit)


async def test_tasks_coalesce_and_periodic_claims(db: Database) -> None:
    tasks = TaskStore(db)
    when = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    task = StoredTask(
        key="milestone-progress:refresh:o/r:3",
        skill="milestone-progress",
        name="refresh",
        installation_id=7,
        repository="o/r",
        args={"milestone": 3, "nested": {"list": [1, 2]}},
        run_at=when,
    )
    assert await tasks.add(task)
    assert not await tasks.add(task), "a pending task with the same key coalesces"
    assert [t.key for t in await tasks.pending()] == [task.key]

    taken = await tasks.take(task.key)
    assert taken == task, "args (JSON) and the UTC time come back as stored"
    assert await tasks.take(task.key) is None
    assert await tasks.add(task), "once taken, the next event schedules anew"

    assert await tasks.claim_period("label-sync:repair", 100)
    assert not await tasks.claim_period("label-sync:repair", 100), "once per period"
    assert await tasks.claim_period("label-sync:repair", 101)


async def test_installation_with_its_switches_in_one_read(db: Database) -> None:
    store, switches = InstallationStore(db), SwitchStore(db)
    assert await store.with_switches(7) == (None, {})
    await switches.set(7, "", "hello", False, actor="mona")  # switches before any row
    assert await store.with_switches(7) == (None, {("", "hello"): False})

    account = {"login": "octo-org", "type": "Organization"}
    await store.upsert({"id": 7, "account": account, "permissions": {"issues": "write"}})
    found, stored = await store.with_switches(7)
    assert found is not None and found.permissions == {"issues": "write"}
    assert found is not None and found.active and found.account_login == "octo-org"
    assert stored == {("", "hello"): False}, "an installation with one switch: one row"
    await switches.set(7, "o/r", "hello", True, actor="mona")
    await switches.set(7, "o/r", "label-sync", False, actor="mona")
    found, stored = await store.with_switches(7)
    assert found == await store.get(7), "the same installation as `get` reads"
    assert stored == await switches.switches(7) and len(stored) == 3

    await store.upsert({"id": 8, "account": {"login": "mona", "type": "User"}})
    await store.set_state(8, suspended_at=datetime.now(UTC))
    found, stored = await store.with_switches(8)
    assert found is not None and not found.active and stored == {}, "per installation"


async def test_installations_and_repositories(db: Database) -> None:
    store = InstallationStore(db)
    payload = {
        "id": 7,
        "account": {"login": "octo-org", "type": "Organization"},
        "repository_selection": "selected",
        "permissions": {"issues": "write"},
        "events": ["issues"],
    }
    await store.upsert(payload)
    await store.upsert({**payload, "permissions": {"issues": "write", "contents": "read"}})
    await store.upsert({"id": 8, "account": {"login": "mona", "type": "User"}})
    got = await store.get(7)
    assert got is not None and got.active
    assert got.account_login == "octo-org" and got.account_type == "Organization"
    assert got.permissions == {"issues": "write", "contents": "read"}

    await store.set_state(8, suspended_at=datetime.now(UTC))
    assert await store.active_ids() == [7]
    suspended = await store.get(8)
    assert suspended is not None and not suspended.active
    assert suspended.suspended_at is not None and suspended.suspended_at.tzinfo is not None

    await store.add_repositories(
        7, [{"id": 1, "full_name": "octo-org/b"}, {"id": 2, "full_name": "octo-org/a"}]
    )
    await store.add_repositories(8, [{"id": 3, "full_name": "mona/x", "private": True}])
    assert await store.repositories(7) == [(7, "octo-org/a"), (7, "octo-org/b")]
    await store.remove_repositories(7, [1])
    assert await store.repositories() == [(8, "mona/x"), (7, "octo-org/a")]
    await store.purge(8)
    assert await store.repositories() == [(7, "octo-org/a")]
