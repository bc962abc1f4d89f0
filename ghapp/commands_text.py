"""The text side of chat-ops: finding ``@slug`` in a comment and parsing command lines.

This module owns the rules of PRODUCT.md §5.1 that depend only on the comment's markdown:
which ``@slug`` mentions count, which lines are commands and how their arguments split.
It does no I/O and knows nothing of githubkit; permission checks, running commands and
the help belong to mention-reply (`ghapp.skills.mention_reply.commands`).

Mentions are looked for in the *visible* text: what GitHub renders as prose. Code spans,
fenced and indented code blocks, ``>`` block quotes (with their lazy continuation lines,
as GitHub renders them) and HTML comments are blanked out first, so quoting someone's
``@slug release major`` never runs it again. Blanking replaces characters by spaces and
keeps newlines, so every offset into the visible text is also an offset into the comment.
"""

from __future__ import annotations

import bisect
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CommandLine",
    "CommandSyntaxError",
    "Mention",
    "find_mentions",
    "parse_commands",
    "split_args",
    "visible_text",
]


@dataclass(frozen=True)
class CommandLine:
    """One ``@slug <command> [args]`` line of a comment."""

    name: str  # lower-cased command word without a leading "/", e.g. "label"
    args: tuple[str, ...]  # the rest of the line, split as split_args() does
    raw: str  # the text after the mention (and after an optional ":" or ","), stripped
    line_no: int  # 1-based line of the comment


@dataclass(frozen=True)
class Mention:
    """Where ``@slug`` (or ``@slug[bot]``) occurs: ``markdown[start:end]`` is the mention."""

    start: int
    end: int
    line_no: int  # 1-based


class CommandSyntaxError(ValueError):
    """A command line that cannot be parsed; the message is meant for the commenter."""

    def __init__(self, message: str, *, line_no: int | None = None) -> None:
        super().__init__(message)
        self.line_no = line_no


# --------------------------------------------------------------------------------------
# Visible text

_Kind = Literal["code_block", "quote", "comment", "code_span"]


@dataclass(frozen=True)
class _Hidden:
    start: int
    end: int
    kind: _Kind


_FENCE_OPEN = re.compile(r"(`{3,})([^`]*)|(~{3,})(.*)", re.DOTALL)
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")


