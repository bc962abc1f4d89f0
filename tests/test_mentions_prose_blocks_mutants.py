"""How the prose of a comment (`ghapp/skills/mention_reply/prose.py`) walks markdown-it's
blocks — list items, headings, quotes, table cells, HTML blocks — and where a rendered line
starts: the cases mutation testing found unchecked (docs/testing.md, "Mutation testing").

Each case is a comment as GitHub renders it: which mentions ghapp finds (as many as the
reference rendering, at the offsets given) and which command lines it reads.
"""

from __future__ import annotations

import pytest

from ghapp.skills.mention_reply.mentions import CommandLine
from tests.test_mentions_prose_mutants import commands, spans


def _help(line_no: int) -> tuple[list[CommandLine], str | None]:
    return [CommandLine("help", (), "help", line_no)], None


# A command line is a mention with nothing visible before it on its rendered line. Text
# before a tag counts on the tag's line; a line break in the text (a soft break, or one in
# an HTML block) starts a new line, and only what follows the last one is on it.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("x <b>@bot help", ([], "x <b>@bot help")),
        ("x\n<b>@bot help", _help(2)),
        ("<div>\nx <b>@bot help</b>\n</div>", ([], "<div>\nx <b>@bot help</b>\n</div>")),
        ("<div>\nx\n<b>@bot help</b>\n</div>", _help(3)),
    ],
)
def test_what_comes_before_a_mention_on_its_line(
    comment: str, expected: tuple[list[CommandLine], str | None]
) -> None:
    assert commands(comment) == expected


# The end of a list item closes the raw HTML elements opened in it (but formatting ones):
# a <pre> or <blockquote> left open in an item hides nothing after the list.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [("- a <pre>\n\n@bot", [(11, 15)]), ("- a <blockquote>\n\n@bot", [(18, 22)])],
)
def test_an_element_left_open_in_a_list_item_ends_with_it(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# The end of a table cell closes the formatting elements opened in it too (a header cell as
# well as a body cell): a <code> left open hides nothing in the next cell.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("| <code>x | @bot |\n| - | - |", [(12, 16)]),
        ("| a | b |\n| - | - |\n| <code>x | @bot |", [(32, 36)]),
    ],
)
def test_a_code_left_open_in_a_table_cell_ends_with_it(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# A raw end tag of an element the markdown has open (a heading, a list item) ends the text
# node, so "@b" and "ot" around it are no "@bot"; so does one whose markdown element a
# comment swallowed, which the browser never saw close.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("# @b</h1>ot @bot", [(12, 16)]),
        ("- @b</li>ot @bot", [(12, 16)]),
        ("- <!--\n\n<div>-->@b</li>ot @bot", [(26, 30)]),
    ],
)
def test_a_raw_end_tag_of_a_markdown_element_splits_the_text(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# A block quote whose end a comment swallowed never ends for the browser: everything after
# it is quoted, past the end of other containers and of another swallowed element.
@pytest.mark.parametrize(
    "comment",
    [
        "> <!--\n\n<div>-->\n\n# h\n\n@bot",
        "> <!--\n\n<div>-->\n\n[<script>](u)\n\n<div></script>\n\n@bot",
    ],
)
def test_a_quote_whose_end_a_comment_swallowed_hides_the_rest(comment: str) -> None:
    assert spans(comment) == []


# The first cell of a row is found from the row's start like the others: its "|" stands
# for "\|" in the row.
def test_an_escaped_pipe_in_the_first_cell_of_a_row() -> None:
    assert spans("| a |\n| - |\n| @bot \\| |") == [(14, 18)]


# In an HTML block a command line ends at the block's next line break.
def test_a_command_line_in_an_html_block_ends_with_its_line() -> None:
    assert commands("<div>\n@bot label add x\ny\n</div>") == (
        [CommandLine("label", ("add", "x"), "label add x", 2)],
        None,
    )


# A comment in a paragraph ends at "--!>" and the browser shows the rest of markdown-it's
# token: that text is on the command line, only the comment itself is left out. (ghapp left
# out the whole token; found by `inline__mutmut_48`, which read the line as the browser.)
def test_a_command_line_keeps_the_text_after_a_comment_ended_by_bang() -> None:
    assert commands("@bot label add x <!-- a --!> y -->") == (
        [CommandLine("label", ("add", "x", "y", "-->"), "label add x  y -->", 1)],
        None,
    )
