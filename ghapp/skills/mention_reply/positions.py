"""Where markdown-it's tokens came from in the comment.

`normalize` gives the text markdown-it parses and the way back to the comment's offsets;
`ContentMap` takes an offset in a block's content (what markdown-it parsed inline: the
block's lines less their container prefixes) to an offset in that text; and
`record_inline_positions` places inline tokens within their block's content.

Block tokens carry their lines (`Token.map`), inline tokens nothing.
`record_inline_positions` adds an inline rule that never matches but runs first at every
position where the tokenizer tries its rules, so it sees each rule's start and the tokens
the previous rule made; the text the tokenizer gathered in between ("pending" text) is
placed by where it ends. Each inline token then holds, in ``token.meta[POSITION]``, its
offset in the inline content it was parsed from. Callers check a position against the
content before trusting it.

This leans on how markdown-it's inline tokenizer calls its rules (stable since markdown-it
13 and markdown-it-py 2; pyproject pins the major version) and on two facts of its rules:
emphasis delimiters are one-character text tokens pushed where they stand, and no other
rule lets "*" or "_" into pending text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.common.utils import MD_TRIM_CHARS
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

__all__ = ["POSITION", "ContentMap", "normalize", "record_inline_positions"]

POSITION = "ghapp.pos"  # Token.meta key: the token's offset in its block's content
_RECORDERS = "ghapp.inline-recorders"  # env key: one _Recorder per inline token list
_LONGEST_SCHEME = 32  # the linkify rule takes a URL's scheme back out of pending text


@dataclass
class _Recorder:
    last_pos: int
    last_len: int


def _is_delimiter(token: Token, src: str, at: int) -> bool:
    # Emphasis pushes one text token per "*" or "_" where it starts; pending text never
    # holds those characters (no other rule lets them through), so this tells them apart.
    return (
        token.type == "text" and token.content in ("*", "_") and src.startswith(token.content, at)
    )


def _flush_start(content: str, src: str, end: int) -> int | None:
    """Where pending text flushed at ``end`` began: it ends there, less the spaces the
    newline rule trims or the scheme the linkify rule takes for its link."""
    trimmed = end
    while trimmed > 0 and src[trimmed - 1] == " ":
        trimmed -= 1
    for stop in (end, trimmed):
        if stop >= len(content) and src.startswith(content, stop - len(content)):
            return stop - len(content)
    found = src.rfind(content, max(0, end - len(content) - _LONGEST_SCHEME), end)
    if found >= 0 and re.fullmatch(r"[A-Za-z0-9+.-]*", src[found + len(content) : end]):
        return found
    return None


def _settle(state: StateInline, recorder: _Recorder, *, final: bool) -> None:
    tokens, src, at = state.tokens, state.src, recorder.last_pos
    first, stop = recorder.last_len, len(tokens)
    if final and stop > first:
        last = tokens[-1]
        if last.type == "text" and not _is_delimiter(last, src, at) and src.endswith(last.content):
            last.meta[POSITION] = len(src) - len(last.content)
            stop -= 1
    if first < stop and tokens[first].type == "text" and not _is_delimiter(tokens[first], src, at):
        start = _flush_start(tokens[first].content, src, at)
        if start is not None:
            tokens[first].meta[POSITION] = start
        first += 1
    cursor = at
    for token in tokens[first:stop]:
        if _is_delimiter(token, src, cursor):
            token.meta[POSITION] = cursor
            cursor += 1
        else:
            token.meta[POSITION] = at
    recorder.last_pos, recorder.last_len = state.pos, len(tokens)


def _recorder(state: StateInline) -> _Recorder:
    recorders: dict[int, _Recorder] = state.env.setdefault(_RECORDERS, {})
    recorder = recorders.get(id(state.tokens))
    if recorder is None:
        recorder = recorders[id(state.tokens)] = _Recorder(state.pos, len(state.tokens))
    return recorder


def _mark(state: StateInline, silent: bool) -> bool:
    """First inline rule: places the tokens the previous rule made, never matches."""
    if not silent:
        _settle(state, _recorder(state), final=False)
    return False


def _mark_end(state: StateInline) -> None:
    _settle(state, _recorder(state), final=True)


def _keep_start_when_joined(state: StateInline) -> None:
    """fragments_join folds a run of text tokens into its last one: give each the start of
    the run's first text (emphasis leaves the "*" it used as empty text tokens)."""
    run: list[Token] = []
    for token in [*state.tokens, None]:
        if token is not None and token.type == "text":
            run.append(token)
            continue
        start = next((t.meta.get(POSITION) for t in run if t.content), None)
        for member in run:
            if start is None:
                member.meta.pop(POSITION, None)
            else:
                member.meta[POSITION] = start
        run = []


def record_inline_positions(md: MarkdownIt) -> None:
    """Make ``md`` record each inline token's offset in ``token.meta[POSITION]``."""
    md.inline.ruler.before("text", "ghapp_mark", _mark)
    md.inline.ruler2.before("balance_pairs", "ghapp_mark_end", _mark_end)
    md.inline.ruler2.before("fragments_join", "ghapp_join", _keep_start_when_joined)


