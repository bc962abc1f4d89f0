"""Where mentions sit in a comment (`ghapp/skills/mention_reply/positions.py`): the cases
mutation testing found unchecked (docs/testing.md, "Mutation testing").

Each case is a comment as GitHub renders it; the tests check which mentions and command
lines ghapp finds in it and where, compared with the reference rendering where it counts.
"""

from __future__ import annotations

import pytest

from ghapp.skills.mention_reply.mentions import CommandLine, find_mentions, read_commands
from tests.support.rendered_mentions import reference_mentions

SLUG = "bot"


def places(comment: str) -> list[tuple[int, int, int]]:
    found = find_mentions(comment, SLUG)
    assert len(found) == reference_mentions(comment, SLUG)
    for mention in found:
        assert comment[mention.start : mention.end].lower().startswith("@bot")
        assert mention.line_no == comment.count("\n", 0, mention.start) + 1
    return [(m.start, m.end, m.line_no) for m in found]


# markdown-it strips a paragraph's content, and with it a first line holding only whitespace
# that CommonMark does not call blank (a no-break space, a form feed): the paragraph then
# starts a line lower than its block. Both mentions render; ghapp used to lose the first and
# place the second on the first one's line.
@pytest.mark.parametrize("blank", ["\u00a0", "\x0c", "\u00a0\n\u2003"])
def test_a_paragraph_after_a_line_of_unicode_whitespace_keeps_its_mentions(blank: str) -> None:
    comment = f"{blank}\n@bot help\n@bot label add x"
    first = len(blank) + 1
    line = blank.count("\n") + 2
    assert places(comment) == [(first, first + 4, line), (first + 10, first + 14, line + 1)]
    lines, free = read_commands(comment, SLUG)
    assert lines == [
        CommandLine("help", (), "help", line),
        CommandLine("label", ("add", "x"), "label add x", line + 1),
    ]
    assert free is None


@pytest.mark.parametrize("container", ["- ", "# ", "1. "])
def test_unicode_whitespace_before_a_mention_on_the_same_line(container: str) -> None:
    comment = f"{container}\u00a0@bot help"
    at = len(container) + 1
    assert places(comment) == [(at, at + 4, 1)]
    assert read_commands(comment, SLUG) == ([CommandLine("help", (), "help", 1)], None)


def test_a_command_line_carried_over_a_line_break_by_a_tag_after_a_whitespace_line() -> None:
    # The tag "<b\nx>" carries the second command line over its line break: it ends on the
    # line below, which must be found too (else the free text lost the lines after it).
    comment = "\u00a0\n@bot go <b\n@bot go <b\nx>\n\nthanks @bot"
    assert [m.line_no for m in find_mentions(comment, SLUG)] == [2, 3, 6]
    lines, free = read_commands(comment, SLUG)
    assert lines == [
        CommandLine("go", ("<b",), "go <b", 2),
        CommandLine("go", (), "go", 3),
    ]
    assert free == "thanks @bot"
