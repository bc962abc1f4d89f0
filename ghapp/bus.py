"""The event bus: which skills a delivery reaches, and what came of each.

For each delivery, every skill with a handler for the event that is switched on for the
repository gets a Context (installation client, payload, its options there) and its
handlers run. A failing skill is isolated: its error is recorded on the delivery and
counted, the others still run. GitHub outages and rate limits are not failures: the
delivery is handed back to the queue to be tried later, and skills that already
finished are not run again. Deferred tasks and periodic jobs are routed the same way.

The built-in behaviours (`core`, such as the config check) run first, always on. They
are not skills, so their runs are not recorded among the delivery's outcomes per skill:
one that fails fails the delivery (its error names it), one that must wait retries it,
and they run again whenever the delivery does.

The bus also publishes what is worth queuing at all (`queued_events`), so that ingress
can store the rest as ignored without asking any skill.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import orjson
from githubkit import GitHub

from ghapp.context import Context, RepoRef
from ghapp.failures import (
    FailureReason,
    explain,
    invalid_options,
    plain_detail,
    read_reason,
    transient_failure,
)
from ghapp.github import AppInfo, GitHubClients, RetryLater, current_delivery
from ghapp.metrics import Metrics
from ghapp.options import OptionsResolver, ResolvedOptions, section_problems
from ghapp.repo_config import Problem, RepoConfig
from ghapp.services import HandlerServices, SeenSettings
from ghapp.skill import Skill
from ghapp.store import (
    Delivery,
    DeliveryStore,
    InstallationStore,
    PeriodicRunStore,
    SkillRun,
    StoredTask,
)
from ghapp.store.installations import INSTALLATION_EVENTS

log = logging.getLogger("ghapp.bus")
FINISHED = ("ok", "skipped")


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


def queued_events(skills: Iterable[Skill]) -> frozenset[str]:
    """`event` and `event.action` names some skill handles, and the installation events
    (the worker keeps the installations table true with them): what ingress queues."""
    names = set(INSTALLATION_EVENTS)
    for skill in skills:
        names.update(skill.handlers)
    return frozenset(names)


@dataclass
class DispatchResult:
    retry_after: float | None = None
    errors: list[str] = field(default_factory=list)
    # The skills' runs, stored by the worker with the delivery's outcome (one transaction).
    runs: list[SkillRun] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True)
class Outcome:
    """How one skill's handling ended, and when to try it again (None: do not)."""

    run: SkillRun
    retry_after: float | None = None


