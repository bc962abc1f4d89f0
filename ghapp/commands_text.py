"""The text side of chat-ops help: how help and "unknown command" replies read.

This module owns the wording of PRODUCT.md §5.1's help: one table row per command with
its usage, what it does, who may use it and an example. It does no I/O. Which ``@slug``
in a comment is a command, and how its arguments split, is
`ghapp.skills.mention_reply.mentions`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "HelpEntry",
    "format_help",
    "format_unknown",
    "who_may",
]


@dataclass(frozen=True)
class HelpEntry:
    """What a command's help says, in the manner of Prow's help providers."""

    name: str  # the command word, e.g. "label"
    usage: str  # e.g. "label add NAME…" (without the mention; format_help adds it)
    description: str
    permission: str  # "anyone", "triage", "write", "maintain" or "admin"
    example: str  # e.g. "label add bug"
    skill: str  # the skill that registered it


# --------------------------------------------------------------------------------------
# Help

_LEVELS = ("triage", "write", "maintain")


def _code(text: str) -> str:
    """``text`` as a markdown code span, whatever backticks it holds."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    # GFM splits table cells on "|" before inline parsing, even inside code spans.
    return " ".join(text.split()).replace("|", "\\|")


def _with_slug(text: str, slug: str | None) -> str:
    return f"@{slug} {text}" if slug and not text.startswith("@") else text


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


def format_help(commands: Sequence[HelpEntry], *, slug: str | None = None) -> str:
    """A markdown table of ``commands``, sorted by name: usage, what, who, an example.

    With ``slug``, usages and examples are shown as ``@slug usage`` so they can be
    copied as they are.
    """
    if not commands:
        return "No commands are enabled in this repository."
    rows = [
        "| Command | What it does | Who may use it | Example |",
        "| --- | --- | --- | --- |",
    ]
    for entry in sorted(commands, key=lambda e: (e.name, e.usage)):
        description = entry.description.strip()
        if entry.skill:
            description = f"{description} _({entry.skill})_" if description else entry.skill
        example = _code(_with_slug(entry.example, slug)) if entry.example.strip() else ""
        cells = (
            _code(_with_slug(entry.usage, slug)),
            description,
            who_may(entry.permission),
            example,
        )
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def format_unknown(name: str, commands: Sequence[HelpEntry], *, slug: str | None = None) -> str:
    """The reply to an unknown command: a short note, the closest match, then the help."""
    shown = name if len(name) <= 40 else name[:39] + "…"
    message = f"I don't know the command {_code(shown)}."
    names = sorted({entry.name for entry in commands})
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    if close:
        message += f" Did you mean {_code(_with_slug(close[0], slug))}?"
    return f"{message}\n\n{format_help(commands, slug=slug)}"
