"""Running chat-ops commands: who may run what, the help, and what each command answered.

`skills.mention_reply.mentions` reads a comment; this module acts on it. It asks GitHub for the
commenter's repository role (`role_name`, once per person per comment), compares it with
the command's permission (the skill's default, or its `command_permission` option), runs
the command with its own skill's options, and turns whatever goes wrong into a line for
the commenter — a refusal naming the role needed, a syntax error with the usage, an
apology — never a stack trace. GitHub outages are not the command's fault: they propagate
so the delivery is tried again later.
"""

from __future__ import annotations

from collections.abc import Sequence

from ghapp.commands_text import HelpEntry, format_help, who_may
from ghapp.context import AvailableCommand, Context
from ghapp.github import GitHubUnavailable, RetryLater, classify_failure
from ghapp.skill import ROLE_ORDER, Role, role_allows

__all__ = [
    "COMMAND_FAILED",
    "REFUSAL",
    "RoleLookup",
    "help_entries",
    "help_reply",
    "needed_role",
    "refusal",
    "run_command",
    "syntax_reply",
]

REFUSAL = "Sorry @{login}, `{command}` needs {who} on this repository, and {have}."
COMMAND_FAILED = (
    "Sorry, `{command}` did not work this time. The error was logged for the App's maintainers."
)
SYNTAX = "{message}\n\nUsage: `{usage}`"


def needed_role(permission: str) -> Role:
    """The least repository role a permission names; unknown names mean `write`, the
    safe default for commands that change something."""
    level = permission.strip().lower()
    if level in ("", "anyone", "none", "read"):
        return "read"
    for role in ROLE_ORDER:
        if role == level:
            return role
    return "write"


def refusal(login: str, command: str, needed: Role, role: str | None) -> str:
    if role is None or role == "none":
        have = "you are not a collaborator here"
    else:
        have = f"you have {role} access"
    return REFUSAL.format(login=login, command=command, who=who_may(needed), have=have)


def syntax_reply(message: str, usage: str, slug: str | None = None) -> str:
    shown = f"@{slug} {usage}" if slug and not usage.startswith("@") else usage
    return SYNTAX.format(message=message.rstrip("."), usage=shown)


def help_entries(commands: Sequence[AvailableCommand]) -> list[HelpEntry]:
    """What `help` shows, one entry per command of an enabled skill."""
    return [
        HelpEntry(
            name=c.command.name,
            usage=c.command.usage,
            description=c.command.description,
            permission=needed_role(c.permission),
            example=_without_mention(c.command.example),
            skill=c.command.skill,
        )
        for c in commands
    ]


def _without_mention(example: str) -> str:
    # Skills write examples as "@bot hello Mona"; help shows them with the real slug.
    text = example.strip()
    if text.startswith("@"):
        text = text.split(maxsplit=1)[1] if " " in text else ""
    return text


def help_reply(commands: Sequence[AvailableCommand], slug: str) -> str:
    return format_help(help_entries(commands), slug=slug)


class RoleLookup:
    """Each person's role on the repository, asked of GitHub once per comment."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._roles: dict[str, str | None] = {}

    async def role(self, login: str) -> str | None:
        if login not in self._roles:
            self._roles[login] = await self.ctx.repo_role(login)
        return self._roles[login]


async def run_command(
    ctx: Context,
    command: AvailableCommand,
    args: tuple[str, ...],
    *,
    login: str,
    roles: RoleLookup,
) -> str:
    """What `command` answers `login`, after the permission check; failures become a line."""
    name = command.command.name
    needed = needed_role(command.permission)
    if needed != "read":
        role = await roles.role(login)
        if not role_allows(role, needed):
            return refusal(login, name, needed, role)
    # Imported here: the mention_reply package imports this module, and this module sits
    # outside it until it moves in (then this becomes an ordinary import).
    from ghapp.skills.mention_reply.mentions import CommandSyntaxError

    try:
        return await command.run(ctx, args)
    except CommandSyntaxError as exc:
        return syntax_reply(str(exc), command.command.usage, ctx.app.slug)
    except Exception as exc:
        if isinstance(exc, RetryLater | GitHubUnavailable) or classify_failure(exc) is not None:
            raise  # GitHub is down or rate-limited: try the whole delivery again later
        ctx.log.exception("command %s failed", name)
        return COMMAND_FAILED.format(command=name)
