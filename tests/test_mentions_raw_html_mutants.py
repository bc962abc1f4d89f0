"""Raw HTML in a comment (`ghapp/skills/mention_reply/raw_html.py`, and what
`ghapp/skills/mention_reply/prose.py` tells it of the markdown around): the cases mutation
testing found unchecked (docs/testing.md, "Mutation testing").

Each case is a comment as GitHub renders it: which mentions ghapp finds in it (the same
number as the reference rendering, at the offsets given) and which command lines.
"""

from __future__ import annotations

import logging

import pytest

from ghapp.skills.mention_reply.mentions import CommandLine, find_mentions, read_commands
from tests.support.rendered_mentions import reference_mentions

SLUG = "bot"


def spans(comment: str) -> list[tuple[int, int]]:
    found = find_mentions(comment, SLUG)
    assert len(found) == reference_mentions(comment, SLUG)
    return [(m.start, m.end) for m in found]


# An end tag that closes an element (or is read as one: "</p>" makes an empty paragraph,
# "</br>" a line break) ends the text node, so "@bot" before it stands alone; an end tag
# that closes nothing is dropped and the text on both sides joins up.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("<div>\nx @bot</p>team\n</div>", [(8, 12)]),
        ("<div>\nx @bot</br>team\n</div>", [(8, 12)]),
        ("<div>\nx <span>@bot</span>team\n</div>", [(14, 18)]),
        ("x *@bot</em>team*", [(3, 7)]),
        ("<div>\nx @bot</span>team\n</div>", []),
        ("<div>\nx <b>@bot</i>team\n</div>", []),
        # "</em>" closes the outer of two emphases the markdown has open, not after it closed
        ("*a _b_ c</em>@bot d*", [(13, 17)]),
        ("*a* x</em>@bot", []),
        # "</>" is no end tag at all: dropped, and the mention's place is its own
        ("<div>\nx @bot</> help\n</div>", [(8, 12)]),
    ],
)
def test_end_tags_that_close_something_split_the_text(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# Character references in raw HTML render as the characters they name, and the mention's
# place runs over the whole reference.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("<div>\n&#64;bot help\n</div>", (6, 14)),
        ("<div>\n&commat;bot help\n</div>", (6, 17)),
        ("<div>\n@bot[bot&rsqb; help\n</div>", (6, 20)),
        ("<div>\n@bot[bot&#93; help\n</div>", (6, 19)),
        ("<div>\n@bot[bot&#x5d; help\n</div>", (6, 20)),
    ],
)
def test_character_references_in_raw_html(comment: str, expected: tuple[int, int]) -> None:
    assert spans(comment) == [expected]
    assert read_commands(comment, SLUG) == ([CommandLine("help", (), "help", 2)], None)


# Comments in an HTML block: "<!-->", "<!--->" and "<!---->" are whole comments; "--!>"
# ends one too, but not the "!>" right after its "<!--".
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("<div>\nz <!--> @bot\n</div>", [(14, 18)]),
        ("<div>\nz <!---> @bot\n</div>", [(15, 19)]),
        ("<div>\n<!----> @bot\n</div>", [(14, 18)]),
        ("<div>\nz <!-- y --!> @bot\n</div>", [(20, 24)]),
        ("<div>\n<!--!> @bot -->\n</div>", []),
        ("<div>\nz <!--!> @bot -->\n</div>", []),
        # a "-->" before the comment's start does not end it
        ("<div>\na --> b <!-- c --> @bot\n</div>", [(25, 29)]),
    ],
)
def test_comments_in_an_html_block(comment: str, expected: list[tuple[int, int]]) -> None:
    assert spans(comment) == expected


def test_a_command_line_leaves_out_a_comment_in_an_html_block() -> None:
    comment = "<div>\n<!----> @bot label add x <!-- y --> z\n</div>"
    assert read_commands(comment, SLUG) == (
        [CommandLine("label", ("add", "x", "z"), "label add x  z", 2)],
        None,
    )


