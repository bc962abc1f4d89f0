"""PeriodicRunStore on both backends: the last run of each job replaces the one before,
and an installation's runs read back filtered to the repositories a viewer can see."""

from __future__ import annotations

import pytest

from ghapp.store import Database, PeriodicRunStore
from tests.services import (  # noqa: F401  (fixtures)
    db_fixture,
    db_url_fixture,
    postgres_url_fixture,
)


@pytest.fixture
def store(db: Database) -> PeriodicRunStore:
    return PeriodicRunStore(db)


async def test_the_last_run_replaces_the_one_before(store: PeriodicRunStore) -> None:
    await store.record("label-sync:repair-drift", 1, "o/a", 10, "error", "boom " * 200)
    await store.record("label-sync:repair-drift", 1, "o/a", 11, "ok")
    await store.record("milestone-progress:due-dates", 1, "o/b", 3, "skipped", "switched off")
    await store.record("flaky:nightly", 1, None, 3, "retry", "GitHub unavailable")
    await store.record("label-sync:repair-drift", 2, "x/y", 11, "ok")  # another installation

    runs = await store.for_installation(1)
    assert [(r.job, r.repository, r.period, r.outcome, r.detail) for r in runs] == [
        ("flaky:nightly", None, 3, "retry", "GitHub unavailable"),
        ("label-sync:repair-drift", "o/a", 11, "ok", None),
        ("milestone-progress:due-dates", "o/b", 3, "skipped", "switched off"),
    ]
    assert (runs[1].skill, runs[1].name) == ("label-sync", "repair-drift")
    assert runs[1].finished_at.tzinfo is not None


async def test_only_visible_repositories_are_read(store: PeriodicRunStore) -> None:
    await store.record("label-sync:repair-drift", 1, "o/secret", 1, "ok")
    await store.record("label-sync:repair-drift", 1, "o/Public", 1, "ok")
    await store.record("flaky:nightly", 1, None, 1, "ok")
    seen = await store.for_installation(1, repositories=["o/public"])
    assert [r.repository for r in seen] == [None, "o/Public"]
    assert await store.for_installation(1, repositories=[]) == [seen[0]]


async def test_a_long_detail_is_cut(store: PeriodicRunStore) -> None:
    await store.record("a:b", 1, "o/r", 1, "error", "x" * 2000)
    [run] = await store.for_installation(1)
    assert run.detail == "x" * 500
