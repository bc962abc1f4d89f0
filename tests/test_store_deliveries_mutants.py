"""A delivery's stored state, step by step, on SQLite and PostgreSQL
(`ghapp/store/deliveries.py`, the store ingress writes through and the worker reads).

What an operator sees of a delivery — on the settings page, after a crash, after a retry,
after `ghapp redeliver` — is what these methods leave in the database: whether a repeated
delivery was stored again, its status, attempts and error, when it may run again, which
skills finished, and which deliveries wait behind which. The mutation run of the module
found these unjudged; docs/testing.md ("Mutation testing") keeps the score.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ghapp.store import Database, Delivery, DeliveryStore, SkillRun
from ghapp.store.deliveries import DeliveryFilter
from tests.services import (  # noqa: F401  (fixtures)
    db_fixture,
    db_url_fixture,
    postgres_url_fixture,
)

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
def store(db: Database) -> DeliveryStore:
    return DeliveryStore(db)


def delivery(
    ident: str,
    *,
    seconds: int = 0,
    key: str | None = "o/r#1",
    repository: str | None = "o/r",
    event: str = "issues",
    action: str | None = "opened",
    installation_id: int | None = 7,
    status: str = "queued",
    payload: bytes = b'{"action": "opened"}',
) -> Delivery:
    return Delivery(
        id=ident,
        event=event,
        action=action,
        installation_id=installation_id,
        repository=repository,
        ordering_key=key,
        received_at=T0 + timedelta(seconds=seconds),
        status=status,
        attempts=0,
        payload=payload,
    )


def runs(found: Delivery | None) -> list[tuple[str, str, str | None, float | None]]:
    assert found is not None
    return [(r.skill, r.outcome, r.detail, r.duration_ms) for r in found.runs]


# --- storing what ingress accepted ---------------------------------------------------------


async def test_a_delivery_is_stored_as_it_arrived(store: DeliveryStore) -> None:
    arrived = replace(delivery("d-1", seconds=5), attempts=3)  # attempts start at 0 anyway
    assert await store.record(arrived)
    found = await store.get("d-1")
    assert found is not None
    assert (found.id, found.event, found.action, found.name) == (
        "d-1",
        "issues",
        "opened",
        "issues.opened",
    )
    assert (found.installation_id, found.repository, found.ordering_key) == (7, "o/r", "o/r#1")
    assert found.received_at == T0 + timedelta(seconds=5)
    assert (found.status, found.attempts, found.payload) == ("queued", 0, b'{"action": "opened"}')
    assert (found.finished_at, found.not_before, found.error, found.runs) == (None, None, None, [])


async def test_an_ignored_delivery_is_stored_finished(store: DeliveryStore) -> None:
    ping = replace(
        delivery("d-ping", event="ping", action=None, key=None, installation_id=None),
        status="ignored",
        finished_at=T0 + timedelta(seconds=1),
    )
    assert await store.record(ping)
    found = await store.get("d-ping")
    assert found is not None
    assert (found.name, found.status, found.finished_at) == (
        "ping",
        "ignored",
        T0 + timedelta(seconds=1),
    )
    assert (found.action, found.installation_id, found.ordering_key) == (None, None, None)
    assert await store.count_unfinished() == 0


async def test_a_batch_stores_each_new_delivery_once(store: DeliveryStore) -> None:
    assert await store.record(delivery("seen"))
    batch = [
        delivery("a", payload=b"first"),
        delivery("b"),
        delivery("a", payload=b"second"),  # GitHub retried while the first was queued
        delivery("seen", payload=b"again"),
    ]
    assert await store.record_many(batch) == {"a", "b"}
    stored_a, stored_seen = await store.get("a"), await store.get("seen")
    assert stored_a is not None and stored_a.payload == b"first"
    assert stored_seen is not None and stored_seen.payload == b'{"action": "opened"}'
    assert await store.record_many([]) == set()
    assert await store.count_unfinished() == 3


async def test_an_in_memory_database_stores_a_batch_through_sqlalchemy_as_a_file_does() -> None:
    # In memory there is no second connection for the raw INSERT: SQLAlchemy's own runs.
    database = Database("sqlite+aiosqlite://")
    await database.upgrade()
    try:
        assert database.in_memory
        await test_a_batch_stores_each_new_delivery_once(DeliveryStore(database))
        stored = await DeliveryStore(database).get("b")
        assert stored is not None and stored.received_at == T0 and stored.attempts == 0
        assert (stored.event, stored.action, stored.installation_id) == ("issues", "opened", 7)
        assert (stored.repository, stored.ordering_key, stored.status) == ("o/r", "o/r#1", "queued")
    finally:
        await database.close()


# --- a worker's attempts, crashes and retries ------------------------------------------------


async def test_each_claim_is_one_more_attempt_and_carries_the_earlier_runs(
    store: DeliveryStore,
) -> None:
    await store.record(delivery("d-1"))
    first = await store.claim("d-1")
    assert first is not None
    assert (first.status, first.attempts, first.runs) == ("running", 1, [])
    retry_at = T0 + timedelta(minutes=5)
    await store.requeue(
        "d-1",
        retry_at,
        "GitHub answered 502",
        [SkillRun("hello", "ok", None, 1.5), SkillRun("label-sync", "retry", "502", 2.0)],
    )
    queued = await store.get("d-1")
    assert queued is not None
    assert (queued.status, queued.attempts, queued.error) == ("queued", 1, "GitHub answered 502")
    assert queued.not_before == retry_at

    second = await store.claim("d-1")
    assert second is not None
    assert (second.status, second.attempts) == ("running", 2)
    assert runs(second) == [("hello", "ok", None, 1.5), ("label-sync", "retry", "502", 2.0)]


async def test_a_requeue_keeps_earlier_runs_and_updates_a_skill_run_again(
    store: DeliveryStore,
) -> None:
    await store.record(delivery("d-1"))
    await store.claim("d-1")
    await store.requeue("d-1", T0, "first", [SkillRun("b-skill", "retry", "down", 1.0)])
    await store.claim("d-1")
    await store.requeue(
        "d-1",
        T0 + timedelta(minutes=1),
        "second",
        [SkillRun("a-skill", "ok", None, 3.0), SkillRun("b-skill", "retry", "still down", 4.0)],
    )
    found = await store.get("d-1")
    assert runs(found) == [("a-skill", "ok", None, 3.0), ("b-skill", "retry", "still down", 4.0)]
    assert found is not None and found.error == "second"


async def test_finishing_records_the_outcome_and_clears_the_retry_time(
    store: DeliveryStore,
) -> None:
    await store.record(delivery("d-1"))
    await store.claim("d-1")
    await store.requeue("d-1", T0 + timedelta(hours=1), "502")
    again = await store.claim("d-1")
    assert again is not None and (again.attempts, again.runs) == (2, []), "no skill finished"
    before = datetime.now(UTC)
    await store.finish(
        "d-1",
        "failed",
        "ValueError: kaput",
        [SkillRun("hello", "retry", "1", 1.0), SkillRun("hello", "error", "kaput", 2.0)],
    )
    found = await store.get("d-1")
    assert found is not None
    assert (found.status, found.error, found.not_before, found.attempts) == (
        "failed",
        "ValueError: kaput",
        None,
        2,
    )
    assert found.finished_at is not None
    assert before - timedelta(seconds=5) <= found.finished_at <= datetime.now(UTC)
    # One row per skill: the last word on it counts.
    assert runs(found) == [("hello", "error", "kaput", 2.0)]
    assert await store.claim("d-1") is None, "a finished delivery is never claimed again"


async def test_finishing_without_an_error_stores_none(store: DeliveryStore) -> None:
    await store.record(delivery("d-1"))
    await store.claim("d-1")
    await store.requeue("d-1", T0, "502")
    await store.claim("d-1")
    await store.finish("d-1", "done")
    found = await store.get("d-1")
    assert found is not None and (found.status, found.error) == ("done", None)


@pytest.mark.parametrize("status", ["done", "failed", "ignored"])
async def test_only_an_unfinished_delivery_is_claimed(store: DeliveryStore, status: str) -> None:
    await store.record(delivery("d-1", status=status))
    await store.record(delivery("d-2"))
    assert await store.claim("d-1") is None
    assert await store.claim("missing") is None
    found = await store.get("d-1")
    assert found is not None and (found.status, found.attempts) == (status, 0)
    claimed = await store.claim("d-2")
    assert claimed is not None and claimed.id == "d-2"


async def test_after_a_crash_only_the_running_deliveries_are_queued_again(
    store: DeliveryStore,
) -> None:
    for ident in ("running-1", "running-2", "queued", "done"):
        await store.record(delivery(ident))
    await store.claim("running-1")
    await store.claim("running-2")
    await store.claim("done")
    await store.finish("done", "done")
    assert await store.reset_running() == 2
    statuses = {}
    for ident in ("running-1", "running-2", "queued", "done"):
        found = await store.get(ident)
        assert found is not None
        statuses[ident] = (found.status, found.attempts)
    assert statuses == {
        "running-1": ("queued", 1),
        "running-2": ("queued", 1),
        "queued": ("queued", 0),
        "done": ("done", 1),
    }
    assert await store.reset_running() == 0


async def test_a_single_run_is_recorded_as_it_finishes(store: DeliveryStore) -> None:
    await store.record(delivery("d-1"))
    await store.claim("d-1")
    await store.record_run("d-1", SkillRun("hello", "ok", "fine", 0.5))
    found = await store.get("d-1")
    assert runs(found) == [("hello", "ok", "fine", 0.5)]
    assert found is not None and found.status == "running"


# --- what waits, and behind what ---------------------------------------------------------------


async def test_unfinished_deliveries_oldest_first(store: DeliveryStore) -> None:
    await store.record(delivery("late", seconds=30, key="o/r#2"))
    await store.record(delivery("early", seconds=10))
    await store.record(delivery("running", seconds=20))
    await store.record(delivery("done", seconds=0))
    await store.claim("running")
    await store.claim("done")
    await store.finish("done", "done")
    await store.claim("late")
    retry_at = T0 + timedelta(hours=2)
    await store.requeue("late", retry_at, "502")

    assert [d.id for d in await store.unfinished()] == ["early", "running", "late"]
    refs = sorted(await store.unfinished_refs())
    assert refs == [
        ("early", "o/r#1", None),
        ("late", "o/r#2", retry_at),
        ("running", "o/r#1", None),
    ]
    assert await store.count_unfinished() == 3


async def test_a_delivery_waits_behind_the_oldest_unfinished_one_of_its_issue(
    store: DeliveryStore,
) -> None:
    await store.record(delivery("a-first", seconds=0))
    await store.record(delivery("b-tied", seconds=10))
    await store.record(delivery("c-tied", seconds=10))
    await store.record(delivery("d-last", seconds=20))
    await store.record(delivery("other-issue", seconds=0, key="o/r#2"))
    await store.record(delivery("no-key", seconds=0, key=None))

    first = await store.older_unfinished("d-last")
    assert first == ("a-first", "o/r#1", None)
    assert await store.older_unfinished("a-first") is None
    assert await store.older_unfinished("other-issue") is None
    assert await store.older_unfinished("no-key") is None
    assert await store.older_unfinished("missing") is None

    # Finished ones no longer hold anything up; a tie in time goes by id.
    await store.claim("a-first")
    await store.finish("a-first", "done")
    assert await store.older_unfinished("d-last") == ("b-tied", "o/r#1", None)
    assert await store.older_unfinished("c-tied") == ("b-tied", "o/r#1", None)
    assert await store.older_unfinished("b-tied") is None

    # A requeued one holds the others up until its retry time, which comes along.
    await store.claim("b-tied")
    retry_at = T0 + timedelta(minutes=3)
    await store.requeue("b-tied", retry_at, "502")
    assert await store.older_unfinished("d-last") == ("b-tied", "o/r#1", retry_at)


# --- the settings page and redeliver ---------------------------------------------------------


async def _listed(store: DeliveryStore, **kwargs: object) -> list[str]:
    return [d.id for d in await store.list(**kwargs)]  # type: ignore[arg-type]


async def test_the_list_newest_first_paged_and_narrowed(store: DeliveryStore) -> None:
    await store.record(delivery("old", seconds=0))
    await store.record(delivery("mid-b", seconds=10))
    await store.record(delivery("mid-a", seconds=10))
    await store.record(delivery("new", seconds=20, installation_id=8))
    await store.claim("mid-b")
    await store.finish("mid-b", "failed", "boom", [SkillRun("hello", "error", "boom", 1.0)])

    assert await _listed(store) == ["new", "mid-a", "mid-b", "old"]
    assert await _listed(store, limit=2) == ["new", "mid-a"]
    assert await _listed(store, limit=2, offset=2) == ["mid-b", "old"]
    assert await _listed(store, since=T0 + timedelta(seconds=10)) == ["new", "mid-a", "mid-b"]
    assert await _listed(store, failed_only=True) == ["mid-b"]
    assert await _listed(store, installation_ids=[8]) == ["new"]
    assert await _listed(store, installation_ids=[7], limit=1, offset=1) == ["mid-b"]
    (failed,) = await store.list(failed_only=True)
    assert runs(failed) == [("hello", "error", "boom", 1.0)]
    assert (await store.list(limit=1))[0].runs == []


async def test_what_one_person_sees_of_the_deliveries(store: DeliveryStore) -> None:
    await store.record(delivery("mine-issue", seconds=5, repository="o/mine"))
    await store.record(
        delivery("mine-comment", seconds=4, repository="o/mine", event="issue_comment")
    )
    await store.record(delivery("mine-closed", seconds=3, repository="o/mine", action="closed"))
    await store.record(delivery("theirs", seconds=2, repository="o/theirs"))
    await store.record(
        delivery("app-wide", seconds=1, repository=None, event="installation", action="created")
    )
    await store.claim("mine-closed")
    await store.finish("mine-closed", "failed", "boom")

    def seen(**kwargs: object) -> DeliveryFilter:
        return DeliveryFilter(["o/mine", "o/other"], **kwargs)  # type: ignore[arg-type]

    assert await _listed(store, visible=seen()) == ["mine-issue", "mine-comment", "mine-closed"]
    assert await _listed(store, visible=seen(unscoped=True)) == [
        "mine-issue",
        "mine-comment",
        "mine-closed",
        "app-wide",
    ]
    assert await _listed(store, visible=seen(repository="o/other")) == []
    assert await _listed(
        store, visible=seen(unscoped=True, repository="o/mine", status="failed")
    ) == ["mine-closed"]
    assert await _listed(store, visible=seen(event="issues")) == ["mine-issue", "mine-closed"]
    assert await _listed(store, visible=seen(event="issues.closed")) == ["mine-closed"]
    assert await _listed(store, visible=seen(event="")) == [
        "mine-issue",
        "mine-comment",
        "mine-closed",
    ]
    assert await _listed(store, visible=DeliveryFilter(["o/theirs"])) == ["theirs"]
    assert await _listed(store, visible=DeliveryFilter([], unscoped=True)) == ["app-wide"]


async def test_redeliver_takes_failed_and_unknown_ids_as_not_seen(store: DeliveryStore) -> None:
    await store.record(delivery("done"))
    await store.record(delivery("failed"))
    await store.record(delivery("queued"))
    await store.claim("failed")
    await store.finish("failed", "failed", "boom")
    assert await store.ids_seen(["done", "failed", "queued", "never"]) == {"done", "queued"}
    assert await store.ids_seen([]) == set()


async def test_the_list_shows_a_hundred_deliveries_unless_asked_for_more(
    store: DeliveryStore,
) -> None:
    await store.record_many([delivery(f"d-{n:03}", seconds=n) for n in range(101)])
    listed = await _listed(store)
    assert len(listed) == 100
    assert listed[0] == "d-100" and "d-000" not in listed
    assert len(await _listed(store, limit=101)) == 101


async def test_the_runs_are_listed_by_skill_whatever_order_they_finished_in(
    store: DeliveryStore,
) -> None:
    await store.record(delivery("d-1"))
    await store.claim("d-1")
    for skill in ("zeta", "mid", "alpha"):
        await store.record_run("d-1", SkillRun(skill, "ok", None, 1.0))
    expected = ["alpha", "mid", "zeta"]
    found = await store.get("d-1")
    assert found is not None and [r.skill for r in found.runs] == expected
    (listed,) = await store.list()
    assert [r.skill for r in listed.runs] == expected
    await store.requeue("d-1", T0, "502")
    claimed = await store.claim("d-1")
    assert claimed is not None and [r.skill for r in claimed.runs] == expected
