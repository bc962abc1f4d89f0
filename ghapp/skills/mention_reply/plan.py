"""The pure side of mention-reply: what triggered it, what to do, how the reply reads.

`trigger_of` finds the text and the object (comment, issue, pull request) behind an
event; `read_comment` reads its commands (`mentions`: a line with a broken quote spoils
only that line); `plan_reply` decides, in comment order, which commands run, which are
unknown, whether the responder is asked or the help shown; `compose_reply` puts the
answers into one comment with an invisible marker naming the trigger, so a retry can
find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ghapp.skills.mention_reply.mentions import BrokenCommandLine, CommandLine, read_commands

HELP_COMMAND = "help"
MAX_COMMENT_CHARS = 65536  # GitHub's limit on a comment body
TRUNCATED = "\n\n_(cut short: the answer was longer than a comment may be)_"


@dataclass(frozen=True)
class Trigger:
    """The object a mention lives in: one reply is owed to each."""

    kind: str  # issue-comment | review-comment | discussion-comment | issue | pull-request
    id: int | str
    text: str
    author: str
    created_at: str | None = None

    @property
    def effect_key(self) -> str:
        return f"reply:{self.kind}:{self.id}"

    @property
    def marker(self) -> str:
        return reply_marker(self.kind, self.id)


def reply_marker(kind: str, ident: int | str) -> str:
    return f"<!-- ghapp:reply-to:{kind}:{ident} -->"


_OBJECT_OF_EVENT = {
    "issue_comment": ("comment", "issue-comment"),
    "pull_request_review_comment": ("comment", "review-comment"),
    "discussion_comment": ("comment", "discussion-comment"),
    "issues": ("issue", "issue"),
    "pull_request": ("pull_request", "pull-request"),
}


def trigger_of(event: str, payload: dict[str, Any]) -> Trigger | None:
    """The comment, issue or pull request behind `event`, or None when there is none."""
    if event not in _OBJECT_OF_EVENT:
        return None
    key, kind = _OBJECT_OF_EVENT[event]
    obj = payload.get(key)
    if not isinstance(obj, dict) or obj.get("id") is None:
        return None
    # The sender is who acted (and whose permissions count); the object's user is the same
    # person for a new comment, issue or pull request.
    user = payload.get("sender") or obj.get("user") or {}
    return Trigger(
        kind=kind,
        id=obj["id"],
        text=str(obj.get("body") or ""),
        author=str(user.get("login") or ""),
        created_at=obj.get("created_at"),
    )


# ------------------------------------------------------------------------------ reading


# A command line that does not parse (an unclosed quote): line_no, name, raw, message.
BadLine = BrokenCommandLine

Line = CommandLine | BadLine


def read_comment(markdown: str, slug: str) -> tuple[list[Line], str | None]:
    """The comment's command lines in order (broken ones as BadLine) and its free text,
    as `mentions.read_commands` defines them; one bad line spoils nothing else."""
    return read_commands(markdown, slug)


# ------------------------------------------------------------------------------ deciding


@dataclass(frozen=True)
class RunCommand:
    """Run a known command with the line's arguments (after its permission check)."""

    line: CommandLine


@dataclass(frozen=True)
class Unknown:
    """Say the command is unknown (and what was maybe meant), with the help once."""

    name: str


@dataclass(frozen=True)
class BadSyntax:
    line: BadLine  # a known command whose line did not parse: answer with its usage


@dataclass(frozen=True)
class AskResponder:
    """Hand the questions and free text, in one request, to the responder."""

    text: str


@dataclass(frozen=True)
class ShowHelp:
    unasked: bool = False  # free text, or a bare mention, that nobody else can answer


Step = RunCommand | Unknown | BadSyntax | AskResponder | ShowHelp


def plan_reply(
    lines: Sequence[Line], free_text: str | None, known: set[str], *, has_responder: bool
) -> list[Step]:
    """What to answer, in comment order; an empty plan means the App was not addressed.

    `help` is built in. With a responder, a line whose first word is no known command is
    a question, not a typo ("@bot can you summarise this?"): it goes to the responder
    with the free text, in one request, answered last. Without one, an unknown command
    gets a short note and the help, and free text gets the help.
    """
    steps: list[Step] = []
    questions: list[str] = []
    for line in lines:
        if line.name == HELP_COMMAND:
            steps.append(ShowHelp())
        elif line.name in known:
            steps.append(RunCommand(line) if isinstance(line, CommandLine) else BadSyntax(line))
        elif has_responder:
            questions.append(line.raw)
        else:
            steps.append(Unknown(line.name or line.raw.split(maxsplit=1)[0]))
    if free_text:
        questions.append(free_text)
    if questions and has_responder:
        steps.append(AskResponder("\n\n".join(questions)))
    elif free_text is not None and not steps:
        steps.append(ShowHelp(unasked=True))  # "@bot" alone, or free text nobody can answer
    # One help is enough, however many times it was asked for.
    seen_help = False
    plan: list[Step] = []
    for step in steps:
        if isinstance(step, ShowHelp):
            if seen_help:
                continue
            seen_help = True
        plan.append(step)
    return plan


# ------------------------------------------------------------------------------ replying


def compose_reply(
    sections: Sequence[tuple[str | None, str]], *, header: str, footer: str, marker: str
) -> str:
    """One comment answering every step. Sections are titled by their command when there
    are several, so people see which answer belongs to which line."""
    if len(sections) == 1:
        body = sections[0][1].strip()
    else:
        parts = []
        for title, text in sections:
            shown = " ".join((title or "").replace("`", "'").split())
            parts.append(f"**`{shown}`**\n\n{text.strip()}" if shown else text.strip())
        body = "\n\n".join(parts)
    frame = len(header) + len(footer) + len(marker) + 6 + len(TRUNCATED)
    if len(body) + frame > MAX_COMMENT_CHARS:
        # GitHub refuses longer comments (422); a cut answer beats none.
        body = body[: max(0, MAX_COMMENT_CHARS - frame)].rstrip() + TRUNCATED
    pieces = [header.strip(), body, footer.strip(), marker]
    return "\n\n".join(piece for piece in pieces if piece)
