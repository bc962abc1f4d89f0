"""The Skill contract: what a skill declares and how its handlers are registered.

    skill = Skill("label-sync", "Keeps labels as declared", permissions={"issues": "write"},
                  options=LabelSyncOptions)

    @skill.on("label.edited", "label.deleted")
    async def restore(ctx: Context[LabelSyncOptions]) -> None: ...

    @skill.command("label", usage="label add NAME…", description=..., example=...)
    async def label(ctx: Context[LabelSyncOptions], args: tuple[str, ...]) -> str: ...

    @skill.task("refresh")                # deferred work, coalesced by key (ctx.defer)
    async def refresh(ctx: Context[LabelSyncOptions]) -> None: ...

    @skill.periodic("repair", every=timedelta(hours=1), per="repository")
    async def repair(ctx: Context[LabelSyncOptions]) -> None: ...

    AGENT = skill.feature("agent", "Answer free text with the AI agent")
    ...
    if await ctx.feature_on(AGENT): ...   # switched like the skill, on the settings page

    CALLS = skill.counter("agent_calls", "Calls to the model.", labels=("outcome",))
    ctx.count(CALLS, outcome="ok")        # `ghapp_agent_calls_total` on /metrics

A skill that needs operator-wide configuration (an API's URL and key) names it with
`operator_settings=`: a pydantic model whose fields are `Settings` fields of the same
names, handed over by the runtime as `ctx.operator_settings` (ghapp's own secrets never).
    @skill.offer("plan-preview")          # a pure function other skills may call
    def plan_preview(existing: list[dict[str, Any]], declared: dict[str, Any]) -> ...: ...
    ...
    preview = ctx.offered("label-sync", "plan-preview")   # in another skill; None if absent

A command answers with the markdown of its reply; one that was called wrongly raises
`UsageError` and the commenter gets the message with the command's usage. Skills are
found through the `ghapp.skills` entry-point group (see `ghapp.bus.load_skills`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ghapp.context import AvailableCommand, Context

Role = Literal["read", "triage", "write", "maintain", "admin"]
ROLE_ORDER: tuple[Role, ...] = ("read", "triage", "write", "maintain", "admin")
# What a skill's `command_permission` option may ask for: reading is never a command's bar.
CommandPermission = Literal["triage", "write", "maintain", "admin"]
Access = Literal["read", "write", "admin"]

Handler = Callable[[Context[Any]], Awaitable[None]]
CommandHandler = Callable[[Context[Any], tuple[str, ...]], Awaitable[str]]
OfferedT = TypeVar("OfferedT", bound=Callable[..., Any])


class SkillOptions(BaseModel):
    """A base for a skill's options model: immutable, and an unknown key is an error, so
    a typo in `.github/ghapp.yml` is reported to its author instead of ignored. Keys may
    be written with `-` or `_` in the file; the model names them with `_`."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(SkillOptions):
    """The options of a skill that has none: its section, if any, must be empty."""


class UsageError(ValueError):
    """A command called wrongly; the message is for the commenter, who also gets the usage."""


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    description: str
    example: str
    permission: Role
    handler: CommandHandler
    skill: str

    def available(
        self, options: BaseModel, run: Callable[[Context[Any], tuple[str, ...]], Awaitable[str]]
    ) -> AvailableCommand:
        """This command as a repository offers it: run with `options`, whose
        `command_permission` (when the skill has one and it is set) overrides the default."""
        permission = getattr(options, "command_permission", None) or self.permission
        return AvailableCommand(
            self.name, self.usage, self.description, self.example, str(permission), self.skill, run
        )


@dataclass(frozen=True)
class Feature:
    """A part of a skill that installation owners switch on and off by itself (the settings
    page shows it under its skill; a repository may override it like the skill)."""

    name: str
    description: str
    default: bool = True


def switch_name(skill: str, feature: str | None = None) -> str:
    """The switch that turns a skill, or one feature of it, on and off: `skill/feature`."""
    return skill if feature is None else f"{skill}/{feature}"


@dataclass(frozen=True)
class SkillCounter:
    """A Prometheus counter a skill adds to /metrics: `ghapp_<name>_total{labels}`."""

    name: str
    description: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    per: Literal["installation", "repository"]
    handler: Handler


