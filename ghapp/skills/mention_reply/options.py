"""Options of the mention-reply skill, read from the `mention-reply:` section of
`.github/ghapp.yml`.

    mention-reply:
      responder: https://ai.example.org/answer   # or `agent`, `none`, an entry point
      responder-timeout: 10
      agent-token-budget: 3000                   # of the thread, for the built-in agent
      reaction: true
      reply-header: ""
      reply-footer: "_I am a bot; ask a maintainer if I got it wrong._"
      events: [issue_comment, discussion_comment]

A responder is checked here, where its author will see a mistake: an `https://` URL, an
`http://` URL only on a loopback host (a responder running beside the App, and tests), or
the name of an entry point. Unknown keys are rejected so a typo is reported, not ignored.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ghapp import SkillOptions

EventName = Literal[
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review_comment",
    "discussion_comment",
]
ALL_EVENTS: tuple[EventName, ...] = (
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review_comment",
    "discussion_comment",
)
# Entry-point names as Python packaging allows them (PEP 621: letters, digits, `._-`).
_ENTRY_POINT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def is_url(responder: str) -> bool:
    return responder.startswith(("https://", "http://"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_responder(value: str) -> str:
    """The responder as written, or ValueError with a message for the file's author."""
    value = value.strip()
    if is_url(value):
        parts = urlsplit(value)
        if not parts.hostname:
            raise ValueError(f"responder URL has no host: {value}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError("responder URL must use https:// (http:// only for a loopback host)")
        return value
    if "://" in value:
        raise ValueError("responder URL must use https://")
    if not _ENTRY_POINT_NAME.fullmatch(value):
        raise ValueError(
            "responder must be an https:// URL or the name of a `ghapp.responders` entry point"
        )
    return value


class MentionReplyOptions(SkillOptions):
    """What a repository may tune about how the App answers `@slug`."""

    responder: str | None = None
    """Who answers free text: `agent` (the built-in AI agent), `none`, an entry point name
    in `ghapp.responders`, or a URL (on the operator's RESPONDER_ALLOWED_HOSTS) that
    receives the thread as JSON and returns markdown. None: the operator's RESPONDER."""

    responder_timeout: float = Field(default=10.0, gt=0, le=60)
    """Seconds the responder may take in all, before the commenter gets an apology."""

    agent_token_budget: int = Field(default=3000, ge=200, le=32000)
    """Tokens of the thread's comments the built-in agent is shown (oldest dropped first)."""

    reaction: bool = True
    """React with 👀 at once, so people see the App heard them before it answers."""

    reply_header: str = ""
    reply_footer: str = ""

    events: tuple[EventName, ...] = ALL_EVENTS
    """Which events are read for mentions; `issues.opened` is written as `issues`."""

    @field_validator("responder")
    @classmethod
    def _responder(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_responder(value)

    @field_validator("events", mode="before")
    @classmethod
    def _bare_events(cls, value: object) -> object:
        # People copy names from GitHub's docs with the action: `issue_comment.created`.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(str(v).split(".", 1)[0] if isinstance(v, str) else v for v in value)
        return value
