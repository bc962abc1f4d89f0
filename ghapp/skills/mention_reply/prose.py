"""The prose of a comment: the text GitHub shows as text, and where each character came from.

A mention counts only where GitHub renders it as one (PRODUCT.md §5.1), so this module reads
a comment the way GitHub renders it — CommonMark with GFM tables and bare-URL autolinks
(markdown-it-py with linkify-it-py), the raw HTML in it read as one HTML document by the
standard library's `html.parser` — and hands out its *text runs*: the rendered page's text
nodes that lie outside code, links, images, block quotes, HTML comments, `<script>` and
`<style>`. Each run can say where in the comment any of its characters came from, whether
it starts a rendered line, and what the rest of that line says.

markdown-it gives block tokens their lines; `positions` places the inline tokens
within their block. A piece of text whose place cannot be confirmed is left out, not guessed.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import isLinkClose, isLinkOpen
from markdown_it.token import Token

from ghapp.skills.mention_reply.positions import POSITION as _POS
from ghapp.skills.mention_reply.positions import ContentMap, normalize, record_inline_positions
from ghapp.skills.mention_reply.raw_html import RawHtml, RawItem

__all__ = ["TextRun", "normalize", "text_runs"]


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "linkify"])
    # Bare URLs are found on text tokens by `_autolinks`, which keeps their positions;
    # text_join would merge escapes into text and lose where they came from.
    md.core.ruler.disable(["linkify", "text_join"])
    record_inline_positions(md)
    return md


# ------------------------------------------------------------------------------ text runs


@dataclass
class _Piece:
    run_at: int  # where the piece starts in its run's text
    text: str  # as rendered: entities decoded, "\n" for a soft break
    content_at: int  # where it came from in the block's content
    content_len: int
    placed: bool  # its place in the comment is confirmed


@dataclass
class TextRun:
    """One rendered text node that is prose (not inside code, a link, a quote …)."""

    block: ContentMap
    begins_line: bool  # nothing visible precedes the run on its rendered line
    breaks: list[int]  # content offsets where the block's rendered lines end
    hidden: list[tuple[int, int]]  # content spans that render nothing (HTML tags, comments)
    pieces: list[_Piece] = field(default_factory=list)
    piece_starts: list[int] = field(default_factory=list)
    length: int = 0
    text: str = ""  # filled in when the run ends

    def add(self, text: str, content_at: int, content_len: int, placed: bool) -> None:
        self.pieces.append(_Piece(self.length, text, content_at, content_len, placed))
        self.piece_starts.append(self.length)
        self.length += len(text)

    def finish(self) -> TextRun:
        self.text = "".join(piece.text for piece in self.pieces)
        return self

    def _piece(self, i: int) -> _Piece:
        return self.pieces[max(bisect.bisect_right(self.piece_starts, i) - 1, 0)]

    def content_at(self, i: int, *, end: bool = False) -> int | None:
        """The content offset of run offset ``i`` (with ``end``, of the character before it)."""
        piece = self._piece(i - 1 if end else i)
        if not piece.placed:
            return None
        if len(piece.text) == piece.content_len:
            return piece.content_at + (i - piece.run_at)
        return piece.content_at + (piece.content_len if end else 0)

    def source(self, start: int, end: int) -> tuple[int, int] | None:
        """Comment offsets of run characters ``start:end``, or None when not confirmed."""
        first, last = self.content_at(start), self.content_at(end, end=True)
        if first is None or last is None:
            return None
        begin, stop = self.block.source(first), self.block.source(last)
        return None if begin is None or stop is None else (begin, stop)

    def starts_line(self, i: int) -> bool:
        """Only whitespace precedes run offset ``i`` on its rendered line."""
        line_start = self.text.rfind("\n", 0, i) + 1
        return (line_start > 0 or self.begins_line) and not self.text[line_start:i].strip()

    def rest_of_line(self, i: int) -> tuple[str, int] | None:
        """The content after run offset ``i`` to the end of its rendered line, with what
        renders nothing left out, and the content offset where that line ends."""
        at = self.content_at(i, end=True)
        if at is None:
            return None
        k = bisect.bisect_left(self.breaks, at)
        stop = self.breaks[k] if k < len(self.breaks) else len(self.block.content)
        parts, cursor = [], at
        for start, end in self.hidden:
            if end <= cursor or start >= stop:
                continue
            parts.append(self.block.content[cursor : max(start, cursor)])
            cursor = max(cursor, end)
        parts.append(self.block.content[cursor:stop] if cursor < stop else "")
        return "".join(parts), stop


_CONTAINERS = frozenset({"blockquote", "list_item", "heading", "th", "td"})


@dataclass
class _Block:
    """The block being walked: its content map, line ends and what renders nothing."""

    map: ContentMap
    breaks: list[int]
    hidden: list[tuple[int, int]]


class _Walker:
    """Walks markdown-it's tokens in order, as a browser would read the rendered page."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", src)]
        self.raw = RawHtml()
        self.runs: list[TextRun] = []
        self.run: TextRun | None = None
        self.quote_depth = 0
        self.link_depth = 0
        # Quotes and links whose closing tag an unclosed comment or <script> swallowed: the
        # browser never sees them end, so their text stays hidden.
        self.never_closed = 0
        self.line_has_text = False
        self.containers: list[str] = []
        self.row_cursor = 0
        self.in_cell = False
        self.in_html_link: set[int] = set()

    def brk(self) -> None:
        """A text node ends (an element or a comment starts or ends)."""
        if self.run is not None and self.run.pieces:
            self.runs.append(self.run.finish())
        self.run = None

    def new_line(self) -> None:
        self.brk()
        self.line_has_text = False

    def text(
        self, block: _Block, text: str, at: int, length: int, placed: bool, *, raw_hidden: bool
    ) -> None:
        if not text:
            return
        if raw_hidden or self.quote_depth or self.link_depth or self.never_closed:
            self.brk()
        else:
            if self.run is None:
                # A table row holds several cells on one line: none of them starts it.
                starts = not self.line_has_text and not self.in_cell
                self.run = TextRun(block.map, starts, block.breaks, block.hidden)
            self.run.add(text, at, length, placed)
        if "\n" in text:
            self.line_has_text = bool(text.rsplit("\n", 1)[1].strip())
        elif text.strip():
            self.line_has_text = True

    def walk(self, tokens: list[Token]) -> list[TextRun]:
        for token in tokens:
            kind = token.type.rsplit("_", 1)[0] if token.nesting else token.type
            swallowed = token.nesting == -1 and self.raw.swallow is not None
            if token.nesting and token.tag and not token.hidden and not swallowed:
                self.raw.markdown_element(token.tag, token.nesting)
            if kind in _CONTAINERS and token.nesting == 1:
                self.containers.append(kind)
                self.quote_depth += kind == "blockquote"
                self.raw.open_container(len(self.containers), cell=kind in ("th", "td"))
            elif kind in _CONTAINERS and token.nesting == -1:
                if not swallowed:
                    self.raw.close_container(len(self.containers), cell=kind in ("th", "td"))
                self.quote_depth -= kind == "blockquote"
                self.never_closed += swallowed and kind == "blockquote"
                self.containers.pop()
            elif token.type == "tr_open" and token.map:
                self.row_cursor = self.line_starts[token.map[0]]
            elif token.type == "inline" and token.map:
                self.inline(token, token.map[0], token.map[1])
            elif token.type == "html_block" and token.map:
                content_map = ContentMap(token.content, self.src, self.line_starts, token.map[0])
                breaks = [m.start() for m in re.finditer("\n", token.content)]
                self.new_line()
                self.raw_piece(_Block(content_map, breaks, []), token.content, 0)
            self.new_line()
        return self.runs

    def raw_piece(self, block: _Block, piece: str, base: int) -> None:
        item: RawItem
        for item in self.raw.feed(piece):
            if item.data is None:
                block.hidden.append((base + item.start, base + item.end))
                if item.splits:
                    self.brk()
            else:
                placed = (
                    item.end - item.start != len(item.data)
                    or piece[item.start : item.end] == item.data
                )
                self.text(
                    block,
                    item.data,
                    base + item.start,
                    item.end - item.start,
                    placed,
                    raw_hidden=item.hidden,
                )

    def inline(self, token: Token, line: int, end_line: int) -> None:
        children = token.children or []
        in_cell = self.in_cell = bool(self.containers) and self.containers[-1] in ("th", "td")
        content_map = ContentMap(
            token.content,
            self.src,
            self.line_starts,
            line,
            cell_from=self.row_cursor if in_cell else None,
            last_line=end_line,
        )
        if in_cell and content_map.segments:
            self.row_cursor = content_map.segments[-1][1] + content_map.segments[-1][2]
        breaks = sorted(
            c.meta[_POS] for c in children if c.type.endswith("break") and _POS in c.meta
        )
        # What renders nothing is added as the raw HTML is read: an inline comment can end
        # at "--!>" and show the rest of its token, which a command line keeps.
        block = _Block(content_map, breaks, [])
        self.in_html_link = _inside_html_links(children)
        previous: Token | None = None
        for child in children:
            self.inline_child(block, child, previous)
            previous = child

    def inline_child(self, block: _Block, child: Token, previous: Token | None) -> None:
        at: int | None = child.meta.get(_POS)
        content = block.map.content
        kind = child.type
        if kind == "text":
            placed = at is not None and content.startswith(child.content, at)
            cursor = 0
            # (in a link's text too, before a link nested in it, where markdown-it looks)
            linkable = id(child) not in self.in_html_link and _may_link(content)
            for start, end in _autolinks(child.content, previous) if linkable else []:
                self.text(
                    block,
                    child.content[cursor:start],
                    (at or 0) + cursor,
                    start - cursor,
                    placed,
                    raw_hidden=self.raw.hides_text(),
                )
                self.brk()
                if self.raw.swallow is None:  # in a <script> or a comment, the link is text
                    # the URL's link closes a raw <a> left open and a markdown link it is in
                    self.raw.markdown_element("a", -self.link_depth)
                    self.link_depth = 0
                self.line_has_text = True
                cursor = end
            rest = child.content[cursor:]
            self.text(
                block, rest, (at or 0) + cursor, len(rest), placed, raw_hidden=self.raw.hides_text()
            )
        elif kind == "text_special":
            placed = at is not None and content.startswith(child.markup, at)
            self.text(
                block,
                child.content,
                at or 0,
                len(child.markup),
                placed,
                raw_hidden=self.raw.hides_text(),
            )
        elif kind == "softbreak":
            self.text(block, "\n", at or 0, 1, at is not None, raw_hidden=self.raw.hides_text())
        elif kind == "hardbreak":
            self.new_line()
        elif kind == "html_inline":
            if at is not None:
                # A comment is read too: it ends one left open in an earlier block, and
                # ends itself at "--!>", where markdown-it's goes on to "-->".
                self.raw_piece(block, child.content, at)
            else:
                self.brk()  # a tag of unknown place ends the text node
        else:
            self.brk()
            swallowed = child.nesting == -1 and self.raw.swallow is not None
            if child.nesting and child.tag and not swallowed:
                if kind == "link_open" and self.link_depth:
                    # HTML has no link in a link: a link's start closes one still open (an
                    # autolink in a link's text), whose end then closes nothing
                    self.raw.markdown_element("a", -1)
                self.raw.markdown_element(child.tag, child.nesting)
            if kind in ("link_open", "link_close"):
                self.link_depth = int(kind == "link_open")
            self.never_closed += swallowed and kind == "link_close"
            self.line_has_text |= kind in ("code_inline", "image")