_NEWLINES = re.compile(r"\r\n?|\x00")


def normalize(markdown: str) -> tuple[str, list[int] | None]:
    """The comment as markdown-it reads it (``\\r\\n`` and ``\\r`` as ``\\n``, NUL as U+FFFD),
    and, when that changed anything, each of its offsets' offset in ``markdown``."""
    if not _NEWLINES.search(markdown):
        return markdown, None
    out: list[str] = []
    back: list[int] = []
    last = 0
    for match in _NEWLINES.finditer(markdown):
        out.append(markdown[last : match.start()])
        back.extend(range(last, match.start()))
        out.append("\n" if match.group() != "\x00" else "\ufffd")
        back.append(match.start())
        last = match.end()
    out.append(markdown[last:])
    back.extend(range(last, len(markdown) + 1))
    return "".join(out), back


class ContentMap:
    """Offsets in a block's content (what markdown-it parsed inline) → offsets in the comment.

    Content lines are source lines less their container prefixes (``>``, list indents),
    trimmed, with a heading's markers or a table row's other cells cut away. markdown-it
    strips a paragraph's content, and with it any first lines that hold only whitespace
    CommonMark does not call blank (a no-break space): the content then starts below the
    block's first line (``last_line``, the block's end, bounds how far).
    """

    def __init__(
        self,
        content: str,
        src: str,
        line_starts: list[int],
        first_line: int,
        *,
        cell_from: int | None = None,
        last_line: int | None = None,
    ) -> None:
        self.content = content
        lines = content.split("\n")
        spare = max(last_line - first_line - len(lines), 0) if last_line is not None else 0
        self.segments: list[tuple[int, int, int]] = []  # (content at, source at, length)
        for skip in range(spare + 1):
            self.segments = _place(lines[0], 0, src, line_starts, first_line + skip, cell_from)
            if self.segments:
                first_line += skip
                break
        at = len(lines[0]) + 1
        for index, line in enumerate(lines[1:], 1):
            self.segments.extend(_place(line, at, src, line_starts, first_line + index, cell_from))
            at += len(line) + 1
        self.starts = [segment[0] for segment in self.segments]

    def source(self, at: int) -> int | None:
        """The comment offset of content offset ``at`` (``at`` may be a segment's end)."""
        k = bisect.bisect_right(self.starts, at) - 1
        if k < 0:
            return None
        start, source, length = self.segments[k]
        return source + (at - start) if at - start <= length else None


def _place(
    line: str, at: int, src: str, line_starts: list[int], number: int, cell_from: int | None
) -> list[tuple[int, int, int]]:
    """The segments of content line ``line`` (at content offset ``at``) on source line
    ``number``, or from ``cell_from`` in a table row."""
    if not line or number >= len(line_starts):
        return []
    lo = line_starts[number] if cell_from is None else cell_from
    hi = line_starts[number + 1] - 1 if number + 1 < len(line_starts) else len(src)
    return _align(line, at, src, lo, hi, anchored=cell_from is None)


def _align(
    line: str, at: int, src: str, lo: int, hi: int, *, anchored: bool
) -> list[tuple[int, int, int]]:
    """Where content line ``line`` sits in ``src[lo:hi]``: at its end for a paragraph line
    (the prefix is what was cut), else first found; in a table cell, ``|`` was ``\\|``."""
    if not anchored:
        return _cell(line, at, src, lo, hi)
    body = line.lstrip(" ")
    virtual = len(line) - len(body)  # spaces markdown-it made from part of a tab
    for stop in (hi, lo + len(src[lo:hi].rstrip(MD_TRIM_CHARS))):
        if src.startswith(body, stop - len(body)) and stop - len(body) >= lo:
            start = stop - len(body)
            return [(at + virtual, start, len(body))] if virtual else [(at, start, len(line))]
    found = src.find(line, lo, hi)
    return [(at, found, len(line))] if found >= 0 else []


def _cell(line: str, at: int, src: str, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """A table cell's segments: markdown-it splits a row at each ``|`` not after a ``\\``
    and drops that ``\\``, so a cell's ``|`` stands for ``\\|`` in the row. ``lo`` is where
    the previous cell ended (or the row's line starts), so the cell is the first match after
    it; searching for the cell as read could find a later cell instead."""
    pieces = line.split("|")
    found = src.find("\\|".join(pieces), lo, hi)
    if found < 0:
        return []
    segments = [(at, found, len(pieces[0]))] if pieces[0] else []
    at, found = at + len(pieces[0]), found + len(pieces[0])
    for piece in pieces[1:]:  # from each "|", one character past the "\\" before it
        segments.append((at, found + 1, len(piece) + 1))
        at, found = at + len(piece) + 1, found + len(piece) + 2
    return segments
