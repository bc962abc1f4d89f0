"""What a skill handler receives: the event, its repository, a client, options, helpers.

A Context knows the thread it came from, so `reply` and `react` do the right thing for
an issue, a pull request, a review thread or a discussion; `begin_effect`/`finish_effect`
keep effects single across redeliveries; `defer` hands work to the queue, coalesced by key.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from githubkit import GitHub
from githubkit.exception import RequestFailed
from pydantic import BaseModel

from ghapp.github import AppInfo
from ghapp.payloads import parse_model
from ghapp.store.effects import EffectState

if TYPE_CHECKING:
    from ghapp.skill import Command

log = logging.getLogger("ghapp.skill")


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


class ContextServices(Protocol):
    """What the bus lends a context; skills never see the queue or the database."""

    async def begin_effect(self, key: str, delivery_id: str | None) -> EffectState: ...
    async def finish_effect(self, key: str, result: str | None) -> None: ...
    async def defer(
        self, ctx: Context, task: str, args: dict[str, Any], *, key: str, delay: float
    ) -> bool: ...
    async def available_commands(self, ctx: Context) -> list[AvailableCommand]: ...
    async def context_for_repo(self, ctx: Context, full_name: str) -> Context | None: ...
    async def options_at(self, ctx: Context, ref: str) -> tuple[Any | None, list[str]]: ...
    def lock(self, name: str) -> AbstractAsyncContextManager[Any]: ...


@dataclass
class AvailableCommand:
    """A command of an enabled skill, ready to run with that skill's options."""

    command: Command
    options: BaseModel
    run: Callable[[Context, tuple[str, ...]], Awaitable[str]]

    @property
    def permission(self) -> str:
        return str(getattr(self.options, "command_permission", None) or self.command.permission)


@dataclass
class Context:
    skill: str
    event: str
    action: str | None
    delivery_id: str
    payload: dict[str, Any]
    github: GitHub[Any]
    installation_id: int
    repo: RepoRef | None
    options: Any
    configured: bool
    app: AppInfo
    services: ContextServices
    dry_run: bool = False
    args: dict[str, Any] = field(default_factory=dict)

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

    def effect_key(self, key: str) -> str:
        repo = self.repo.full_name if self.repo else f"installation:{self.installation_id}"
        return f"{self.skill}:{repo}:{key}"

    async def begin_effect(self, key: str) -> EffectState:
        """ "new" the first time; "done" once finished; "retry" after an unfinished try."""
        return await self.services.begin_effect(self.effect_key(key), self.delivery_id)

    async def finish_effect(self, key: str, result: str | None = None) -> None:
        await self.services.finish_effect(self.effect_key(key), result)

    async def defer(self, task: str, args: dict[str, Any], *, key: str, delay: float = 0.0) -> bool:
        """Queue one of this skill's tasks; a pending task with the same key absorbs it."""
        return await self.services.defer(self, task, args, key=key, delay=delay)

    async def available_commands(self) -> list[AvailableCommand]:
        return await self.services.available_commands(self)

    async def for_repo(self, full_name: str) -> Context | None:
        """This event seen from one repository (installation events cover several), with
        that repository's options; None when the skill is off there."""
        return await self.services.context_for_repo(self, full_name)

    async def options_at(self, ref: str) -> tuple[Any | None, list[str]]:
        """This skill's options as `.github/ghapp.yml` reads at `ref` (a pull request's
        head, say), and every problem of that file; (None, problems) when invalid."""
        return await self.services.options_at(self, ref)

    def lock(self, name: str) -> AbstractAsyncContextManager[Any]:
        """A lock shared by every worker (Redis in scale-out), scoped to this repository:
        `async with ctx.lock("release"): ...` runs one release operation at a time."""
        scope = self.repo.full_name if self.repo else f"installation:{self.installation_id}"
        return self.services.lock(f"{self.skill}:{scope}:{name}")

    # -- talking back ---------------------------------------------------------------------

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
        if self.event == "issue_comment" and comment:
            await rest.async_create_for_issue_comment(
                repo.owner,
                repo.name,
                comment["id"],
                content=content,  # type: ignore[arg-type]
            )
        elif self.event == "pull_request_review_comment" and comment:
            await rest.async_create_for_pull_request_review_comment(
                repo.owner,
                repo.name,
                comment["id"],
                content=content,  # type: ignore[arg-type]
            )
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