@dataclass
class Skill:
    name: str
    description: str
    permissions: dict[str, Access] = field(default_factory=dict)
    options: type[BaseModel] = NoOptions
    default_enabled: bool = True
    # Extra webhook events the App must subscribe to that no handler names (rare).
    extra_events: tuple[str, ...] = ()
    handlers: dict[str, list[Handler]] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    tasks: dict[str, Handler] = field(default_factory=dict)
    periodics: dict[str, Periodic] = field(default_factory=dict)
    features: dict[str, Feature] = field(default_factory=dict)
    counters: dict[str, SkillCounter] = field(default_factory=dict)
    # Operator-wide settings this skill reads (fields named as in `Settings`), or None.
    operator_settings: type[BaseModel] | None = None
    # Plain functions this skill lets other skills call (`ctx.offered(skill, name)`).
    offers: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def on(self, *events: str) -> Callable[[Handler], Handler]:
        """Register a handler for `event` (all actions) or `event.action`."""

        def register(handler: Handler) -> Handler:
            for name in events:
                self.handlers.setdefault(name, []).append(handler)
            return handler

        return register

    def command(
        self,
        name: str,
        *,
        usage: str,
        description: str,
        example: str,
        permission: Role = "write",
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Register `@slug NAME args…`. The permission is the least repository role needed;
        a skill's options may raise or lower it with a `command_permission` field."""

        def register(handler: CommandHandler) -> CommandHandler:
            self.commands[name] = Command(
                name, usage, description, example, permission, handler, self.name
            )
            return handler

        return register

    def task(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.tasks[name] = handler
            return handler

        return register

    def periodic(
        self, name: str, *, every: timedelta, per: Literal["installation", "repository"]
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.periodics[name] = Periodic(name, every, per, handler)
            return handler

        return register

    def feature(self, name: str, description: str, *, default: bool = True) -> str:
        """Declare a feature with its own switch; returns its name for `ctx.feature_on`."""
        if "/" in name:
            raise ValueError(f"a feature name cannot contain '/': {name!r}")
        self.features[name] = Feature(name, description, default)
        return name

    def counter(self, name: str, description: str, *, labels: tuple[str, ...] = ()) -> str:
        """Declare a counter for /metrics; returns its name for `ctx.count`."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name.endswith("_total"):
            raise ValueError(f"a counter is named in lower_snake_case, without _total: {name!r}")
        self.counters[name] = SkillCounter(name, description, labels)
        return name

    def offer(self, name: str) -> Callable[[OfferedT], OfferedT]:
        """Let other skills call `function` as `ctx.offered(this skill, name)`: the one way
        a skill uses another's decisions (label-sync's plan, say) without importing it.
        Keep it a plain function of plain data (dicts, lists, strings): the caller knows
        nothing of this skill's types."""

        def register(function: OfferedT) -> OfferedT:
            self.offers[name] = function
            return function

        return register

    def feature_switches(self) -> list[tuple[str, Feature]]:
        """(switch name, feature) of each declared feature, in declaration order."""
        return [(switch_name(self.name, f.name), f) for f in self.features.values()]

    def switch_defaults(self) -> dict[str, bool]:
        """This skill's switches (its own and its features') and their defaults."""
        defaults = {self.name: self.default_enabled}
        defaults.update({name: f.default for name, f in self.feature_switches()})
        return defaults

    def handlers_for(self, event: str, action: str | None) -> list[Handler]:
        found = list(self.handlers.get(event, []))
        if action:
            found += self.handlers.get(f"{event}.{action}", [])
        return found

    @property
    def events(self) -> set[str]:
        """Bare webhook event names this skill needs (for the manifest)."""
        names = {key.split(".", 1)[0] for key in self.handlers}
        return names | set(self.extra_events)


def role_allows(role: str | None, needed: Role) -> bool:
    """Whether a repository role (GitHub's `role_name`) meets the needed one.

    Custom roles are not comparable; they count as their base role when GitHub reports it
    through the legacy `permission`, which callers pass instead.
    """
    if role not in ROLE_ORDER:
        return False
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(needed)  # type: ignore[arg-type]