# What an end tag closes, as the HTML standard's tree construction decides: "</div>" closes
# the <pre> inside it; "</span>" closes the <i> inside it, whose text then goes on in a new
# <i>; the formatting elements (<code>) a closed element held stay open, and so does a
# <pre> in a closed <b>.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("<div>\n<div><pre>x</div> @bot\n</div>", [(24, 28)]),
        ("<div>\nx <span><i>@bot</span>team\n</div>", [(17, 21)]),
        ("<div>\n<b><code>x</b> @bot\n</div>", []),
        ("<div>\n<span><code>x</span> @bot\n</div>", []),
        ("<div>\n<b><pre>x</b> @bot\n</div>", []),
        ("<div>\n<b><i>x</b> @bot\n</div>", [(18, 22)]),
    ],
)
def test_what_an_end_tag_closes(comment: str, expected: list[tuple[int, int]]) -> None:
    assert spans(comment) == expected


# A <script> left open hides the rest of the comment: the tags after it are read as its
# text, and what came before it still counts.
def test_tags_after_an_open_script_are_its_text() -> None:
    comment = "@bot help <script> <b>"
    assert spans(comment) == [(0, 4)]
    assert read_commands(comment, SLUG) == ([CommandLine("help", (), "help", 1)], None)


# A comment left open in a list item goes on into the next HTML block; the text after its
# "-->" is shown, and a mention there starts a command line.
def test_text_after_the_end_of_a_comment_from_an_earlier_block() -> None:
    comment = "- <!-- a\n\n<div>\n--> @bot help\n</div>"
    assert spans(comment) == [(20, 24)]
    assert read_commands(comment, SLUG) == ([CommandLine("help", (), "help", 4)], None)


# A start tag ends the text node before it: "a<b>@bot" is a mention.
@pytest.mark.parametrize("comment", ["<div>\na<b>@bot</b>\n</div>", "<div>\na<br/>@bot\n</div>"])
def test_a_start_tag_splits_the_text(comment: str) -> None:
    assert len(spans(comment)) == 1


# A <script> opened in one paragraph ends at its "</script>" in a later one: the text after
# that end tag is shown again.
@pytest.mark.parametrize("end", ["</script>", "</SCRIPT>"])
def test_a_script_ends_at_its_end_tag_in_a_later_paragraph(end: str) -> None:
    assert spans(f"a <script> b\n\nc {end} @bot help") == [(26, 30)]


# Raw HTML that html.parser cannot read is hidden, and the operator is told why.
def test_unreadable_raw_html_is_hidden_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ghapp.mentions"):
        assert find_mentions("<div>\n@bot <![x[ y ]]>\n</div>", SLUG) == []
        comment = "@bot help\n\n<div>\n<![x[ y ]]>\n</div>"
        assert read_commands(comment, SLUG) == ([CommandLine("help", (), "help", 1)], None)
    assert (
        caplog.messages
        == [
            "raw HTML in a comment could not be read; hiding it: "
            "AssertionError(\"unknown status keyword 'x' in marked section\")"
        ]
        * 2
    )


# A tag cut off by the end of the comment is dropped, also after the end of a comment that
# began in an earlier block; a <script> left open in a quote hides the rest of the comment.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("<div>\n@bot label add x <b", [CommandLine("label", ("add", "x"), "label add x", 2)]),
        (
            "- <!-- a\n\n<div>\n--> @bot label add x <b",
            [CommandLine("label", ("add", "x"), "label add x", 4)],
        ),
        ("> <script>\n\n@bot help", []),
        # text at the end that html.parser holds back (an unfinished reference) is shown
        (
            "<div>\n@bot label add x &#",
            [CommandLine("label", ("add", "x", "&#"), "label add x &#", 2)],
        ),
    ],
)
def test_the_end_of_the_comment_in_raw_html(comment: str, expected: list[CommandLine]) -> None:
    assert len(spans(comment)) == len(expected)
    assert read_commands(comment, SLUG) == (expected, None)


