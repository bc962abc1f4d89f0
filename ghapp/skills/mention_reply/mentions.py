"""Which ``@slug`` in a comment is a mention, and which lines are commands (PRODUCT.md §5.1).

An ``@slug`` counts exactly when GitHub renders it as a mention: `prose` finds the text
GitHub shows as text (not code, links, images, quotes, HTML markup or comments), and
GitHub's own mention pattern is applied to it. That pattern is html-pipeline's
`MentionFilter` (the filter GitHub open-sourced): ``@login`` at the start of a text node
or after a character that is not an ASCII letter, digit or underscore (so ``-@slug``,
``/@slug``, ``é@slug`` and ``@@slug`` mention, ``a@slug`` and ``_@slug`` do not), the
login being the longest run of ``[A-Za-z0-9-]`` (``@slug-two`` is someone else), not
followed by ``/``, and followed by the end of a line, a character that is not a letter,
digit, ``_`` or ``.``, or dots that end the line or precede such a character
(``@slug.`` mentions, ``@slug.com`` does not).

A command line is a rendered line — of a paragraph, list item, heading or HTML text —
whose first visible text is the mention; the rest of that line, less HTML tags and
comments, is the command and its arguments. It does no I/O; running commands is the
caller's business.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass

from ghapp import UsageError
from ghapp.skills.mention_reply.prose import TextRun, normalize, text_runs

__all__ = [
    "BrokenCommandLine",
    "CommandLine",
    "CommandSyntaxError",
    "Mention",
    "find_mentions",
    "parse_commands",
    "read_commands",
    "split_args",
]

log = logging.getLogger("ghapp.mentions")


@dataclass(frozen=True)
class Mention:
    """Where ``@slug`` (or ``@slug[bot]``) occurs: ``markdown[start:end]`` is the mention."""

    start: int
    end: int
    line_no: int  # 1-based


@dataclass(frozen=True)
class CommandLine:
    """One ``@slug <command> [args]`` line of a comment."""

    name: str  # lower-cased command word without a leading "/", e.g. "label"
    args: tuple[str, ...]  # the rest of the line, split as split_args() does
    raw: str  # the text after the mention (and after an optional ":" or ","), stripped
    line_no: int  # 1-based line of the comment


@dataclass(frozen=True)
class BrokenCommandLine:
    """A command line whose arguments do not parse (an unclosed quote)."""

    line_no: int
    name: str  # the command word, lower-cased; "" when there is none
    raw: str  # the line after the mention
    message: str  # for the commenter


class CommandSyntaxError(UsageError):
    """A command line that cannot be parsed; the message is meant for the commenter, who
    gets it with the command's usage when a command raises it, as for any UsageError."""

    def __init__(self, message: str, *, line_no: int | None = None) -> None:
        super().__init__(message)
        self.line_no = line_no


# ------------------------------------------------------------------------------ mentions

# GitHub's rule (see the module docstring), matched as Ruby's gsub does: left to right,
# each match taking the character before its "@", so in "@bot-@bot" the "-" belongs to the
# login "bot-" and the second "@bot" has nothing left before it. The atomic group keeps a
# login from being shortened to fit.
_GITHUB_MENTION = re.compile(
    r"(?:^|\W)@(?>([a-z0-9][a-z0-9-]*))(?!/)(?=\.+[ \t\W]|\.+$|[^0-9a-z_.]|$)",
    re.ASCII | re.IGNORECASE | re.MULTILINE,
)
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


@dataclass(frozen=True)
class _Found:
    run: TextRun
    start: int  # in run.text
    end: int
    mention: Mention


def _check_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"not a GitHub App slug: {slug!r}")
    return slug.lower()


def _may_name(src: str, wanted: str) -> bool:
    """Whether ``src`` can render a mention of ``wanted``: it holds the name as written, or
    markup that can hide letters of it from a plain search (a tag inside the mention,
    ``@b</a>ot``, or a reference, ``@&#98;ot``, ``&#64;bot``) next to an ``@`` or a reference."""
    if wanted in src.lower():
        return True
    return ("<" in src or "&" in src) and ("@" in src or "&" in src)


