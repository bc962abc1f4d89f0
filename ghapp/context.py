"""What a skill handler receives: the event, its repository, a client, options, helpers.

A Context knows the thread it came from, so `reply` and `react` do the right thing for
an issue, a pull request, a review thread or a discussion; `once` keeps an effect single
across redeliveries and crashes; `defer` hands work to the queue, coalesced by key.

It is generic in the skill's options model, so a handler declared as
`async def sync(ctx: Context[LabelSyncOptions])` reads `ctx.options.labels` typed.
What a Context needs from the runtime (effects, the task queue, locks, other
repositories' options) it asks through `ContextServices`, a narrow protocol: a skill
never holds the queue, the database or the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed
from githubkit.response import Response
from githubkit.rest.paginator import Paginator
from pydantic import BaseModel

from ghapp.github import AppInfo
from ghapp.payloads import parse_model

log = logging.getLogger("ghapp.skill")

OptionsT = TypeVar("OptionsT", bound=BaseModel)
ItemT = TypeVar("ItemT")
# "new" the first time; "done" once finished; "retry" after a try that never finished.
EffectState = Literal["new", "retry", "done"]
# What `Context.once` runs: told whether an earlier attempt may already have acted.
Effect = Callable[[bool], Awaitable[str | None]]


@dataclass(frozen=True)
class RepoRef:
    owner: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @classmethod
    def parse(cls, full_name: str) -> RepoRef:
        owner, _, name = full_name.partition("/")
        return cls(owner, name)


@dataclass(frozen=True)
class AvailableCommand:
    """A command of a skill switched on here, ready to run with that skill's options.

    `permission` is already resolved: the command's default, or the skill's
    `command_permission` option where the repository set one."""

    name: str
    usage: str
    description: str
    example: str
    permission: str
    skill: str
    run: Callable[[Context[Any], tuple[str, ...]], Awaitable[str]]


class ContextServices(Protocol):
    """What the runtime lends a context; skills never see the queue or the database."""

    async def begin_effect(self, key: str, delivery_id: str | None) -> EffectState: ...
    async def finish_effect(self, key: str, result: str | None) -> None: ...
    async def effect_done(self, key: str) -> bool: ...
    async def defer(
        self, ctx: Context[Any], task: str, args: dict[str, Any], *, key: str, delay: float
    ) -> bool: ...
    async def available_commands(self, ctx: Context[Any]) -> list[AvailableCommand]: ...
    async def for_repo(self, ctx: Context[Any], full_name: str) -> Context[Any] | None: ...
    async def options_at(
        self, ctx: Context[Any], ref: str
    ) -> tuple[BaseModel | None, list[str]]: ...
    def lock(self, name: str) -> AbstractAsyncContextManager[Any]: ...
    async def feature_on(self, ctx: Context[Any], feature: str) -> bool: ...
    def operator_settings(self, skill: str) -> BaseModel | None: ...
    def count(self, skill: str, name: str, amount: float, labels: dict[str, str]) -> None: ...
    def offered(self, skill: str, name: str) -> Callable[..., Any] | None: ...


@dataclass
class Context(Generic[OptionsT]):
    skill: str
    event: str
    action: str | None
    delivery_id: str
    payload: dict[str, Any]
    github: GitHub[Any]
    installation_id: int
    repo: RepoRef | None
    options: OptionsT
    configured: bool  # the repository's file has a section for this skill
    app: AppInfo
    services: ContextServices
    dry_run: bool = False
    args: dict[str, Any] = field(default_factory=dict)  # a deferred task's arguments

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return logging.LoggerAdapter(
            log,
            {
                "event": self.name,
                "delivery": self.delivery_id,
                "installation": self.installation_id,
                "repo": self.repo.full_name if self.repo else None,
                "skill": self.skill,
            },
        )

    @cached_property
    def model(self) -> Any | None:
        """The payload as githubkit's typed model, or None where it does not validate.

        Parsed on first use: importing an event's models costs seconds the first time, a
        price only skills that want typed access should pay."""
        return None if self.event == "task" else parse_model(self.event, self.payload)

    @property
    def name(self) -> str:
        return f"{self.event}.{self.action}" if self.action else self.event

    # -- what the payload is about --------------------------------------------------------

    @property
    def sender(self) -> dict[str, Any]:
        return self.payload.get("sender") or {}

    @property
    def sender_is_bot(self) -> bool:
        """Bots (including this App) never trigger anything: no reply loops."""
        sender = self.sender
        login = str(sender.get("login", ""))
        return (
            sender.get("type") == "Bot"
            or login.endswith("[bot]")
            or (login.lower() in (self.app.slug.lower(), f"{self.app.slug.lower()}[bot]"))
        )

    @property
    def issue(self) -> dict[str, Any] | None:
        return self.payload.get("issue") or self.payload.get("pull_request")

    @property
    def issue_number(self) -> int | None:
        issue = self.issue
        if issue and isinstance(issue.get("number"), int):
            return issue["number"]
        number = self.payload.get("number")
        return number if isinstance(number, int) else None

    @property
    def comment(self) -> dict[str, Any] | None:
        return self.payload.get("comment")

    def require_repo(self) -> RepoRef:
        if self.repo is None:
            raise RuntimeError(f"{self.name} has no repository")
        return self.repo

    # -- effects and deferred work --------------------------------------------------------

    def _scoped(self, key: str) -> str:
        repo = self.repo.full_name if self.repo else f"installation:{self.installation_id}"
        return f"{self.skill}:{repo}:{key}"

    async def once(self, key: str, act: Effect) -> bool:
        """Run `act` for `key` (the triggering object: a comment id, a tag) once, however
        often the event is delivered; False when it already ran to the end before.

        `act(retrying)` is told whether an earlier attempt began and never finished: it
        may have crashed after acting, so a retrying `act` looks on GitHub for its work
        before doing it again. A string `act` returns is kept as the effect's result. A
        dry run writes nothing, this bookkeeping included: `act` runs as new.
        """
        if self.dry_run:
            await act(False)
            return True
        scoped = self._scoped(key)
        state = await self.services.begin_effect(scoped, self.delivery_id)
        if state == "done":
            return False
        result = await act(state == "retry")
        await self.services.finish_effect(scoped, result)
        return True

    async def happened(self, key: str) -> bool:
        """Whether an effect under `key` ran to the end (through `once`), here: this
        skill's record of what it did, read without changing it."""
        return await self.services.effect_done(self._scoped(key))

    async def defer(self, task: str, args: dict[str, Any], *, key: str, delay: float = 0.0) -> bool:
        """Queue one of this skill's tasks; a pending task with the same key absorbs it."""
        return await self.services.defer(self, task, args, key=key, delay=delay)

    async def available_commands(self) -> list[AvailableCommand]:
        """The commands of every skill switched on in this repository, with its options."""
        return await self.services.available_commands(self)

    async def for_repo(self, full_name: str) -> Context[OptionsT] | None:
        """This event seen from one repository (installation events cover several), with
        that repository's options; None when the skill is off there."""
        return cast("Context[OptionsT] | None", await self.services.for_repo(self, full_name))

    async def options_at(self, ref: str) -> tuple[OptionsT | None, list[str]]:
        """This skill's options as `.github/ghapp.yml` reads at `ref` (a pull request's
        head, say), and every problem of that file; (None, problems) when invalid."""
        options, problems = await self.services.options_at(self, ref)
        return cast("OptionsT | None", options), problems

    async def feature_on(self, feature: str) -> bool:
        """Whether one of this skill's declared features (`skill.feature(...)`) is switched
        on for this repository: its override, else the installation's, else its default."""
        return await self.services.feature_on(self, feature)

    @property
    def operator_settings(self) -> BaseModel | None:
        """The operator-wide settings this skill declared (`Skill(operator_settings=...)`)."""
        return self.services.operator_settings(self.skill)

    def count(self, counter: str, amount: float = 1, **labels: str) -> None:
        """Add `amount` to one of this skill's counters (`skill.counter(...)`)."""
        self.services.count(self.skill, counter, amount, labels)

    def offered(self, skill: str, name: str) -> Callable[..., Any] | None:
        """A function another skill offers (`Skill.offer`), or None when that skill is not
        installed or offers no such thing. Whether it is switched on here does not matter:
        an offered function decides, it acts on nothing."""
        return self.services.offered(skill, name)

    def lock(self, name: str) -> AbstractAsyncContextManager[Any]:
        """A lock shared by every worker (Redis in scale-out), scoped to this repository:
        `async with ctx.lock("release"): ...` runs one release operation at a time."""
        return self.services.lock(self._scoped(name))

    # -- talking to GitHub -----------------------------------------------------------------

    def paginate(
        self, request: Callable[..., Awaitable[Response[list[ItemT]]]], **params: Any
    ) -> Paginator[ItemT]:
        """Every item of one of this repository's listings, all pages, 100 a page:

        async for label in ctx.paginate(ctx.github.rest.issues.async_list_labels_for_repo):
        """
        repo = self.require_repo()
        return self.github.rest.paginate(
            request, owner=repo.owner, repo=repo.name, per_page=100, **params
        )

    async def repo_role(self, login: str) -> str | None:
        """The person's role on this repository (`role_name`, not the legacy permission)."""
        repo = self.require_repo()
        try:
            response = await self.github.rest.repos.async_get_collaborator_permission_level(
                repo.owner, repo.name, login
            )
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise
        data = response.json()
        return data.get("role_name") or data.get("permission")

    async def reply(self, body: str) -> None:
        """Answer in the thread the event came from."""
        repo = self.require_repo()
        comment = self.comment
        number = self.issue_number
        if self.event == "pull_request_review_comment" and comment and number is not None:
            await self.github.rest.pulls.async_create_reply_for_review_comment(
                repo.owner, repo.name, number, comment["id"], body=body
            )
            return
        if self.event in ("discussion", "discussion_comment"):
            discussion = self.payload.get("discussion") or {}
            reply_to = (comment or {}).get("node_id")
            if comment and comment.get("parent_id"):
                # Threads are one level deep: answer beside a reply, under its parent.
                reply_to = None
            await self.github.async_graphql(
                "mutation($d: ID!, $r: ID, $b: String!) { addDiscussionComment(input: "
                "{discussionId: $d, replyToId: $r, body: $b}) { comment { id } } }",
                {"d": discussion.get("node_id"), "r": reply_to, "b": body},
            )
            return
        if number is None:
            raise RuntimeError(f"{self.name} has no issue or pull request to reply to")
        await self.github.rest.issues.async_create_comment(repo.owner, repo.name, number, body=body)

    async def react(self, content: str = "eyes") -> None:
        """React to the triggering comment (or the issue/PR itself when it was opened)."""
        repo = self.require_repo()
        comment = self.comment
        rest = self.github.rest.reactions
        if comment and self.event in ("issue_comment", "pull_request_review_comment"):
            create = (
                rest.async_create_for_issue_comment
                if self.event == "issue_comment"
                else rest.async_create_for_pull_request_review_comment
            )
            await create(repo.owner, repo.name, comment["id"], content=content)  # type: ignore[arg-type]
        elif self.event in ("discussion", "discussion_comment"):
            subject = (comment or self.payload.get("discussion") or {}).get("node_id")
            await self.github.async_graphql(
                "mutation($s: ID!, $c: ReactionContent!) { addReaction(input: "
                "{subjectId: $s, content: $c}) { reaction { content } } }",
                {"s": subject, "c": content.upper().replace("+1", "THUMBS_UP")},
            )
        elif self.issue_number is not None:
            await rest.async_create_for_issue(
                repo.owner,
                repo.name,
                self.issue_number,
                content=content,  # type: ignore[arg-type]
            )