def _inside_html_links(children: list[Token]) -> set[int]:
    """The tokens markdown-it's linkify leaves alone, found as it finds them (from the end):
    a markdown link's content — back from its close to the first ``link_open`` (an autolink's,
    when one is nested) — and what lies between an inline ``<a>`` and its ``</a>`` outside those."""
    inside: set[int] = set()
    level = 0
    i = len(children)
    while i > 0:
        i -= 1
        child = children[i]
        if child.type == "link_close":
            i -= 1
            while children[i].level != child.level and children[i].type != "link_open":
                inside.add(id(children[i]))
                i -= 1
            continue
        if child.type == "html_inline":
            if isLinkOpen(child.content) and level > 0:
                level -= 1
            if isLinkClose(child.content):
                level += 1
        elif level > 0:
            inside.add(id(child))
    return inside


@functools.lru_cache(maxsize=16)
def _may_link(content: str) -> bool:
    """markdown-it looks for bare URLs only in an inline content whose whole text passes
    linkify's quick test: in "a.com<b>" it finds none, in "a.com<b> x@" one. (Kept per
    content: a paragraph of many text tokens would run it once for each.)"""
    linkify: Any = _markdown().linkify
    return bool(linkify.pretest(content))


def _autolinks(text: str, previous: Token | None) -> list[tuple[int, int]]:
    md = _markdown()
    linkify: Any = md.linkify
    if linkify is None or not linkify.test(text):
        return []
    links = linkify.match(text) or []
    if links and links[0].index == 0 and previous is not None and previous.type == "text_special":
        links = links[1:]  # as markdown-it: "http\://x" is no link
    return [
        (link.index, link.last_index)
        for link in links
        if md.validateLink(md.normalizeLink(link.url))
    ]


def text_runs(src: str) -> list[TextRun]:
    """The prose of ``src`` (a comment as `normalize` returns it), in order."""
    # markdown-it-py (3.x) indexes past the end of a source whose last line is an HTML
    # block inside a list item with no final line break (`<span\n>- <!--<span\n>`); a
    # final line break changes nothing CommonMark renders and no offset before it.
    parsed = src if src.endswith("\n") else src + "\n"
    return _Walker(src).walk(_markdown().parse(parsed, {}))
