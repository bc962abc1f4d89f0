"""Where mentions sit in a comment (`ghapp/skills/mention_reply/positions.py`): the cases
mutation testing found unchecked (docs/testing.md, "Mutation testing").

Each case is a comment as GitHub renders it; the tests check which mentions and command
lines ghapp finds in it and where, compared with the reference rendering where it counts.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest

from ghapp.skills.mention_reply import prose
from ghapp.skills.mention_reply.mentions import CommandLine, find_mentions, read_commands
from ghapp.skills.mention_reply.positions import POSITION
from tests.support.rendered_mentions import reference_mentions

SLUG = "bot"


def places(comment: str) -> list[tuple[int, int, int]]:
    found = find_mentions(comment, SLUG)
    assert len(found) == reference_mentions(comment, SLUG)
    for mention in found:
        # an escape ("\\@") or a reference ("&#64;") is part of the mention's place
        said = html.unescape(comment[mention.start : mention.end].replace("\\", "")).lower()
        assert said in ("@bot", "@bot[bot]")
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


# The same, with a first line that holds no mention: the paragraph's first line must be found
# on its own source line (the one below the whitespace), not on the whitespace line nor
# reaching into the next line, or every line after it is looked for a line too high.
@pytest.mark.parametrize("first", ["x", "XX"])
def test_a_paragraph_after_a_line_of_unicode_whitespace_keeps_its_later_lines(first: str) -> None:
    comment = f"\u00a0\n{first}\n@bot help"
    at = len(first) + 3
    assert places(comment) == [(at, at + 4, 3)]
    assert read_commands(comment, SLUG) == ([CommandLine("help", (), "help", 3)], None)


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


# Comments whose inline markup moves text around in markdown-it's tokens (emphasis, escapes,
# entities, bare URLs, breaks, tabs, line endings, table cells, headings): every mention is
# found where it is. The parser is built once and kept; it is built again here, so that what
# `record_inline_positions` adds to it is what these comments are read with.
@pytest.fixture
def fresh_parser() -> Iterator[None]:
    prose._markdown.cache_clear()
    yield
    prose._markdown.cache_clear()


@pytest.mark.usefixtures("fresh_parser")
@pytest.mark.parametrize(
    ("comment", "starts"),
    [
        ("@bot see http://x.com @bot see", [0, 22]),
        ("@bot see http://x.com @bot see x", [0, 22]),
        ("@bot see Https://x.com @bot", [0, 23]),
        ("@bot[bot\\]", [0]),
        ("long words before @bot and more https://x.com", [18]),
        ("_a_ @bot _b_ @bot http://x.com", [4, 13]),
        ("`a` @bot `b` @bot http://x.com", [4, 13]),
        ("| x |\n|---|\n| a \\| b \\| @bot |", [24]),
        ("| x | y |\n|---|---|\n| @bot | a \\| @bot |", [22, 34]),
        ("| @bot | @bot |\n|--|--|\n| @bot | @bot |", [2, 9, 26, 33]),
        ("| a |\n|---|\n| \\|@bot |", [16]),
        ("a\n   @bot x", [5]),
        ("-   @bot\n\n    @bot two", [4, 14]),
        ("# @bot help \t", [2]),
        ("@bot x  \n===", [0]),
        ("x\n@bot y\t", [2]),
        ("x\n@bot y \t ", [2]),
        ("- a\n\n\t@bot b", [6]),
        ("@bot a\n\t@bot b", [0, 8]),
        ("@bot help\r\n@bot x", [0, 11]),
        ("@bot\r\nx @bot\r\n", [0, 8]),
        ("x\x00@bot\x00 @bot\x00", [2, 8]),
        ("see https://x.com/a @bot and www.x.com @bot", [20, 39]),
        ("mailto:a@b.com @bot x@y.com @bot", [15, 28]),
        ("*a* @bot _b_ @bot **c** @bot", [4, 13, 24]),
        ("a*b @bot c_d_ @bot", [4, 14]),
        ("\\*x @bot \\_ @bot \\@bot", [4, 12, 17]),
        ("&amp; @bot &copy;@bot &#65;@bot", [6, 17]),
        ("foo  \n@bot help  \n@bot x\\\n@bot y", [6, 18, 26]),
        ("-\t@bot help\n-\t\t@bot two", [2]),
        (">\t@bot q\n\n@bot after", [10]),
        ("a\r\n@bot help\r\n@bot x\rb @bot", [3, 14, 23]),
        ("a\x00@bot b\x00 @bot", [2, 10]),
        ("| a | b |\n|---|---|\n| x \\| @bot | @bot |", [27, 34]),
        # a cell is the first match after the cell before it: "@bot|" in the first cell is
        # "@bot\\|" in the row; the row's "@bot|" further on is the second cell's
        ("|x|x|\n|---|---|\n@bot\\||\\||\n@bot\\||\\|@bot|", [16, 27, 36]),
        ("- |x|x|\n  |---|---|\n  @bot\\\\||@bot |", [22, 30]),
        (
            "|x|x|\n|---|---|\n|@bot\\|`@bot|`\\|@bot@bot\n@bot\\||@bot`@bot|`*@bot*",
            [17, 24, 32, 41, 48, 53],
        ),
        ("## @bot help ##\n# x @bot #", [3, 20]),
        # a heading's text is looked for on its own line, not from the comment's start
        ("x @bot\n# x @bot #", [2, 11]),
        ("@bot | x\n--|--", [0]),  # a header cell at the comment's very start
        ("@bot title\n===\nx\n@bot under\n---", [0, 17]),
        ("`x` @bot `@bot` @bot", [4, 16]),
        ("[a](http://x) @bot ![b](y) @bot", [14, 27]),
        ("<b>x</b> @bot <i>@bot</i>", [9, 17]),
        ("1. @bot one\n   @bot two\n2. @bot three", [3, 15, 27]),
        ("- a\n  - @bot nested\n    more @bot", [8, 29]),
        ("x @bot\n    indented @bot", [2, 20]),
        ("   @bot lead\n  @bot two", [3, 15]),
        ("**@bot** *@bot* _@bot_", [2, 10, 17]),
        ("~~@bot~~ @bot", [2, 9]),
        ("a_b_@bot _@bot @bot_x", []),
        ("http\\://x.com @bot", [14]),
        ("x http://a.b/@bot @bot", [18]),
        ("@bot[bot] help and @bot[bot]", [0, 19]),
        ("é@bot -@bot /@bot @@bot", [1, 7, 13, 19]),
        ("*a **b** c* @bot", [12]),
        ("***x*** @bot", [8]),
        ("* *\n@bot", [4]),
        ("_a_b @bot", [5]),
        ("x <!-- y --> @bot", [13]),
        ("a\\\nb @bot", [5]),
        ("line one   \n   @bot two", [15]),
        ("- a\n\t@bot b  ", [5]),
        ("1. a\n\t  @bot b", [8]),
        (" @bot\n@bot", [1, 6]),
        ("[@bot[@bot](b)", [1]),
    ],
)
def test_every_mention_is_found_where_it_is(comment: str, starts: list[int]) -> None:
    assert [start for start, _, _ in places(comment)] == starts


# "\r\n" and "\r" end lines as "\n" does; NUL is no line end (it reads as U+FFFD).
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("@bot help\r\n@bot label add x\r\n", ["help", "label"]),
        ("@bot help\r@bot label add x", ["help", "label"]),
        ("x\x00@bot help", []),
    ],
)
def test_line_ends_and_nul(comment: str, expected: list[str]) -> None:
    assert [line.name for line in read_commands(comment, SLUG)[0]] == expected


# What `positions` records, the offset of each text token in its inline content, is the
# token's own or none (a link's text, which is no prose): never another token's, even where
# that one holds the same characters. The cases are where a wrong offset would still pass
# prose's check of the characters: the link's own ")" and the first link's text.
@pytest.mark.parametrize(
    ("comment", "offsets"),
    [
        ("[a](b))", [None, 6]),
        ("x.com**[a](b))", [0, None, 13]),
        ("[a](b)[a](b)", [None, None]),
        ("[ab](b)[ab](b)", [None, None]),
    ],
)
def test_a_text_token_holds_its_own_offset_or_none(comment: str, offsets: list[int | None]) -> None:
    (inline,) = [t for t in prose._markdown().parse(comment + "\n", {}) if t.type == "inline"]
    texts = [child for child in inline.children or [] if child.type == "text" and child.content]
    assert [child.meta.get(POSITION) for child in texts] == offsets