def _find(markdown: str, slug: str) -> tuple[str, list[_Found]]:
    wanted = _check_slug(slug)
    src, back = normalize(markdown)
    if not _may_name(src, wanted):  # the parse is the cost; most comments name nobody
        return src, []
    try:
        runs = text_runs(src)
    except Exception as exc:  # a parser bug must not lose the delivery: nobody was mentioned
        log.warning("could not read a comment's markdown (%r); acting on no mention in it", exc)
        return src, []
    newlines = [m.start() for m in re.finditer("\n", markdown)]
    found: list[_Found] = []
    for run in runs:
        if "@" not in run.text:
            continue
        for match in _GITHUB_MENTION.finditer(run.text):
            if match.group(1).lower() != wanted:
                continue
            at = match.start(1) - 1  # the "@"
            end = match.end() + 5 * (run.text[match.end() : match.end() + 5].lower() == "[bot]")
            span = run.source(at, end)
            if span is None:
                log.warning("a mention's place in its comment is unclear; not acting on it")
                continue
            start, stop = (back[span[0]], back[span[1]]) if back else span
            line_no = bisect.bisect_left(newlines, start) + 1
            found.append(_Found(run, at, end, Mention(start, stop, line_no)))
    return src, found


def find_mentions(markdown: str, slug: str) -> list[Mention]:
    """The mentions of ``@slug`` that GitHub renders as mentions, in order."""
    return [found.mention for found in _find(markdown, slug)[1]]


# ------------------------------------------------------------------------------ arguments

# Opening quote → the characters that close it. Phones type “smart” quotes, and people
# mix them with straight ones, so a smart opener also accepts the straight closer.
_LDQ, _RDQ, _LOW_DQ = "\N{LEFT DOUBLE QUOTATION MARK}", "\N{RIGHT DOUBLE QUOTATION MARK}", "\u201e"
_LSQ, _RSQ = "\N{LEFT SINGLE QUOTATION MARK}", "\N{RIGHT SINGLE QUOTATION MARK}"
_QUOTES: dict[str, str] = {
    '"': '"',
    "'": "'",
    "`": "`",
    _LDQ: _RDQ + _LDQ + '"',
    _LOW_DQ: _LDQ + _RDQ + '"',
    "\u00ab": "\u00bb",  # guillemets
    _LSQ: _RSQ + _LSQ + "'",
}
_QUOTE_CHARS = frozenset("".join(_QUOTES) + "".join(_QUOTES.values()))


def split_args(text: str) -> tuple[str, ...]:
    """Split ``text`` into words as a shell would, but kind to prose.

    ``"needs review"``, ``'needs review'``, ``“needs review”`` and `` `needs review` ``
    are one word. A quote opens only at the start of a word, so apostrophes in
    ``don't-merge`` stay literal; after the closing quote the word goes on until
    whitespace. Inside quotes a backslash escapes the closing quote or a backslash;
    outside, it escapes a quote, a backslash or a space. An unclosed quote raises
    CommandSyntaxError.
    """
    args: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return tuple(args)
        word: list[str] = []
        at_start = True
        while i < n and not text[i].isspace():
            ch = text[i]
            if at_start and ch in _QUOTES:
                closers = _QUOTES[ch]
                i += 1
                while True:
                    if i >= n:
                        raise CommandSyntaxError(f"unclosed quote in: {text.strip()}")
                    c = text[i]
                    if c == "\\" and i + 1 < n and (text[i + 1] in closers or text[i + 1] == "\\"):
                        word.append(text[i + 1])
                        i += 2
                    elif c in closers:
                        i += 1
                        break
                    else:
                        word.append(c)
                        i += 1
            elif (
                ch == "\\"
                and i + 1 < n
                and (text[i + 1] in _QUOTE_CHARS or text[i + 1] == "\\" or text[i + 1].isspace())
            ):
                word.append(text[i + 1])
                i += 2
            else:
                word.append(ch)
                i += 1
            at_start = False
        args.append("".join(word))


