"""The event bus: which skills a delivery reaches, with what options, and what came of it.

For each delivery: keep the installations table true (`installation*` events), then for
every skill that handles the event and is switched on for the repository, build a Context
(installation client, typed payload, the repository's options for that skill) and run
its handlers. A failing skill is isolated: its error is recorded on the delivery and
counted, the others still run. GitHub outages and rate limits are not failures: the
delivery is handed back to the queue to be tried later, and skills that already finished
are not run again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from importlib.metadata import entry_points
from typing import Any, Protocol

from githubkit import GitHub
from pydantic import BaseModel

from ghapp.context import AvailableCommand, Context, RepoRef
from ghapp.github import (
    GitHubClients,
    GitHubUnavailable,
    RetryLater,
    classify_failure,
    current_delivery,
)
from ghapp.metrics import Metrics
from ghapp.repo_config import (
    CONFIG_PATH,
    RepoConfig,
    RepoConfigError,
    RepoConfigLoader,
    validate_options,
)
from ghapp.skill import Command, Skill
from ghapp.store import (
    Delivery,
    DeliveryStore,
    EffectStore,
    InstallationStore,
    RepoConfigStore,
    SkillRun,
    StoredTask,
    SwitchStore,
)
from ghapp.store.database import utcnow
from ghapp.store.effects import EffectState

log = logging.getLogger("ghapp.bus")
FINISHED = ("ok", "skipped")


class SkillLoadError(Exception):
    pass


def load_skills(extra: Iterable[Skill] = ()) -> dict[str, Skill]:
    """Every skill registered in the `ghapp.skills` entry-point group (built-ins included)."""
    skills: dict[str, Skill] = {}
    for ep in sorted(entry_points(group="ghapp.skills"), key=lambda e: e.name):
        try:
            skill = ep.load()
        except Exception as exc:  # a broken third-party skill must not stop the App
            log.error("cannot load skill %s: %s", ep.name, exc)
            continue
        if not isinstance(skill, Skill):
            log.error("entry point %s is not a ghapp.Skill", ep.name)
            continue
        skills[skill.name] = skill
    for skill in extra:
        skills[skill.name] = skill
    return skills


def touches_config(payload: dict[str, Any]) -> bool:
    """A push to the default branch that adds or changes `.github/ghapp.yml`."""
    default_branch = (payload.get("repository") or {}).get("default_branch")
    if payload.get("ref") != f"refs/heads/{default_branch}" or payload.get("deleted"):
        return False
    return any(
        CONFIG_PATH in (commit.get("added") or []) + (commit.get("modified") or [])
        for commit in payload.get("commits") or []
    )


class TaskSink(Protocol):
    async def enqueue_task(self, task: StoredTask, delay: float) -> bool: ...


@dataclass
class DispatchResult:
    retry_after: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


@dataclass
class Bus:
    skills: dict[str, Skill]
    clients: GitHubClients
    deliveries: DeliveryStore
    installations: InstallationStore
    switches: SwitchStore
    effects: EffectStore
    repo_configs: RepoConfigStore
    config_loader: RepoConfigLoader
    metrics: Metrics
    dry_run: bool = False
    tasks: TaskSink | None = None
    retry_delay: float = 30.0
    # What dispatch already read for each delivery in flight: (repo, switches, config), so
    # that `available_commands` during the same delivery does not read them again.
    _views: dict[str, tuple[str | None, dict[str, bool], RepoConfig]] = field(
        default_factory=dict, init=False, repr=False
    )

    # -- switches and options ------------------------------------------------------------

    @property
    def defaults(self) -> dict[str, bool]:
        return {name: skill.default_enabled for name, skill in self.skills.items()}

    async def enabled(self, installation_id: int, repo: str | None) -> dict[str, bool]:
        return await self.switches.enabled_map(installation_id, repo, self.defaults)

    async def load_config(self, gh: GitHub[Any], repo: RepoRef) -> RepoConfig:
        """The repository's configuration, or its last valid one when the file is broken."""
        try:
            config = await self.config_loader.load(gh, repo.owner, repo.name)
        except RepoConfigError as exc:
            log.warning("invalid %s: %s", CONFIG_PATH, exc, extra={"repo": repo.full_name})
            last = await self.repo_configs.last_good(repo.full_name)
            return RepoConfig(sections=last or {}, found=last is not None)
        return config

    async def options_for(
        self, skill: Skill, config: RepoConfig, repo: RepoRef | None
    ) -> tuple[BaseModel, bool] | None:
        """(options, has its own section) — None when the section is invalid and no valid
        one was seen before: then the skill does nothing rather than act on defaults."""
        section = config.section(skill.name)
        try:
            return validate_options(skill.name, skill.options, section), section is not None
        except RepoConfigError as exc:
            log.warning("%s", exc, extra={"skill": skill.name})
        if repo is not None:
            last = await self.repo_configs.last_good(repo.full_name) or {}
            if skill.name in last:
                try:
                    return validate_options(skill.name, skill.options, last[skill.name]), True
                except RepoConfigError:
                    pass
        return None

    # -- dispatch ------------------------------------------------------------------------

    async def dispatch(self, delivery: Delivery) -> DispatchResult:
        payload: dict[str, Any] = json.loads(delivery.payload)
        await self._track_installation(delivery.event, delivery.action, payload)
        result = DispatchResult()
        iid = delivery.installation_id
        candidates = [
            s for s in self.skills.values() if s.handlers_for(delivery.event, delivery.action)
        ]
        config_push = delivery.event == "push" and touches_config(payload)
        if iid is None or not (candidates or config_push):
            return result
        installation = await self.installations.get(iid)
        if installation is not None and not installation.active:
            return result
        repo = RepoRef.parse(delivery.repository) if delivery.repository else None
        enabled = await self.enabled(iid, repo.full_name if repo else None)
        done = {r.skill for r in delivery.runs if r.outcome in FINISHED}
        todo = [s for s in candidates if s.name not in done]
        token = current_delivery.set(delivery.id)
        try:
            try:
                gh = await self.clients.installation(iid)
                app = await self.clients.app_info()
                config = await self.load_config(gh, repo) if repo else RepoConfig()
                self._views[delivery.id] = (repo.full_name if repo else None, enabled, config)
                if repo and config_push:
                    await self._check_config_push(gh, repo, payload, config)
            except Exception as exc:
                return self._setup_failed(delivery, exc, todo)
            for skill in todo:
                run = await self._run_skill(
                    skill, delivery, payload, gh, app, repo, config, enabled
                )
                await self._record(delivery, run)
                if run.outcome == "retry":
                    delay = float(run.detail.split("|", 1)[0]) if run.detail else self.retry_delay
                    result.retry_after = max(result.retry_after or 0.0, delay)
                elif run.outcome == "error":
                    result.errors.append(f"{skill.name}: {run.detail}")
        finally:
            self._views.pop(delivery.id, None)
            current_delivery.reset(token)
        return result

    def _setup_failed(
        self, delivery: Delivery, exc: Exception, todo: list[Skill]
    ) -> DispatchResult:
        transient = classify_failure(exc)
        if transient is not None:
            log.warning(
                "cannot prepare delivery (%s); will retry",
                transient,
                extra={"delivery": delivery.id},
            )
        if isinstance(transient, RetryLater):
            return DispatchResult(retry_after=transient.delay)
        if isinstance(transient, GitHubUnavailable):
            return DispatchResult(retry_after=self.retry_delay)
        log.exception("cannot prepare delivery", extra={"delivery": delivery.id})
        return DispatchResult(errors=[f"{s.name}: {exc}" for s in todo])

    async def _run_skill(
        self,
        skill: Skill,
        delivery: Delivery,
        payload: dict[str, Any],
        gh: GitHub[Any],
        app: Any,
        repo: RepoRef | None,
        config: RepoConfig,
        enabled: dict[str, bool],
    ) -> SkillRun:
        started = time.perf_counter()

        def run(outcome: str, detail: str | None = None) -> SkillRun:
            return SkillRun(skill.name, outcome, detail, (time.perf_counter() - started) * 1000)

        if not enabled.get(skill.name, False):
            return run("skipped", "switched off")
        resolved = await self.options_for(skill, config, repo)
        if resolved is None:
            return run("skipped", f"invalid {CONFIG_PATH} section")
        ctx = self._context(
            skill,
            delivery.event,
            delivery.action,
            delivery.id,
            payload,
            gh,
            app,
            delivery.installation_id or 0,
            repo,
            resolved,
        )
        try:
            for handler in skill.handlers_for(delivery.event, delivery.action):
                await handler(ctx)
        except Exception as exc:
            return self._failure(ctx, exc, run)
        return run("ok")

    def _context(
        self,
        skill: Skill,
        event: str,
        action: str | None,
        delivery_id: str,
        payload: dict[str, Any],
        gh: GitHub[Any],
        app: Any,
        installation_id: int,
        repo: RepoRef | None,
        resolved: tuple[BaseModel, bool],
    ) -> Context:
        return Context(
            skill=skill.name,
            event=event,
            action=action,
            delivery_id=delivery_id,
            payload=payload,
            github=gh,
            installation_id=installation_id,
            repo=repo,
            options=resolved[0],
            configured=resolved[1],
            app=app,
            services=self,
            dry_run=self.dry_run,
        )

    def _failure(self, ctx: Context, exc: Exception, run: Any) -> SkillRun:
        transient = exc if isinstance(exc, RetryLater | GitHubUnavailable) else None
        transient = transient or classify_failure(exc)
        if isinstance(transient, RetryLater):
            ctx.log.warning("rate limited; retrying in %.0fs", transient.delay)
            return run("retry", f"{transient.delay}|{transient}")
        if isinstance(transient, GitHubUnavailable):
            ctx.log.warning("GitHub unavailable (%s); will retry", transient)
            return run("retry", f"{self.retry_delay}|{transient}")
        ctx.log.exception("skill failed")
        return run("error", f"{type(exc).__name__}: {exc}"[:500])

    async def _record(self, delivery: Delivery, run: SkillRun) -> None:
        await self.deliveries.record_run(delivery.id, run)
        self.metrics.skill_runs.labels(run.skill, run.outcome).inc()

    # -- installations -------------------------------------------------------------------

    async def _track_installation(
        self, event: str, action: str | None, payload: dict[str, Any]
    ) -> None:
        installation = payload.get("installation")
        if event not in ("installation", "installation_repositories") or not isinstance(
            installation, dict
        ):
            return
        iid = installation["id"]
        if event == "installation":
            if action == "deleted":
                await self.installations.set_state(iid, deleted_at=utcnow())
                return
            await self.installations.upsert(installation)
            if action == "suspend":
                await self.installations.set_state(iid, suspended_at=utcnow())
            elif action == "unsuspend":
                await self.installations.set_state(iid, suspended_at=None)
            elif action == "new_permissions_accepted":
                await self.installations.set_state(iid, permissions_accepted_at=utcnow())
            await self.installations.add_repositories(iid, payload.get("repositories") or [])
        else:
            await self.installations.upsert(installation)
            await self.installations.add_repositories(iid, payload.get("repositories_added") or [])
            removed = [r["id"] for r in payload.get("repositories_removed") or []]
            await self.installations.remove_repositories(iid, removed)

    # -- invalid configuration is reported where its author looks ------------------------

    async def _check_config_push(
        self, gh: GitHub[Any], repo: RepoRef, payload: dict[str, Any], config: RepoConfig
    ) -> None:
        problems = await self.config_problems(gh, repo)
        if not problems:
            await self.repo_configs.remember(repo.full_name, config.sections)
        head = payload.get("after")
        if not head:
            return
        await gh.rest.checks.async_create(
            repo.owner,
            repo.name,
            name=f"ghapp: {CONFIG_PATH}",
            head_sha=head,
            status="completed",
            conclusion="failure" if problems else "success",
            output={
                "title": "Invalid configuration" if problems else "Configuration is valid",
                "summary": "\n".join(f"- {p}" for p in problems)
                or "Every skill's section validates.",
            },
        )

    async def config_problems(
        self, gh: GitHub[Any], repo: RepoRef, ref: str | None = None
    ) -> list[str]:
        """Everything wrong with a repository's configuration file, for its author."""
        try:
            config = await self.config_loader.load(gh, repo.owner, repo.name, ref=ref)
        except RepoConfigError as exc:
            return [str(exc)]
        problems = []
        for name in config.sections:
            if name not in self.skills:
                problems.append(f"{name}: no such skill (known: {', '.join(sorted(self.skills))})")
                continue
            try:
                validate_options(name, self.skills[name].options, config.section(name))
            except RepoConfigError as exc:
                problems.append(str(exc))
        return problems

    # -- ContextServices -----------------------------------------------------------------

    async def begin_effect(self, key: str, delivery_id: str | None) -> EffectState:
        return await self.effects.begin(key, delivery_id)

    async def finish_effect(self, key: str, result: str | None) -> None:
        await self.effects.finish(key, result)

    async def defer(
        self, ctx: Context, task: str, args: dict[str, Any], *, key: str, delay: float
    ) -> bool:
        if self.tasks is None:
            raise RuntimeError("no task queue configured")
        if task not in self.skills[ctx.skill].tasks:
            raise KeyError(f"{ctx.skill} has no task {task!r}")
        stored = StoredTask(
            key=f"{ctx.skill}:{task}:{key}",
            skill=ctx.skill,
            name=task,
            installation_id=ctx.installation_id,
            repository=ctx.repo.full_name if ctx.repo else None,
            # The task's requests then carry the deferring delivery's id (see run_task).
            args={"delivery_id": ctx.delivery_id, **args},
            run_at=utcnow() + timedelta(seconds=delay),
        )
        return await self.tasks.enqueue_task(stored, delay)

    async def available_commands(self, ctx: Context) -> list[AvailableCommand]:
        """Commands of the skills switched on for this repository, with their options."""
        repo_name = ctx.repo.full_name if ctx.repo else None
        view = self._views.get(ctx.delivery_id)
        if view is not None and view[0] == repo_name:
            _, enabled, config = view  # read moments ago by dispatch, for this delivery
        else:
            enabled = await self.enabled(ctx.installation_id, repo_name)
            config = await self.load_config(ctx.github, ctx.repo) if ctx.repo else RepoConfig()
        found: list[AvailableCommand] = []
        for skill in self.skills.values():
            if not skill.commands or not enabled.get(skill.name):
                continue
            resolved = await self.options_for(skill, config, ctx.repo)
            if resolved is None:
                continue
            options, configured = resolved
            for command in skill.commands.values():
                found.append(
                    AvailableCommand(command, options, self._invoker(command, options, configured))
                )
        return sorted(found, key=lambda c: c.command.name)

    def _invoker(self, command: Command, options: BaseModel, configured: bool) -> Any:
        async def invoke(ctx: Context, args: tuple[str, ...]) -> str:
            own = replace(ctx, skill=command.skill, options=options, configured=configured)
            return await command.handler(own, args)

        return invoke

    async def context_for_repo(self, ctx: Context, full_name: str) -> Context | None:
        """The same event seen from one repository (installation events cover several);
        None when the skill is off there or its section is invalid."""
        repo = RepoRef.parse(full_name)
        enabled = await self.enabled(ctx.installation_id, repo.full_name)
        if not enabled.get(ctx.skill):
            return None
        config = await self.load_config(ctx.github, repo)
        resolved = await self.options_for(self.skills[ctx.skill], config, repo)
        if resolved is None:
            return None
        options, configured = resolved
        return replace(ctx, repo=repo, options=options, configured=configured)

    async def options_at(self, ctx: Context, ref: str) -> tuple[Any | None, list[str]]:
        repo = ctx.require_repo()
        problems = await self.config_problems(ctx.github, repo, ref)
        if problems:
            return None, problems
        config = await self.config_loader.load(ctx.github, repo.owner, repo.name, ref=ref)
        skill = self.skills[ctx.skill]
        return validate_options(skill.name, skill.options, config.section(skill.name)), []

    def lock(self, name: str) -> AbstractAsyncContextManager[Any]:
        return self.clients.locks(f"lock:{name}")

    # -- tasks ---------------------------------------------------------------------------

    async def run_task(self, task: StoredTask) -> float | None:
        """Run a deferred task; returns a delay when it should be tried again later."""
        skill = self.skills.get(task.skill)
        handler = skill.tasks.get(task.name) if skill else None
        if skill is not None and handler is None and task.name in skill.periodics:
            # The scheduler queues periodic jobs as tasks named after the job.
            handler = skill.periodics[task.name].handler
        if skill is None or handler is None or task.installation_id is None:
            log.error("no handler for task %s.%s", task.skill, task.name)
            return None
        repo = RepoRef.parse(task.repository) if task.repository else None
        try:
            gh = await self.clients.installation(task.installation_id)
            app = await self.clients.app_info()
            config = await self.load_config(gh, repo) if repo else RepoConfig()
            enabled = await self.enabled(task.installation_id, repo.full_name if repo else None)
        except Exception as exc:
            transient = classify_failure(exc)
            if isinstance(transient, RetryLater):
                return transient.delay
            if isinstance(transient, GitHubUnavailable):
                return self.retry_delay
            raise
        if not enabled.get(skill.name):
            return None
        resolved = await self.options_for(skill, config, repo)
        if resolved is None:
            return None
        delivery_id = str(task.args.get("delivery_id") or f"task:{task.key}")
        ctx = self._context(
            skill, "task", task.name, delivery_id, {}, gh, app, task.installation_id, repo, resolved
        )
        ctx.args = task.args
        started = time.perf_counter()
        # A task deferred while handling a delivery (args["delivery_id"]) makes its requests
        # under that delivery's id, so they correlate like the handler's own.
        origin = task.args.get("delivery_id")
        token = current_delivery.set(str(origin)) if origin else None
        try:
            await handler(ctx)
        except Exception as exc:
            run = self._failure(ctx, exc, lambda o, d=None: SkillRun(skill.name, o, d, None))
            self.metrics.skill_runs.labels(skill.name, run.outcome).inc()
            if run.outcome == "retry" and run.detail:
                return float(run.detail.split("|", 1)[0])
            return None
        finally:
            if token is not None:
                current_delivery.reset(token)
        self.metrics.skill_runs.labels(skill.name, "ok").inc()
        ctx.log.info(
            "task done",
            extra={"task": task.name, "duration_ms": (time.perf_counter() - started) * 1000},
        )
        return None
