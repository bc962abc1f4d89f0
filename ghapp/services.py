"""What the runtime lends a handler's Context: effects, deferred work, locks, options.

`HandlerServices` implements `ContextServices`, the narrow protocol a Context asks
through, so a skill reaches the effects table, the task queue and other repositories'
options without ever holding the store, the queue or the bus. The bus makes one per
delivery (`seeing`), holding the switches and configuration it already read, so that
`ctx.available_commands()` during that delivery reads neither again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from ghapp.context import AvailableCommand, Context, EffectState, RepoRef
from ghapp.github import LockFactory
from ghapp.options import OptionsResolver
from ghapp.repo_config import RepoConfig
from ghapp.skill import Command, Skill, switch_name
from ghapp.store import EffectStore, StoredTask
from ghapp.store.database import utcnow


class TaskSink(Protocol):
    async def enqueue_task(self, task: StoredTask, delay: float) -> bool: ...


@dataclass(frozen=True)
class SeenSettings:
    """What dispatch read for one delivery: its repository's switches and configuration."""

    repo: str | None
    enabled: dict[str, bool]
    config: RepoConfig


@dataclass(frozen=True)
class HandlerServices:
    skills: Mapping[str, Skill]
    resolver: OptionsResolver
    effects: EffectStore
    locks: LockFactory
    tasks: TaskSink | None = None
    seen: SeenSettings | None = None
    # Each skill's operator-wide settings (built by the runtime from Settings).
    operator: Mapping[str, BaseModel] = field(default_factory=dict[str, BaseModel])
    # Adds to a skill's declared counter: (metric name, amount, labels).
    counter: Callable[[str, float, dict[str, str]], None] | None = None

    def seeing(self, seen: SeenSettings) -> HandlerServices:
        """These services for one delivery, which already read `seen`."""
        return replace(self, seen=seen)

    async def begin_effect(self, key: str, delivery_id: str | None) -> EffectState:
        return await self.effects.begin(key, delivery_id)

    async def finish_effect(self, key: str, result: str | None) -> None:
        await self.effects.finish(key, result)

    async def effect_done(self, key: str) -> bool:
        return await self.effects.done(key)

    async def defer(
        self, ctx: Context[Any], task: str, args: dict[str, Any], *, key: str, delay: float
    ) -> bool:
        if self.tasks is None:
            raise RuntimeError("no task queue configured")
        skill = self.skills.get(ctx.skill)
        if skill is None or task not in skill.tasks:
            raise KeyError(f"{ctx.skill} has no task {task!r}")
        stored = StoredTask(
            key=f"{ctx.skill}:{task}:{key}",
            skill=ctx.skill,
            name=task,
            installation_id=ctx.installation_id,
            repository=ctx.repo.full_name if ctx.repo else None,
            # The task's requests then carry the deferring delivery's id (Bus.run_task).
            args={"delivery_id": ctx.delivery_id, **args},
            run_at=utcnow() + timedelta(seconds=delay),
        )
        return await self.tasks.enqueue_task(stored, delay)

    async def available_commands(self, ctx: Context[Any]) -> list[AvailableCommand]:
        repo_name = ctx.repo.full_name if ctx.repo else None
        seen = self.seen
        if seen is not None and seen.repo == repo_name:
            enabled, config = seen.enabled, seen.config  # read moments ago, for this delivery
        else:
            enabled = await self.resolver.enabled(ctx.installation_id, repo_name)
            config = (
                await self.resolver.load_config(ctx.github, ctx.repo) if ctx.repo else RepoConfig()
            )
        found: list[AvailableCommand] = []
        for skill in self.skills.values():
            if not skill.commands or not enabled.get(skill.name):
                continue
            resolved = await self.resolver.options_for(skill, config, ctx.repo)
            if resolved is None:
                continue
            for command in skill.commands.values():
                run = _invoker(command, resolved.options, resolved.configured)
                found.append(command.available(resolved.options, run))
        return sorted(found, key=lambda c: c.name)

    async def for_repo(self, ctx: Context[Any], full_name: str) -> Context[Any] | None:
        repo = RepoRef.parse(full_name)
        skill = self.skills[ctx.skill]
        resolved = await self.resolver.for_repo(ctx.github, ctx.installation_id, repo, skill)
        if resolved is None:
            return None
        return replace(ctx, repo=repo, options=resolved.options, configured=resolved.configured)

    async def options_at(self, ctx: Context[Any], ref: str) -> tuple[BaseModel | None, list[str]]:
        skill = self.skills[ctx.skill]
        return await self.resolver.options_at(ctx.github, ctx.require_repo(), skill, ref)

    def lock(self, name: str) -> AbstractAsyncContextManager[Any]:
        return self.locks(f"lock:{name}")

    async def feature_on(self, ctx: Context[Any], feature: str) -> bool:
        skill = self.skills[ctx.skill]
        if feature not in skill.features:
            raise KeyError(f"{skill.name} declares no feature {feature!r}")
        repo_name = ctx.repo.full_name if ctx.repo else None
        seen = self.seen
        if seen is not None and seen.repo == repo_name:
            enabled = seen.enabled  # read moments ago, for this delivery
        else:
            enabled = await self.resolver.enabled(ctx.installation_id, repo_name)
        return enabled.get(switch_name(skill.name, feature), skill.features[feature].default)

    def operator_settings(self, skill: str) -> BaseModel | None:
        return self.operator.get(skill)

    def count(self, skill: str, name: str, amount: float, labels: dict[str, str]) -> None:
        declared = self.skills.get(skill)
        if declared is None or name not in declared.counters:
            raise KeyError(f"{skill} declares no counter {name!r}")
        if self.counter is not None:
            self.counter(name, amount, labels)

    def offered(self, skill: str, name: str) -> Callable[..., Any] | None:
        found = self.skills.get(skill)
        return found.offers.get(name) if found is not None else None


def _invoker(
    command: Command, options: BaseModel, configured: bool
) -> Callable[[Context[Any], tuple[str, ...]], Awaitable[str]]:
    """Runs `command` as its own skill, with that skill's options, from any context."""

    async def invoke(ctx: Context[Any], args: tuple[str, ...]) -> str:
        own = replace(ctx, skill=command.skill, options=options, configured=configured)
        return await command.handler(own, args)

    return invoke