def _indent_width(line: str) -> int:
    """Columns of leading whitespace; tabs stop at multiples of 4, as CommonMark says."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _fence_opener(stripped: str) -> tuple[str, int] | None:
    match = _FENCE_OPEN.fullmatch(stripped)
    if match is None:
        return None
    run = match.group(1) or match.group(3)
    return run[0], len(run)


def _closes_fence(stripped: str, fence: tuple[str, int]) -> bool:
    char, length = fence
    run = len(stripped) - len(stripped.lstrip(char))
    return run >= length and stripped[run:].strip() == ""


def _quote_content(stripped: str) -> str:
    """The text inside nested ``>`` markers, to tell whether lazy lines may follow."""
    while stripped.startswith(">"):
        stripped = stripped[1:].lstrip(" \t")
    return stripped


def _inline_hidden(markdown: str, start: int, end: int) -> list[_Hidden]:
    """Code spans and HTML comments in one paragraph, bound left to right as in CommonMark."""
    text = markdown[start:end]
    # Index the closing candidates once so a comment full of unmatched openers stays linear.
    runs_by_len: dict[int, list[int]] = {}
    for match in re.finditer(r"`+", text):
        runs_by_len.setdefault(len(match.group()), []).append(match.start())
    comment_ends = [m.start() for m in re.finditer(r"(?=-->)", text)]

    hidden: list[_Hidden] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in string.punctuation:
            i += 2  # an escaped backtick (or "<", or backslash) opens nothing
        elif ch == "`":
            run = len(text) - i - len(text[i:].lstrip("`"))
            starts = runs_by_len.get(run, [])
            k = bisect.bisect_left(starts, i + run)
            if k < len(starts):
                close = starts[k] + run
                hidden.append(_Hidden(start + i, start + close, "code_span"))
                i = close
            else:
                i += run  # no closing run of that length: the backticks are literal
        elif text.startswith("<!--", i):
            k = bisect.bisect_left(comment_ends, i + 2)  # "<!-->" is a complete comment
            if k < len(comment_ends):
                close = comment_ends[k] + 3
                hidden.append(_Hidden(start + i, start + close, "comment"))
                i = close
            else:
                i += 4
        else:
            i += 1
    return hidden


def _hidden_spans(markdown: str) -> list[_Hidden]:
    """Everything GitHub would not render as prose, as offsets into ``markdown``."""
    hidden: list[_Hidden] = []
    fence: tuple[str, int] | None = None
    in_comment = False  # inside an HTML comment that opened a block
    in_paragraph = False  # previous line was prose, so indented code cannot start here
    lazy_quote = False  # previous line was quoted prose, so this one continues the quote
    paragraph: tuple[int, int] | None = None

    def flush() -> None:
        nonlocal paragraph
        if paragraph is not None:
            hidden.extend(_inline_hidden(markdown, *paragraph))
            paragraph = None

    def rest_is_prose(rest: int, line_end: int) -> None:
        # Text after a block comment's "-->" is shown as-is; scan it on its own.
        if markdown[rest:line_end].strip():
            hidden.extend(_inline_hidden(markdown, rest, line_end))

    offset = 0
    for line in markdown.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        stripped = line.lstrip(" \t")
        indent = _indent_width(line)

        if in_comment:
            close = line.find("-->")
            if close < 0:
                hidden.append(_Hidden(start, end, "comment"))
            else:
                hidden.append(_Hidden(start, start + close + 3, "comment"))
                in_comment = False
                rest_is_prose(start + close + 3, end)
            continue
        if fence is not None:
            hidden.append(_Hidden(start, end, "code_block"))
            if indent <= 3 and _closes_fence(stripped, fence):
                fence = None
            continue
        if not stripped.strip():
            flush()
            in_paragraph = lazy_quote = False
            continue
        if lazy_quote:
            # A quoted paragraph swallows following lines until a blank line or a new block.
            starts_block = stripped.startswith(("<!--", ">")) or _fence_opener(stripped)
            if indent > 3 or not starts_block:
                hidden.append(_Hidden(start, end, "quote"))
                continue
            lazy_quote = False
        if indent > 3:
            if not in_paragraph:
                hidden.append(_Hidden(start, end, "code_block"))
                continue
        elif stripped.startswith(">"):
            flush()
            hidden.append(_Hidden(start, end, "quote"))
            content = _quote_content(stripped)
            lazy_quote = bool(
                content.strip() and not _fence_opener(content) and not _HEADING.match(content)
            )
            in_paragraph = False
            continue
        elif (opened := _fence_opener(stripped)) is not None:
            flush()
            hidden.append(_Hidden(start, end, "code_block"))
            fence = opened
            in_paragraph = False
            continue
        elif stripped.startswith("<!--"):
            flush()
            at = start + (len(line) - len(stripped))
            close = markdown.find("-->", at + 2, end)
            if close < 0:
                hidden.append(_Hidden(at, end, "comment"))
                in_comment = True
            else:
                hidden.append(_Hidden(at, close + 3, "comment"))
                rest_is_prose(close + 3, end)
            in_paragraph = False
            continue
        paragraph = (paragraph[0], end) if paragraph is not None else (start, end)
        in_paragraph = True
    flush()
    return hidden


def _blank(markdown: str, hidden: Sequence[_Hidden]) -> str:
    chars = list(markdown)
    for span in hidden:
        for i in range(span.start, span.end):
            if chars[i] not in "\r\n":
                chars[i] = " "
    return "".join(chars)


def visible_text(markdown: str) -> str:
    """``markdown`` with code, quotes and HTML comments replaced by spaces, same length.

    Newlines are kept, so offsets and line numbers in the result are those of the input.
    """
    return _blank(markdown, _hidden_spans(markdown))


# --------------------------------------------------------------------------------------
# Mentions


def _mention_pattern(slug: str) -> re.Pattern[str]:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", slug):
        raise ValueError(f"not a GitHub App slug: {slug!r}")
    # Spelled out as ASCII classes, not re.IGNORECASE: that would also let the long s
    # (U+017F) match "s" and the Kelvin sign match "k", and GitHub logins are ASCII.
    letters = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in slug)
    return re.compile(
        r"(?<![\w@/-])"  # not inside a word, an address or a path
        rf"@{letters}(?:\[[bB][oO][tT]\])?+"
        r"(?![\w/-])"  # "-" continues a login: "@slug-two" is someone else
        r"(?!\.+\w)"  # "@slug.com" is a domain; "@slug." ends a sentence
    )


def _mentions_in(visible: str, slug: str) -> list[Mention]:
    mentions: list[Mention] = []
    line_no, counted_to = 1, 0
    for match in _mention_pattern(slug).finditer(visible):
        line_no += visible.count("\n", counted_to, match.start())
        counted_to = match.start()
        mentions.append(Mention(match.start(), match.end(), line_no))
    return mentions


def find_mentions(markdown: str, slug: str) -> list[Mention]:
    """The mentions of ``@slug`` that GitHub would render as prose, in order."""
    return _mentions_in(visible_text(markdown), slug)


# --------------------------------------------------------------------------------------
# Arguments

# Opening quote → the characters that close it. Phones type “smart” quotes, and people
# mix them with straight ones, so a smart opener also accepts the straight closer.
_LDQ, _RDQ, _LOW_DQ = (
    "\N{LEFT DOUBLE QUOTATION MARK}",
    "\N{RIGHT DOUBLE QUOTATION MARK}",
    "\u201e",
)  # „
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


# --------------------------------------------------------------------------------------
# Commands

_SEPARATOR = re.compile(r"[ \t]*[:,]?")
_COMMAND_WORD = re.compile(r"/?([A-Za-z][A-Za-z0-9-]*)")


def parse_commands(markdown: str, slug: str) -> tuple[list[CommandLine], str | None]:
    """The command lines of a comment, and the free text addressed to the App.

    A command line starts (after optional whitespace) with the mention, an optional ":"
    or ",", then a command word (``[a-z][a-z0-9-]*``, any case, a leading "/" tolerated).

    The free text is ``None`` when every visible mention is on a command line (or there
    is none). Otherwise it is the comment without its command lines, stripped, for a
    responder to answer — or ``""`` when it says nothing but the mention ("@slug" alone),
    which callers answer with the help.

    Raises CommandSyntaxError for a command line with an unclosed quote.
    """
    hidden = _hidden_spans(markdown)
    visible = _blank(markdown, hidden)
    # Arguments keep code spans (`needs review` is one quoted word) but not comments.
    command_view = _blank(markdown, [span for span in hidden if span.kind != "code_span"])
    mentions = _mentions_in(visible, slug)

    commands: list[CommandLine] = []
    command_lines: set[int] = set()
    loose = False  # a mention that is not on a command line
    for mention in mentions:
        if mention.line_no in command_lines:
            continue  # "@slug assign @slug": the second one is an argument
        line_start = visible.rfind("\n", 0, mention.start) + 1
        line_end = visible.find("\n", mention.end)
        line_end = len(visible) if line_end < 0 else line_end
        command = None
        # The prefix is judged with code spans kept: "`x` @slug help" is prose.
        if not command_view[line_start : mention.start].strip():
            command = _command_at(command_view, mention, line_end)
        if command is None:
            loose = True
        else:
            commands.append(command)
            command_lines.add(mention.line_no)

    if not loose:
        return commands, None
    return commands, _free_text(markdown, mentions, command_lines)


def _command_at(command_view: str, mention: Mention, line_end: int) -> CommandLine | None:
    tail = command_view[mention.end : line_end]
    separator = _SEPARATOR.match(tail)
    raw = tail[separator.end() if separator else 0 :].strip()
    token = raw.split(maxsplit=1)[0] if raw else ""
    word = _COMMAND_WORD.fullmatch(token)
    if word is None:
        return None
    try:
        args = split_args(raw[len(token) :])
    except CommandSyntaxError:
        raise CommandSyntaxError(f"unclosed quote in: {raw}", line_no=mention.line_no) from None
    return CommandLine(word.group(1).lower(), args, raw, mention.line_no)


def _free_text(markdown: str, mentions: Sequence[Mention], command_lines: set[int]) -> str:
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