# A comment left open in a list item can end inside a later tag's attribute; the rest of
# that tag is a tag of its own, and the command line after it is read whole.
def test_a_comment_from_an_earlier_block_ending_inside_a_tag() -> None:
    comment = '- <!-- a\n\n<b a="--><i c=" d="e"> @bot label add x y'
    assert spans(comment) == [(33, 37)]
    assert read_commands(comment, SLUG) == (
        [CommandLine("label", ("add", "x", "y"), "label add x y", 3)],
        None,
    )


# What ends with a list item, block quote or table cell: the elements opened in it, except
# formatting elements (<code>), which go on past a list item but not past a cell; elements
# opened before it, at the top or in the container around it, stay open.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("- <blockquote>x\n\n@bot help", [(17, 21)]),
        ("> - a\n>\n> <pre>x\n\n@bot help", [(18, 22)]),
        ("- <code>x\n\n@bot help", []),
        ("| a |\n| - |\n| <code>x |\n\n@bot help", [(25, 29)]),
        ("<blockquote>\n\n> x\n\n@bot help", []),
        ("- a\n\n<blockquote>\n\n> x\n\n@bot help", []),
    ],
)
def test_what_the_end_of_a_container_closes(comment: str, expected: list[tuple[int, int]]) -> None:
    assert spans(comment) == expected
    commands = [CommandLine("help", (), "help", comment.count("\n") + 1)] if expected else []
    assert read_commands(comment, SLUG) == (commands, None)


# A markdown link (or a bare URL made one) closes a raw <a> left open before it; a raw <a>
# inside a markdown link closes the link's own, and the link's end closes the raw one.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ('<a href="x">y [l](u) @bot', [(21, 25)]),
        ('<a href="x">y www.example.com @bot', [(30, 34)]),
        ('[<a href="y">x](u) @bot', [(19, 23)]),
        ('[<em><a href="y">x](u) @bot', [(23, 27)]),
        ('[x <a href="y">z</a> w](u) @bot', [(27, 31)]),
        ("[<code>x](u) @bot", []),
    ],
)
def test_a_markdown_link_and_a_raw_a(comment: str, expected: list[tuple[int, int]]) -> None:
    assert spans(comment) == expected


# A comment in a paragraph ends one left open in an earlier block, and ends itself at
# "--!>" (markdown-it's goes on to the next "-->"): the text after it is shown.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("- <!-- a\n\nb <!-- c --> @bot help", [(23, 27)]),
        ("x <!-- a --!> @bot -->", [(14, 18)]),
        ("x <!-- a -->@bot", [(12, 16)]),
    ],
)
def test_a_comment_in_a_paragraph(comment: str, expected: list[tuple[int, int]]) -> None:
    assert spans(comment) == expected


# A table cell bounds what an end tag in it can close (the HTML standard's scopes end at a
# cell): a </pre> or </b> in a cell leaves the element opened before the table open, and the
# cell's text stays inside it. Found by the generated comments of tests/test_mentions_fuzz.py.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("@bot<pre>\n| </pre>@bot\n---", [(0, 4)]),
        ("<b>x\n\n| a |\n|---|\n| </b> @bot |", [(25, 29)]),
        ("| a |\n|---|\n| <pre> x </pre> @bot |", [(29, 33)]),
        # a </span> that reaches nothing is dropped: "@b" and "ot" join into one mention
        ("x <span>y\n\n| a |\n|---|\n| @b</span>ot @bot |", [(25, 36), (37, 41)]),
        ("x <code>y\n\n| a | b |\n|---|---|\n| </code> @bot | @bot |", []),
    ],
)
def test_an_end_tag_in_a_table_cell_closes_nothing_outside_it(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected
