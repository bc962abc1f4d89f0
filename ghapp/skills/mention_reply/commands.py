"""Running chat-ops commands: who may run what, the help, and what each command answered.

The parser finds the command lines of a comment; this module acts on them. It asks
GitHub for the commenter's repository role (`role_name`, once per person per comment),
compares it with the command's permission (the skill's default, or its
`command_permission` option), runs the command with its own skill's options, and turns
whatever goes wrong into a line for the commenter — a refusal naming the role needed, a
usage error with the usage, an apology — never a stack trace. GitHub outages are not
the command's fault: they propagate so the delivery is tried again later.

Help reads as Prow's help providers do: for each command its usage, what it does, who
may use it and an example, as a markdown table ready to copy from.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ghapp import (
    AvailableCommand,
    Context,
    Role,
    UsageError,
    code_span,
    is_transient,
    role_allows,
)

REFUSAL = "Sorry @{login}, `{command}` needs {who} on this repository, and {have}."
COMMAND_FAILED = (
    "Sorry, `{command}` did not work this time. The error was logged for the App's maintainers."
)
USAGE = "{message}\n\nUsage: `{usage}`"
NO_COMMANDS = "No commands are enabled in this repository."
_LEVELS = ("triage", "write", "maintain")
_ROLES: tuple[Role, ...] = get_args(Role)


# -- permissions ----------------------------------------------------------------------------


def needed_role(permission: str) -> Role:
    """The least repository role a permission names; unknown names mean `write`, the
    safe default for commands that change something."""
    level = permission.strip().lower()
    if level in ("", "anyone", "none", "read"):
        return "read"
    for role in _ROLES:
        if role == level:
            return role
    return "write"


def who_may(permission: str) -> str:
    """Who may use a command with this permission, in words: "write access or higher"."""
    level = permission.strip().lower()
    if level in ("", "anyone", "read", "none"):
        return "anyone"
    if level in _LEVELS:
        return f"{level} access or higher"
    if level == "admin":
        return "admin access"
    return permission


def refusal(login: str, command: str, needed: Role, role: str | None) -> str:
    if role is None or role == "none":
        have = "you are not a collaborator here"
    else:
        have = f"you have {role} access"
    return REFUSAL.format(login=login, command=command, who=who_may(needed), have=have)


def syntax_reply(message: str, usage: str, slug: str | None = None) -> str:
    return USAGE.format(message=message.rstrip("."), usage=_with_slug(usage, slug))


class RoleLookup:
    """Each person's role on the repository, asked of GitHub once per comment."""

    def __init__(self, ctx: Context[Any]) -> None:
        self.ctx = ctx
        self._roles: dict[str, str | None] = {}

    async def role(self, login: str) -> str | None:
        if login not in self._roles:
            self._roles[login] = await self.ctx.repo_role(login)
        return self._roles[login]


RunOutcome = Literal["ran", "refused", "failed"]


async def run_command(
    ctx: Context[Any],
    command: AvailableCommand,
    args: tuple[str, ...],
    *,
    login: str,
    roles: RoleLookup,
) -> str:
    """What `command` answers `login`, after the permission check; failures become a line."""
    return (await run_command_outcome(ctx, command, args, login=login, roles=roles))[1]


async def run_command_outcome(
    ctx: Context[Any],
    command: AvailableCommand,
    args: tuple[str, ...],
    *,
    login: str,
    roles: RoleLookup,
) -> tuple[RunOutcome, str]:
    """`run_command`, also saying whether the command ran, was refused or failed."""
    needed = needed_role(command.permission)
    if needed != "read":
        role = await roles.role(login)
        if not role_allows(role, needed):
            return "refused", refusal(login, command.name, needed, role)
    try:
        return "ran", await command.run(ctx, args)
    except UsageError as exc:
        return "failed", syntax_reply(str(exc), command.usage, ctx.app.slug)
    except Exception as exc:
        if is_transient(exc):
            raise  # GitHub is down or rate-limited: try the whole delivery again later
        ctx.log.exception("command %s failed", command.name)
        return "failed", COMMAND_FAILED.format(command=command.name)


# -- help -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpEntry:
    """What a command's help says, in the manner of Prow's help providers."""

    name: str  # the command word, e.g. "label"
    usage: str  # e.g. "label add NAME…" (without the mention; format_help adds it)
    description: str
    permission: str  # "anyone", "triage", "write", "maintain" or "admin"
    example: str  # e.g. "label add bug"
    skill: str  # the skill that registered it


def help_entries(commands: Sequence[AvailableCommand]) -> list[HelpEntry]:
    """What `help` shows, one entry per command of an enabled skill."""
    return [
        HelpEntry(
            name=c.name,
            usage=c.usage,
            description=c.description,
            permission=needed_role(c.permission),
            example=_without_mention(c.example),
            skill=c.skill,
        )
        for c in commands
    ]


def _without_mention(example: str) -> str:
    # Skills write examples as "@bot hello Mona"; help shows them with the real slug.
    text = example.strip()
    if text.startswith("@"):
        text = text.split(maxsplit=1)[1] if " " in text else ""
    return text


def _inline(text: str) -> str:
    """`text` on one line as a code span: a table cell holds no line break."""
    return code_span(" ".join(text.split()))


def _cell(text: str) -> str:
    # GFM splits table cells on "|" before inline parsing, even inside code spans.
    return " ".join(text.split()).replace("|", "\\|")


def _with_slug(text: str, slug: str | None) -> str:
    return f"@{slug} {text}" if slug and not text.startswith("@") else text


def format_help(commands: Sequence[HelpEntry], *, slug: str | None = None) -> str:
    """A markdown table of `commands`, sorted by name: usage, what, who, an example.

    With `slug`, usages and examples are shown as `@slug usage` so they can be copied
    as they are.
    """
    if not commands:
        return NO_COMMANDS
    rows = [
        "| Command | What it does | Who may use it | Example |",
        "| --- | --- | --- | --- |",
    ]
    for entry in sorted(commands, key=lambda e: (e.name, e.usage)):
        description = entry.description.strip()
        if entry.skill:
            description = f"{description} _({entry.skill})_" if description else entry.skill
        example = _inline(_with_slug(entry.example, slug)) if entry.example.strip() else ""
        cells = (
            _inline(_with_slug(entry.usage, slug)),
            description,
            who_may(entry.permission),
            example,
        )
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def format_unknown(name: str, commands: Sequence[HelpEntry], *, slug: str | None = None) -> str:
    """The reply to an unknown command: a short note, the closest match, then the help."""
    shown = name if len(name) <= 40 else name[:39] + "…"
    message = f"I don't know the command {_inline(shown)}."
    names = sorted({entry.name for entry in commands})
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    if close:
        message += f" Did you mean {_inline(_with_slug(close[0], slug))}?"
    return f"{message}\n\n{format_help(commands, slug=slug)}"
