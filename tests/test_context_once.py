"""`ctx.once` and `ctx.happened`: effects kept single across redeliveries and crashes.

Contexts here are lent the real services over a real effects table (SQLite); their
handlers talk to no one, so no GitHub is needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ghapp import Context, NoOptions, RepoRef
from ghapp.github import AppInfo, local_locks
from ghapp.services import HandlerServices
from ghapp.store import Database, EffectStore


@pytest.fixture
async def effects(tmp_path: Path) -> AsyncIterator[EffectStore]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'effects.db'}")
    await db.upgrade()
    try:
        yield EffectStore(db)
    finally:
        await db.close()


def context(effects: EffectStore, *, repo: str = "o/r", dry_run: bool = False) -> Context[Any]:
    services = HandlerServices({}, None, effects, local_locks())  # type: ignore[arg-type]
    return Context(
        skill="greeter",
        event="issues",
        action="opened",
        delivery_id="d-1",
        payload={},
        github=None,  # type: ignore[arg-type]
        installation_id=1,
        repo=RepoRef.parse(repo),
        options=NoOptions(),
        configured=False,
        app=AppInfo(1, "bot", "Bot", "https://github.com/apps/bot"),
        services=services,
        dry_run=dry_run,
    )


class Recorder:
    """An effect that notes each call and whether it was told an earlier try may have acted."""

    def __init__(self, result: str | None = None, fail: bool = False) -> None:
        self.calls: list[bool] = []
        self.result = result
        self.fail = fail

    async def __call__(self, retrying: bool) -> str | None:
        self.calls.append(retrying)
        if self.fail:
            raise RuntimeError("crashed half way")
        return self.result


async def test_an_effect_runs_once_and_keeps_its_result(effects: EffectStore) -> None:
    ctx = context(effects)
    act = Recorder(result="comment 5")
    assert not await ctx.happened("greet:1")
    assert await ctx.once("greet:1", act) is True
    assert await ctx.once("greet:1", act) is False  # a redelivery
    assert act.calls == [False]
    assert await ctx.happened("greet:1")
    # Kept under the skill and the repository, as before ctx.once existed.
    assert await effects.result("greeter:o/r:greet:1") == "comment 5"


async def test_after_a_crash_the_next_attempt_is_told_to_look_first(effects: EffectStore) -> None:
    ctx = context(effects)
    crashed = Recorder(fail=True)
    with pytest.raises(RuntimeError):
        await ctx.once("greet:1", crashed)
    assert not await ctx.happened("greet:1")  # begun, never finished
    retry = Recorder()
    assert await ctx.once("greet:1", retry) is True
    assert (crashed.calls, retry.calls) == ([False], [True])
    assert await ctx.happened("greet:1")


async def test_keys_belong_to_one_skill_in_one_repository(effects: EffectStore) -> None:
    here, there = context(effects), context(effects, repo="o/other")
    other_skill = replace(here, skill="labeler")
    act = Recorder()
    for ctx in (here, there, other_skill):
        assert await ctx.once("greet:1", act) is True
    assert act.calls == [False, False, False]


async def test_a_dry_run_acts_and_records_nothing(effects: EffectStore) -> None:
    dry = context(effects, dry_run=True)
    act = Recorder()
    assert await dry.once("greet:1", act) is True
    assert await dry.once("greet:1", act) is True
    assert act.calls == [False, False]
    # A later real run must still act: the table was not written.
    assert await effects.begin("greeter:o/r:greet:1", None) == "new"
