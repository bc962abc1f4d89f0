"""The raw HTML in a comment, read as the one HTML document GitHub renders it into.

markdown-it hands raw HTML over in pieces (an HTML block, one inline tag at a time); a
browser reads them as one document. `RawHtml` is fed the pieces in order and answers two
questions: which parts of a piece are text (and which markup), and whether text at this
point — in a piece or in the markdown between pieces — sits inside an element whose text
is never a mention (`<a>`, `<code>`, `<pre>`, `<script>`, `<style>`, `<blockquote>`), an
unclosed comment, or a `<script>` or `<style>` that has not ended.

It follows the HTML standard where that decides what is hidden: a self-closing `<a/>` or
`<code/>` still opens the element; an unclosed `<a>` or `<code>` carries on past the end
of its paragraph or list item (the standard reopens it), but not out of a table cell; other
unclosed elements end with the list item, block quote or heading they were opened in; a
tag cut off by the end of a piece is dropped. Tokenizing is `html.parser`'s.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["HIDING_ELEMENTS", "RawHtml", "RawItem"]

log = logging.getLogger("ghapp.mentions")

# html-pipeline's MentionFilter (GitHub's, open-sourced) skips text inside pre, code, a,
# style and script; PRODUCT.md §5.1 adds block quotes.
HIDING_ELEMENTS = frozenset({"a", "code", "pre", "script", "style", "blockquote"})
# The HTML standard's "formatting elements": reopened after their block ends.
_FORMATTING = frozenset(
    {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong"}
    | {"tt", "u"}
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr", "keygen"}
)
# The HTML standard's "special" elements: an end tag such as </span> cannot reach past one.
_SPECIAL = frozenset(
    {"address", "article", "aside", "blockquote", "center", "dd", "details", "dir", "div"}
    | {"dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5"}
    | {"h6", "header", "li", "listing", "main", "menu", "nav", "ol", "p", "pre", "section"}
    | {"summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "xmp", "script"}
    | {"style", "textarea", "title", "iframe", "noembed", "noframes", "noscript", "plaintext"}
)
_COMMENT_END = re.compile(r"--!?>")


@dataclass(frozen=True)
class RawItem:
    """A stretch of a fed piece: text (``data`` as rendered) or markup (``data`` None)."""

    start: int
    end: int
    data: str | None
    hidden: bool  # text inside an element that hides mentions (markup: always True)
    splits: bool = True  # markup that ends a text node (an end tag that closes nothing doesn't)


@dataclass
class _Open:
    tag: str
    depth: int  # markdown container depth it was opened at
    formatting: bool


class _PieceParser(HTMLParser):
    def __init__(self, owner: RawHtml, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.owner = owner
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.items: list[RawItem] = []

    def _at(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _markup(self, *, splits: bool = True) -> None:
        at = self._at()
        self.items.append(RawItem(at, at, None, True, splits))  # ends where the next starts

    def _data(self, start: int, end: int, data: str) -> None:
        self.items.append(RawItem(start, end, data, self.owner.hides_text()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._markup()
        self.owner.start_tag(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._markup()
        self.owner.start_tag(tag)  # "/>" closes nothing in HTML: <a/> opens a link

    def handle_endtag(self, tag: str) -> None:
        # An end tag that closes nothing is dropped, and the text on both sides joins up.
        closes = self.owner.end_tag(tag) or tag in self.owner.markdown_open or tag in ("p", "br")
        self._markup(splits=closes)

    def handle_data(self, data: str) -> None:
        at = self._at()
        self._data(at, at + len(data), data)

    def _reference(self, prefix: str, name: str) -> None:
        at = self._at()
        end = at + len(prefix) + len(name)
        end += self.text.startswith(";", end)
        self._data(at, end, html.unescape(self.text[at:end]))

    def handle_entityref(self, name: str) -> None:
        self._reference("&", name)

    def handle_charref(self, name: str) -> None:
        self._reference("&#", name)

    def parse_comment(self, i: int, report: bool = True) -> int:
        # As the HTML standard ends a comment ("<!-->" and "<!--->" are whole ones); older
        # html.parser also took "--" then whitespace then ">" for an end, showing hidden text.
        rawdata = self.rawdata
        empty = re.compile(r"<!--->|<!-->").match(rawdata, i)
        close = empty or _COMMENT_END.search(rawdata, i + 4)
        if close is None:
            return -1
        if report:
            self.handle_comment(rawdata[i + 4 : close.start()] if empty is None else "")
        return close.end()

    def handle_comment(self, data: str) -> None:
        self._markup()

    def handle_decl(self, decl: str) -> None:
        self._markup()

    def handle_pi(self, data: str) -> None:
        self._markup()

    def unknown_decl(self, data: str) -> None:
        self._markup()


class RawHtml:
    """The open elements of one comment's raw HTML, across the pieces fed so far."""

    def __init__(self) -> None:
        self.open: list[_Open] = []
        self.hiding = 0  # how many of self.open hide text
        self.depth = 0
        self.swallow: re.Pattern[str] | None = None  # the end of an open comment or script
        self.markdown_open: dict[str, int] = {}  # elements the markdown around has open
        self.cells: list[int] = []  # depths of the markdown table cells open, innermost last

    def hides_text(self) -> bool:
        return self.hiding > 0 or self.swallow is not None

    def _keep(self, kept: list[_Open]) -> None:
        self.open = kept
        self.hiding = sum(entry.tag in HIDING_ELEMENTS for entry in kept)

    def start_tag(self, tag: str) -> None:
        if tag == "a":  # a link never holds a link: a new <a> closes the open one
            self._keep([entry for entry in self.open if entry.tag != "a"])
        if tag not in _VOID:
            self.open.append(_Open(tag, self.depth, tag in _FORMATTING))
            self.hiding += tag in HIDING_ELEMENTS

    def end_tag(self, tag: str) -> bool:
        ordinary = tag not in _SPECIAL and tag not in _FORMATTING
        # An end tag reaches no element opened outside the table cell it is in (a cell is a
        # boundary of the HTML standard's scopes): `| </pre>@bot |` leaves a <pre> open.
        floor = self.cells[-1] if self.cells else 0
        for k in range(len(self.open) - 1, -1, -1):
            if self.open[k].depth < floor:
                return False
            if ordinary and self.open[k].tag in _SPECIAL and self.open[k].tag != tag:
                return False  # dropped: a </span> does not close the <pre> it sits in
            if self.open[k].tag == tag:
                later = self.open[k + 1 :]
                if not self.open[k].formatting:  # closing it closes what it holds
                    later = [entry for entry in later if entry.formatting]
                self._keep(self.open[:k] + later)
                return True
        return False

    def markdown_element(self, tag: str, nesting: int) -> None:
        """The markdown around opened (1) or closed (-1) a ``tag`` element."""
        # A markdown link closes a raw <a> left open; a raw <a> inside the link closed the
        # link's own <a> (see start_tag), so the link's </a> closes that one.
        if tag == "a":
            self._keep([entry for entry in self.open if entry.tag != "a"])
        self.markdown_open[tag] = self.markdown_open.get(tag, 0) + nesting
        if self.markdown_open[tag] <= 0:
            del self.markdown_open[tag]

    def open_container(self, depth: int, *, cell: bool) -> None:
        self.depth = depth
        if cell:
            self.cells.append(depth)

    def close_container(self, depth: int, *, cell: bool) -> None:
        """A list item, quote or heading ends: what opened inside it ends too, except
        formatting elements, which only a table cell's end stops."""
        self._keep([e for e in self.open if e.depth < depth or (e.formatting and not cell)])
        self.depth = depth - 1
        if cell:  # every cell's start was told (open_container), so there is one to end
            self.cells.pop()

    def feed(self, piece: str) -> list[RawItem]:
        """Read one piece of raw HTML: its text and markup, in order."""
        items: list[RawItem] = []
        offset = 0
        if self.swallow is not None:
            match = self.swallow.search(piece)
            if match is None:
                return [RawItem(0, len(piece), None, True)]
            # A comment ends after "-->"; a script's end tag is read like any other tag.
            offset = match.end() if self.swallow is _COMMENT_END else match.start()
            items.append(RawItem(0, offset, None, True))
            self.swallow = None
        parser = _PieceParser(self, piece[offset:])
        try:
            parser.feed(piece[offset:])
            rest = parser.rawdata
        except Exception as exc:  # html.parser has raised on malformed input before
            log.warning("raw HTML in a comment could not be read; hiding it: %r", exc)
            return [*items, RawItem(offset, len(piece), None, True)]
        consumed = len(piece) - offset - len(rest)
        if parser.cdata_elem:  # a <script> or <style> still open at the end of the piece
            self.swallow = re.compile(rf"</{re.escape(parser.cdata_elem)}[\s/>]", re.IGNORECASE)
        elif rest.startswith("<!--"):
            self.swallow = _COMMENT_END
        elif rest and not rest.startswith("<"):
            parser.handle_data(rest)  # text held back in case an entity went on
            consumed = len(piece) - offset
        if rest and consumed < len(piece) - offset:
            parser.items.append(RawItem(consumed, consumed, None, True))  # cut-off markup
        ends = [item.start for item in parser.items[1:]] + [len(piece) - offset] * bool(
            parser.items
        )
        for item, next_start in zip(parser.items, ends, strict=True):
            end = next_start if item.data is None else item.end
            items.append(
                RawItem(offset + item.start, offset + end, item.data, item.hidden, item.splits)
            )
        return items
