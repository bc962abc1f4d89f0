"""The commands of this repository as the model's tools, and a tool call run as a command.

Every command an enabled skill offers here is one tool: its name (the command word,
made safe for the API), its description with usage, example and who may use it, and a
JSON schema with one string, `arguments`: what follows the command word, as a person
would type it. A call is split exactly as a typed command line is (`split_args`) and
run through `run_command_outcome`: the same permission check, the same command code, the
same reply text. At most `MAX_CALLS` per mention run; the rest are refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ghapp import AvailableCommand, Context
from ghapp.skills.mention_reply.commands import (
    RoleLookup,
    RunOutcome,
    needed_role,
    run_command_outcome,
    syntax_reply,
    who_may,
)
from ghapp.skills.mention_reply.mentions import CommandSyntaxError, split_args

MAX_CALLS = 5
ARGUMENTS_CHARS = 1000  # a command line is short; a longer one is not a command
OVER_LIMIT = f"Not run: at most {MAX_CALLS} commands per mention."


def tool_name(command: str) -> str:
    """The API allows `[a-zA-Z0-9_-]{1,64}`; command words almost always are."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", command)[:64] or "command"


def _args_of_usage(usage: str, name: str) -> str:
    words = usage.split(maxsplit=1)
    return words[1] if len(words) == 2 and words[0].lower() == name.lower() else usage


def tool_of(command: AvailableCommand) -> dict[str, Any]:
    """One command as a chat-completions tool."""
    usage_args = _args_of_usage(command.usage, command.name)
    example = command.example.strip()
    if example.startswith("@"):
        example = example.split(maxsplit=1)[1] if " " in example else ""
    description = (
        f"{command.description.strip()} Command line: `{command.usage}`"
        + (f", for example `{example}`" if example else "")
        + f". Who may use it: {who_may(needed_role(command.permission))}."
    )
    return {
        "type": "function",
        "function": {
            "name": tool_name(command.name),
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    "arguments": {
                        "type": "string",
                        "description": f"What follows `{command.name}`, as typed: {usage_args}",
                    }
                },
                "required": ["arguments"],
                "additionalProperties": False,
            },
        },
    }


@dataclass(frozen=True)
class ToolRun:
    """One tool call and what came of it, for the reply's list."""

    line: str  # the command line as if typed, e.g. "label add bug"
    outcome: RunOutcome | str  # ran, refused, failed, or "skipped" (over the limit)
    text: str  # the command's reply (or why it did not run)


@dataclass
class Toolbox:
    """The tools offered for one mention, and the calls made so far."""

    ctx: Context[Any]
    login: str
    commands: list[AvailableCommand]
    roles: RoleLookup
    runs: list[ToolRun] = field(default_factory=list[ToolRun])
    attempted: int = 0  # commands handed to run_command (malformed calls never are)

    @property
    def tools(self) -> list[dict[str, Any]]:
        return [tool_of(c) for c in self.commands]

    async def call(self, name: str, raw_arguments: str | None) -> str:
        """Run one tool call; the text is what the model is told."""
        by_tool = {tool_name(c.name): c for c in self.commands}
        command = by_tool.get(name)
        shown = name[:64]
        if command is None:
            return self._note(shown, "failed", f"There is no command `{shown}` here.")
        arguments = _arguments(raw_arguments)
        line = f"{command.name} {arguments or ''}".strip()[:200]
        if arguments is None:
            return self._note(command.name, "failed", "The call's arguments were malformed.")
        if self.attempted >= MAX_CALLS:
            return self._note(line, "skipped", OVER_LIMIT)
        self.attempted += 1
        try:
            args = split_args(arguments)
        except CommandSyntaxError as exc:
            return self._note(line, "failed", syntax_reply(str(exc), command.usage))
        outcome, text = await run_command_outcome(
            self.ctx, command, args, login=self.login, roles=self.roles
        )
        return self._note(line, outcome, text)

    def _note(self, line: str, outcome: RunOutcome | str, text: str) -> str:
        self.runs.append(ToolRun(line, outcome, text))
        return json.dumps({"outcome": outcome, "reply": text})


def _arguments(raw: str | None) -> str | None:
    """The `arguments` string of a call, or None when the call is malformed."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("arguments", "")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = " ".join(json.dumps(v) if " " in v else v for v in value)
    if not isinstance(value, str) or len(value) > ARGUMENTS_CHARS or "\n" in value:
        return None
    return value.strip()