# ------------------------------------------------------------------------------ commands

_SEPARATOR = re.compile(r"[ \t]*[:,]?")
_COMMAND_WORD = re.compile(r"/?([A-Za-z][A-Za-z0-9-]*)")


def _command(rest: str, line_no: int) -> CommandLine | BrokenCommandLine | None:
    separator = _SEPARATOR.match(rest)
    raw = rest[separator.end() if separator else 0 :].strip()
    token = raw.split(maxsplit=1)[0] if raw else ""
    word = _COMMAND_WORD.fullmatch(token)
    if word is None:
        return None
    try:
        args = split_args(raw[len(token) :])
    except CommandSyntaxError:
        return BrokenCommandLine(line_no, word.group(1).lower(), raw, f"unclosed quote in: {raw}")
    return CommandLine(word.group(1).lower(), args, raw, line_no)


def read_commands(
    markdown: str, slug: str
) -> tuple[list[CommandLine | BrokenCommandLine], str | None]:
    """The command lines of a comment in order (broken ones too), and the free text
    addressed to the App.

    A command line's first visible text is the mention, then an optional ":" or ",", then a
    command word (``[a-z][a-z0-9-]*``, any case, a leading "/" tolerated). The free text is
    ``None`` when every mention is on a command line (or there is none). Otherwise it is the
    comment without its command lines, stripped, for a responder to answer — or ``""`` when
    it says nothing but the mention ("@slug" alone), which callers answer with the help.
    """
    src, found = _find(markdown, slug)
    commands: list[CommandLine | BrokenCommandLine] = []
    command_lines: set[int] = set()
    taken: tuple[object, int] | None = None  # (block, content offset) a command line ends at
    loose: list[Mention] = []
    for item in found:
        at = item.run.content_at(item.start)
        if taken is not None and taken[0] is item.run.block and at is not None and at < taken[1]:
            continue  # "@slug assign @slug": the second one is an argument
        command = None
        rest = item.run.rest_of_line(item.end) if item.run.starts_line(item.start) else None
        if rest is not None:
            command = _command(rest[0], item.mention.line_no)
        if command is None:
            loose.append(item.mention)
            continue
        commands.append(command)
        taken = (item.run.block, rest[1]) if rest is not None else None
        stop = item.run.block.source(rest[1]) if rest is not None else None
        last_line = src.count("\n", 0, stop) + 1 if stop is not None else item.mention.line_no
        command_lines.update(range(item.mention.line_no, max(last_line, item.mention.line_no) + 1))
    if not loose:
        return commands, None
    return commands, _free_text(markdown, [f.mention for f in found], command_lines)


def parse_commands(markdown: str, slug: str) -> tuple[list[CommandLine], str | None]:
    """As read_commands, but a broken command line raises CommandSyntaxError."""
    lines, free = read_commands(markdown, slug)
    for line in lines:
        if isinstance(line, BrokenCommandLine):
            raise CommandSyntaxError(line.message, line_no=line.line_no)
    return [line for line in lines if isinstance(line, CommandLine)], free


def _free_text(markdown: str, mentions: list[Mention], command_lines: set[int]) -> str:
    lines = markdown.split("\n")
    kept = "\n".join(line for no, line in enumerate(lines, 1) if no not in command_lines)
    # Judge whether anything was said with the mentions themselves taken out.
    without = list(markdown)
    for mention in mentions:
        without[mention.start : mention.end] = [" "] * (mention.end - mention.start)
    said = "".join(without).split("\n")
    if not any(
        ch.isalnum() for no, line in enumerate(said, 1) if no not in command_lines for ch in line
    ):
        return ""
    return kept.strip()
