"""Markdown for what skills write on GitHub: text echoed back inside code spans.

Replies quote what people typed (a label name, a milestone title, a command). Inside a
code span that text cannot mention anyone, link anywhere or start a table, so it stays
inert, provided the span survives backticks in the text itself: CommonMark closes a span
only on a run of backticks as long as the one that opened it.
"""

from __future__ import annotations

__all__ = ["code_span"]


def code_span(text: str) -> str:
    """`text` as one markdown code span, whatever backticks it holds.

    The fence is one backtick longer than the longest run inside; a space pads text that
    starts or ends with a backtick, which CommonMark strips again when rendering.
    """
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
