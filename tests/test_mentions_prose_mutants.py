"""The prose of a comment (`ghapp/skills/mention_reply/prose.py`): the cases mutation
testing found unchecked (docs/testing.md, "Mutation testing").

Each case is a comment as GitHub renders it: which command lines ghapp reads in it (a
mention that starts a rendered line, the rest of that line less HTML tags and comments)
and which mentions it finds, compared with the reference rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from ghapp.skills.mention_reply import prose
from ghapp.skills.mention_reply.mentions import CommandLine, find_mentions, read_commands
from ghapp.skills.mention_reply.positions import POSITION, ContentMap
from tests.support.rendered_mentions import reference_mentions, rendered_html

SLUG = "bot"


def spans(comment: str) -> list[tuple[int, int]]:
    found = find_mentions(comment, SLUG)
    assert len(found) == reference_mentions(comment, SLUG)
    return [(m.start, m.end) for m in found]


def commands(comment: str) -> tuple[list[CommandLine], str | None]:
    assert len(find_mentions(comment, SLUG)) == reference_mentions(comment, SLUG)
    lines, free = read_commands(comment, SLUG)
    assert all(isinstance(line, CommandLine) for line in lines)
    return [line for line in lines if isinstance(line, CommandLine)], free


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        # text before the mention on its line: no command, even with a line after it
        ("hi @bot help\nthanks", ([], "hi @bot help\nthanks")),
        (
            "hi @bot help\n@bot label add x",
            ([CommandLine("label", ("add", "x"), "label add x", 2)], "hi @bot help"),
        ),
        # tags after the line's end belong to the next line, not to the command
        ("@bot help\nmore <b>x</b>", ([CommandLine("help", (), "help", 1)], None)),
        # tags before the mention and after it are left out of the command
        (
            "<b>@bot label add <i>x</i>",
            ([CommandLine("label", ("add", "x"), "label add x", 1)], None),
        ),
        # the command starts after the whole mention, here one ending in a character
        # reference, right before a comment that ends the text node
        ("@bot[bot&#93;<!-- c --> help", ([CommandLine("help", (), "help", 1)], None)),
        # in an HTML block, comments and tags are left out of the command too
        (
            "<div>\n@bot label add x <!-- y --> z\n</div>",
            ([CommandLine("label", ("add", "x", "z"), "label add x  z", 2)], None),
        ),
        # a text node that starts with the line break before the mention (after emphasis)
        ("**x**\n@bot help", ([CommandLine("help", (), "help", 2)], None)),
        # a mention written with a reference inside an HTML block, then a command
        ("<div>\n&#64;bot help\n</div>", ([CommandLine("help", (), "help", 2)], None)),
    ],
)
def test_command_lines(comment: str, expected: tuple[list[CommandLine], str | None]) -> None:
    assert commands(comment) == expected


# A mention whose "@" is written as a reference or an escape starts where that does.
@pytest.mark.parametrize(
    ("comment", "span"),
    [("&#64;bot help", (0, 8)), ("x &commat;bot", (2, 13)), ("\\@bot help", (0, 5))],
)
def test_a_mention_written_with_a_reference_or_an_escape(
    comment: str, span: tuple[int, int]
) -> None:
    assert spans(comment) == [span]


# markdown-it's linkify skips one link only: one at the very start of a text right after an
# escape ("http\://x" is no link). A mention inside a link is not one.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("http\\://x.com/@bot", [(14, 18)]),  # "//x.com/@bot" follows an escape: no link
        ("\\* example.com/@bot", []),  # after an escape and a space: a link
        ("<b>example.com/@bot</b>", []),  # right after a tag: a link
        ("http\\://x.com/@bot y.com/@bot", [(14, 18)]),  # only the first is no link
        ("a.com @bot b.com", [(6, 10)]),  # the text between two links keeps its place
        ("*x* a.com @bot b.com", [(10, 14)]),  # also in a text not at the paragraph's start
        ('<a href="x">y a.com @bot', [(20, 24)]),  # a bare link closes a raw <a> left open
        ("<a href=x>@bot a.com", []),  # but the text before it is still in that <a>
        # markdown-it looks for no link between a raw <a> and its </a>, also when a markdown
        # link follows them
        ("<a href=x>x.com @bot</a> [y](u)", []),
        # nor before an </a> that closes nothing, at the very start of a paragraph: the <a>
        # of the HTML block before it stays open
        ("<a href=y>\n\nx.com @bot</a>", []),
    ],
)
def test_a_bare_url_is_a_link_unless_it_starts_right_after_an_escape(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# markdown-it trims a table cell of its whitespace set, so a no-break space (or an em
# space) before its text is not content, but U+0085 is; the cell's "\|" made ghapp look
# for the text from the first character that is not a space, tab or pipe, place none of it
# and drop the mention. (Found by `source__mutmut_14`, which is told apart only where a
# mention has no place.)
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("| a |\n| - |\n| \xa0@bot \\| |", [(15, 19)]),
        ("| a | b |\n| - | - |\n| x |\u2003@bot \\| |", [(26, 30)]),
        ("| a |\n| - |\n|\x85@bot \\| |", [(14, 18)]),
    ],
)
def test_a_mention_in_a_table_cell_with_an_escaped_pipe_after_unicode_whitespace(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# Each table cell is looked for after the one before it in its row (a header row too), so
# two cells holding the same mention are two places.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("| x @bot | @bot |\n| - | - |", [(4, 8), (11, 15)]),
        # a row's first cell is looked for from the row's start, not after the row above,
        # whose cells past the header's count are not shown
        ("| x |\n|---|\n| a | @bot |\n| @bot |", [(27, 31)]),
        ("| a | b |\n| - | - |\n| x @bot | @bot |", [(24, 28), (31, 35)]),
    ],
)
def test_the_same_mention_in_two_cells_of_a_row(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


def test_a_paragraph_after_a_line_of_only_a_no_break_space() -> None:
    # markdown-it trims the no-break space line off the paragraph: its text is a line lower
    assert commands("\xa0\n@bot help") == ([CommandLine("help", (), "help", 2)], None)
    assert spans("\xa0\n@bot help") == [(2, 6)]


def test_a_last_line_carried_by_a_tab_and_ending_in_unicode_whitespace() -> None:
    # markdown-it trims the paragraph's end of its whitespace set (U+1680 too), and the tab
    # made the line's start spaces ghapp looks for only where the line ends
    comment = "1. x\n\t@bot y\u1680"
    assert commands(comment) == ([CommandLine("y", (), "y", 2)], None)
    assert spans(comment) == [(6, 10)]


# A mention is acted on only where its place in the comment is confirmed: a character whose
# place is unknown makes the mention's span unknown, never a guess. Three fixes in
# `positions` came from places that were wrong; these cases stand in for the next one.
def _run(content: str, src: str, placed: list[bool]) -> prose.TextRun:
    """A text run of ``content``, one piece per line, in a block found in ``src``."""
    block = ContentMap(content, src, [0, *(i + 1 for i, c in enumerate(src) if c == "\n")], 0)
    run = prose.TextRun(block, True, [], [])
    at = 0
    for line, confirmed in zip(content.split("\n"), placed, strict=True):
        run.add(line + "\n", at, len(line) + 1, confirmed)
        at += len(line) + 1
    return run.finish()


@pytest.mark.parametrize(
    ("src", "placed", "expected"),
    [
        ("ab\ncd", [True, True], (0, 4)),
        ("ab\ncd", [True, False], None),  # the run's last character has no confirmed piece
        ("ab\ncd", [False, True], None),  # nor its first
        ("ab\nzz", [True, True], None),  # "cd" is not in the comment: no offset for "d"
        ("zz\nzz", [True, True], None),  # neither line is
    ],
)
def test_a_run_character_of_unconfirmed_place_has_no_offset(
    src: str, placed: list[bool], expected: tuple[int, int] | None
) -> None:
    assert _run("ab\ncd", src, placed).source(0, 4) == expected


def _misplacing(fault: Callable[[dict[str, int]], None]) -> Callable[[], MarkdownIt]:
    """The mention parser with the recorded places of every character reference, and of a
    text ending in "@bot two", spoiled."""

    def spoil(state: StateCore) -> None:
        for token in state.tokens:
            for child in token.children or []:
                if child.type == "text_special" or child.content.endswith("@bot two"):
                    fault(child.meta)

    build = prose._markdown.__wrapped__  # a parser of its own, not the cached one

    def parser() -> MarkdownIt:
        md = build()
        md.core.ruler.push("spoil_positions", spoil)
        return md

    return parser


@pytest.fixture(
    params=[
        lambda meta: meta.pop(POSITION),  # not placed
        lambda meta: meta.update({POSITION: meta[POSITION] + 1}),  # placed one off
    ],
    ids=["missing", "shifted"],
)
def spoiled_places(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setattr(prose, "_markdown", _misplacing(request.param))
    yield


@pytest.mark.usefixtures("spoiled_places")
@pytest.mark.parametrize("comment", ["@bot one\n&#64;bot two", "@bot one\n\nx @bot two"])
def test_a_mention_whose_place_is_spoiled_is_not_acted_on(
    comment: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert [(m.start, m.end) for m in find_mentions(comment, SLUG)] == [(0, 4)]
    assert [line.name for line in read_commands(comment, SLUG)[0]] == ["one"]
    # the second mention is left out for its place, not lost to an error reading the comment
    said = {record.getMessage() for record in caplog.records}
    assert said == {"a mention's place in its comment is unclear; not acting on it"}


def test_no_bare_url_in_a_links_text_after_a_link_nested_in_it() -> None:
    # markdown-it's linkify skips a markdown link's text back to the nearest link_open,
    # here the nested autolink's: " x.com" stays text, " z.com" after the link is a link
    comment = "[y <http://a.b> x.com](u) z.com"
    page = rendered_html(comment)
    assert 'href="http://x.com"' not in page and 'href="http://z.com"' in page
    (inline,) = [t for t in prose._markdown().parse(comment + "\n", {}) if t.type == "inline"]
    children = inline.children or []
    skipped = prose._inside_html_links(children)
    linkable = {
        child.content: id(child) not in skipped for child in children if child.type == "text"
    }
    assert linkable[" x.com"] is False and linkable[" z.com"] is True


# A tag or a reference can split a mention in the source and it still renders whole, so
# a comment is read even when the App's name is not written in it as such (and, in a
# link's text after a link nested in it, a </a> closes nothing: "@b" and "ot" join).
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("@&#98;ot help", [(0, 8)]),
        ("<div>\n@b</span>ot\n</div>", [(6, 17)]),
        ("[<http://a.b> @b</a>ot *x*](u)", [(14, 22)]),
    ],
)
def test_a_mention_whose_name_is_split_in_the_source(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected
