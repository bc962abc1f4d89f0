"""The reference that mention tests compare ghapp with: what GitHub shows as a mention.

It shares no code with ghapp's mention parser. It renders the comment to HTML with
markdown-it-py's own renderer (CommonMark, GFM tables, bare-URL autolinks), builds the
page with html5lib (the HTML standard's tree construction, as a browser does), and applies
GitHub's mention pattern — html-pipeline's MentionFilter, written the way Ruby runs it — to
each text node that has no `a`, `code`, `pre`, `script`, `style` or `blockquote` ancestor
(the first five are the filter's IGNORE_PARENTS, quotes are PRODUCT.md §5.1's).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import html5lib
from markdown_it import MarkdownIt

IGNORED_PARENTS = frozenset({"a", "code", "pre", "script", "style", "blockquote"})

# Ruby's (?:^|\W) consumes the character before "@"; finditer does the same.
GITHUB_MENTION = re.compile(
    r"(?:^|\W)@((?>[a-z0-9][a-z0-9-]*))(?!/)(?=\.+[ \t\W]|\.+$|[^0-9a-zA-Z_.]|$)",
    re.ASCII | re.IGNORECASE | re.MULTILINE,
)


@functools.cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"linkify": True}).enable(["table", "linkify"])


def rendered_html(markdown: str) -> str:
    return _renderer().render(markdown)


def _text_nodes(node: Any, hidden: bool) -> Iterator[str]:
    tag = node.tag if isinstance(node.tag, str) else None  # comments have a function as tag
    inside = hidden or tag in IGNORED_PARENTS
    if tag is not None and node.text and not inside:
        yield node.text
    for child in node:
        yield from _text_nodes(child, inside)
        if child.tail and not inside:
            yield child.tail


def mentions_in_html(page: str, slug: str) -> int:
    document = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    return sum(
        match.group(1).lower() == slug.lower()
        for text in _text_nodes(document, False)
        for match in GITHUB_MENTION.finditer(text)
    )


def reference_mentions(markdown: str, slug: str) -> int:
    """How many mentions of ``@slug`` GitHub shows in ``markdown``."""
    return mentions_in_html(rendered_html(markdown), slug)