@dataclass
class Bus:
    skills: dict[str, Skill]  # switched on and off per installation and repository
    clients: GitHubClients
    deliveries: DeliveryStore
    installations: InstallationStore
    resolver: OptionsResolver
    services: HandlerServices
    metrics: Metrics
    core: Sequence[Skill] = ()  # built-in behaviours: always on, run first
    periodic_runs: PeriodicRunStore | None = None  # where periodic jobs' last runs are kept
    dry_run: bool = False
    retry_delay: float = 30.0
    queued_events: frozenset[str] = field(init=False)  # what ingress queues (see above)

    def __post_init__(self) -> None:
        self.queued_events = queued_events([*self.core, *self.skills.values()])

    # -- deliveries ----------------------------------------------------------------------

    async def dispatch(self, delivery: Delivery) -> DispatchResult:
        result = DispatchResult()
        iid = delivery.installation_id
        candidates = [
            s
            for s in [*self.core, *self.skills.values()]
            if s.handlers_for(delivery.event, delivery.action)
        ]
        if iid is None or not candidates:
            return result
        # One read for both (OptionsResolver.enabled reads the switches alone).
        installation, switches = await self.installations.with_switches(iid)
        if installation is not None and not installation.active:
            return result
        # orjson: ingress already accepted this body with it (one parser for both ends).
        payload: dict[str, Any] = orjson.loads(delivery.payload)
        repo = RepoRef.parse(delivery.repository) if delivery.repository else None
        enabled = self.resolver.enabled_from(switches, repo.full_name if repo else None)
        enabled.update({s.name: True for s in self.core})
        done = {r.skill for r in delivery.runs if r.outcome in FINISHED}
        todo = [s for s in candidates if s.name not in done]
        token = current_delivery.set(delivery.id)
        try:
            try:
                gh = await self.clients.installation(iid)
                app = await self.clients.app_info()
                if repo is not None and delivery.event == "push":
                    await self.resolver.saw_push(repo, payload)  # before reading the file
                config = await self.resolver.load_config(gh, repo) if repo else RepoConfig()
            except Exception as exc:
                return self._setup_failed(delivery, exc, todo)
            seen = SeenSettings(repo.full_name if repo else None, enabled, config)
            services = self.services.seeing(seen)
            for skill in todo:
                outcome = await self._run_skill(
                    skill, delivery, payload, gh, app, repo, seen, services
                )
                if not any(skill is behaviour for behaviour in self.core):
                    result.runs.append(outcome.run)
                    self.metrics.skill_runs.labels(skill.name, outcome.run.outcome).inc()
                if outcome.retry_after is not None:
                    result.retry_after = max(result.retry_after or 0.0, outcome.retry_after)
                elif outcome.run.outcome == "error":
                    reason = read_reason(outcome.run.detail)
                    result.errors.append(f"{skill.name}: {reason.line() if reason else ''}")
        finally:
            current_delivery.reset(token)
        return result

    def _setup_failed(
        self, delivery: Delivery, exc: Exception, todo: list[Skill]
    ) -> DispatchResult:
        transient = transient_failure(exc)
        if transient is not None:
            log.warning(
                "cannot prepare delivery (%s); will retry",
                transient,
                extra={"delivery": delivery.id},
            )
            return DispatchResult(retry_after=self._delay(transient))
        log.exception("cannot prepare delivery", extra={"delivery": delivery.id})
        # One reason for the whole delivery (no skill ran): the first of its errors.
        return DispatchResult(errors=[explain(exc, repo=delivery.repository).encode()])

    async def _run_skill(
        self,
        skill: Skill,
        delivery: Delivery,
        payload: dict[str, Any],
        gh: GitHub[Any],
        app: AppInfo,
        repo: RepoRef | None,
        seen: SeenSettings,
        services: HandlerServices,
    ) -> Outcome:
        started = time.perf_counter()

        def ended(outcome: str, detail: str | None = None) -> SkillRun:
            elapsed = (time.perf_counter() - started) * 1000
            return SkillRun(skill.name, outcome, detail, elapsed)

        if not seen.enabled.get(skill.name, False):
            return Outcome(ended("skipped", "switched off"))
        resolved = await self.resolver.options_for(skill, seen.config, repo)
        if resolved is None:
            return Outcome(ended("skipped", _invalid_section(skill, seen.config, repo)))
        ctx = self.context(
            skill.name,
            delivery.event,
            delivery.action,
            delivery.id,
            payload,
            gh,
            app,
            delivery.installation_id or 0,
            repo,
            resolved,
            services,
        )
        try:
            for handler in skill.handlers_for(delivery.event, delivery.action):
                await handler(ctx)
        except Exception as exc:
            return self._failure(ctx, exc, ended)
        return Outcome(ended("ok"))

    def context(
        self,
        skill: str,
        event: str,
        action: str | None,
        delivery_id: str,
        payload: dict[str, Any],
        gh: GitHub[Any],
        app: AppInfo,
        installation_id: int,
        repo: RepoRef | None,
        resolved: ResolvedOptions,
        services: HandlerServices | None = None,
    ) -> Context[Any]:
        """What a handler of `skill` receives (for a task, `event` is "task")."""
        return Context(
            skill=skill,
            event=event,
            action=action,
            delivery_id=delivery_id,
            payload=payload,
            github=gh,
            installation_id=installation_id,
            repo=repo,
            options=resolved.options,
            configured=resolved.configured,
            app=app,
            services=services or self.services,
            dry_run=self.dry_run,
        )

    def _delay(self, transient: Exception) -> float:
        return transient.delay if isinstance(transient, RetryLater) else self.retry_delay

    def _failure(
        self, ctx: Context[Any], exc: Exception, ended: Callable[[str, str | None], SkillRun]
    ) -> Outcome:
        """The outcome of a handler that raised: retry later when waiting heals it."""
        transient = transient_failure(exc)
        if isinstance(transient, RetryLater):
            ctx.log.warning("rate limited; retrying in %.0fs", transient.delay)
        elif transient is not None:
            ctx.log.warning("GitHub unavailable (%s); will retry", transient)
        repo = ctx.repo.full_name if ctx.repo else None
        if transient is not None:
            detail = explain(exc, repo=repo).encode()
            return Outcome(ended("retry", detail), self._delay(transient))
        ctx.log.exception("skill failed")
        return Outcome(ended("error", explain(exc, repo=repo).encode()))

    # -- deferred tasks and periodic jobs ------------------------------------------------

    async def run_task(self, task: StoredTask) -> float | None:
        """Run a deferred task; returns a delay when it should be tried again later. A
        periodic job's run is recorded (its last run and outcome, for the settings page)."""
        skill = self.skills.get(task.skill)
        handler = skill.tasks.get(task.name) if skill else None
        periodic = False
        if skill is not None and handler is None and task.name in skill.periodics:
            # The scheduler queues periodic jobs as tasks named after the job.
            handler = skill.periodics[task.name].handler
            periodic = True
        if skill is None or handler is None or task.installation_id is None:
            log.error("no handler for task %s.%s", task.skill, task.name)
            return None
        run = SkillRun(skill.name, "error", "could not be prepared", None)  # until it ran
        try:
            run, retry_after = await self._run_task(skill, handler, task)
        finally:
            if periodic:
                await self._record_periodic(task, run)
        return retry_after

    async def _run_task(
        self, skill: Skill, handler: Callable[[Context[Any]], Any], task: StoredTask
    ) -> tuple[SkillRun, float | None]:
        assert task.installation_id is not None
        repo = RepoRef.parse(task.repository) if task.repository else None
        try:
            gh = await self.clients.installation(task.installation_id)
            app = await self.clients.app_info()
            config = await self.resolver.load_config(gh, repo) if repo else RepoConfig()
            enabled = await self.resolver.enabled(
                task.installation_id, repo.full_name if repo else None
            )
        except Exception as exc:
            transient = transient_failure(exc)
            if transient is None:
                raise
            return SkillRun(skill.name, "retry", str(transient), None), self._delay(transient)
        if not enabled.get(skill.name):
            return SkillRun(skill.name, "skipped", "switched off", None), None
        resolved = await self.resolver.options_for(skill, config, repo)
        if resolved is None:
            return SkillRun(
                skill.name, "skipped", _invalid_section(skill, config, repo), None
            ), None
        delivery_id = str(task.args.get("delivery_id") or f"task:{task.key}")
        ctx = self.context(
            skill.name,
            "task",
            task.name,
            delivery_id,
            {},
            gh,
            app,
            task.installation_id,
            repo,
            resolved,
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
            outcome = self._failure(ctx, exc, lambda o, d: SkillRun(skill.name, o, d, None))
            self.metrics.skill_runs.labels(skill.name, outcome.run.outcome).inc()
            return outcome.run, outcome.retry_after
        finally:
            if token is not None:
                current_delivery.reset(token)
        self.metrics.skill_runs.labels(skill.name, "ok").inc()
        ctx.log.info(
            "task done",
            extra={"task": task.name, "duration_ms": (time.perf_counter() - started) * 1000},
        )
        return SkillRun(skill.name, "ok", None, None), None

    async def _record_periodic(self, task: StoredTask, run: SkillRun) -> None:
        if self.periodic_runs is None or task.installation_id is None:
            return
        period = task.args.get("period")
        try:
            await self.periodic_runs.record(
                f"{task.skill}:{task.name}",
                task.installation_id,
                task.repository,
                int(period) if isinstance(period, int | str) and str(period).isdigit() else 0,
                run.outcome,
                plain_detail(run.detail),  # one line for the page
            )
        except Exception:
            # The record is for people; losing it must not fail or repeat the job.
            log.exception("cannot record the periodic run of %s.%s", task.skill, task.name)


def invalid_section(skill: Skill, config: RepoConfig, repo: RepoRef | None) -> FailureReason:
    """Why the skill's section did not validate, for the person who reads the outcome
    (a delivery's skill run, the settings page's skill row): each option, why, and the
    line to fix."""
    problems = section_problems(skill.name, skill.options, config)
    return invalid_options(
        skill.name,
        problems or [Problem("the section did not validate")],
        repo.full_name if repo else None,
    )


def _invalid_section(skill: Skill, config: RepoConfig, repo: RepoRef | None) -> str:
    return invalid_section(skill, config, repo).encode()
