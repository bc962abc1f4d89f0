"""The inline tokens of a comment (`ghapp/skills/mention_reply/prose.py`, `_Walker.inline_child`
and `_inside_html_links`): the cases mutation testing found unchecked (docs/testing.md,
"Mutation testing").

Each case is a comment as GitHub renders it: which mentions ghapp finds in it and where, and
which command lines it reads, the mentions compared with the reference rendering.
"""

from __future__ import annotations

import pytest

from ghapp.skills.mention_reply.mentions import CommandLine
from tests.test_mentions_prose_mutants import commands, spans


# markdown-it's linkify leaves alone the text between a raw <a> and its </a>, counting the
# tags from the end of the paragraph: a </a> opens a stretch, the <a> before it closes one.
# A bare URL in that stretch is no link, so it does not close the raw <a> and the text after
# it stays hidden; a URL outside every such stretch is a link and does.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("<a href=x>a.com @bot</a>", []),
        ("x <a href=x>y</a> a.com @bot", [(24, 28)]),
        # an <a> after the last </a> does not make the stretch before that </a> end early
        ("<a href=y>b.com @bot</a><a href=z>", []),
        # the <a> of the last pair ends its stretch: "x.com/@bot" is a link
        ("x.com/@bot <a href=y>z</a>", []),
        # two pairs: the first pair's text is in a stretch of its own
        ("<a href=w>x.com @bot</a> <a href=y>z</a>", []),
        # two </a> in a row make two stretches; the inner <a> ends only one of them
        ("<a href=v>x.com @bot<a href=w>y</a></a>", []),
    ],
)
def test_a_bare_url_between_a_raw_a_and_its_end(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# markdown-it's linkify skips a markdown link's content whole, a </a> in it too, and looks
# for bare URLs only in a paragraph whose whole text passes linkify's quick test ("a.com<b>"
# does not; "a.com<b> x@" does). Where "a.com" is no link, the raw <a> before it stays open
# into the next paragraph. (Found comparing ghapp with the reference rendering; ghapp
# counted the </a> and took "a.com" for a link in both.)
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("x.com/@bot [a</a>](u)", []),
        ("x.com/@bot [<a href=y>a</a>](u)", []),
        ("<a href=x>a.com<b>\n\n@bot", []),
        ("<a href=x>a.com<!-- c -->\n\n@bot", []),
        ("<a href=x>a.com<b> x@\n\n@bot", [(23, 27)]),
        ("a.com<b> @bot", [(9, 13)]),
    ],
)
def test_where_markdown_its_linkify_looks_for_bare_urls(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


# A bare URL's link is closed where the URL ends: a </a> in a later block closes nothing
# and is dropped, so the text on both sides of it joins up ("x@bot" is no mention).
@pytest.mark.parametrize(
    "comment",
    ["a.com\n\nx</a>@bot", "a.com\n- x</a>@bot", "a.com\n<div>\nx</a>@bot\n</div>"],
)
def test_a_bare_url_leaves_no_link_open(comment: str) -> None:
    assert spans(comment) == []


# HTML has no link in a link: an autolink in a link's text, or a bare URL markdown-it finds
# there before one (it skips a link's content only back to the last link nested in it),
# closes the link, so the text after it is shown. (Found comparing ghapp with the reference
# rendering; ghapp hid all of a link's text.)
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("[x <http://a.b> *@bot*](u)", [(17, 21)]),
        ("[<http://a.b> <b>@bot</b>](u)", [(17, 21)]),
        ("[a.com @bot <http://b.c>](u)", [(7, 11)]),
        ("[x.com/@bot <http://b.c>](u)", []),
        ("[a.com @bot](u)", []),
        # the outer link is closed already: its </a> closes nothing, and "x@bot" joins up
        ("[<http://b.c> <b>x</a>@bot</b>](u)", []),
        ("[a.com <http://b.c> <b>x</a>@bot</b>](u)", []),
        # with no link nested in it, a link's text holds no bare URL
        ("[*x* a.com *@bot*](u)", []),
    ],
)
def test_a_link_in_a_links_text(comment: str, expected: list[tuple[int, int]]) -> None:
    assert spans(comment) == expected


# What a line shows before a mention decides whether it is a command line: a bare URL or
# emphasis is text on the line; a hard line break (two spaces or a backslash) starts one.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("a.com @bot help", ([], "a.com @bot help")),
        ("x *y* @bot help", ([], "x *y* @bot help")),
        ("x  \n@bot help", ([CommandLine("help", (), "help", 2)], None)),
        ("x\\\n@bot help", ([CommandLine("help", (), "help", 2)], None)),
    ],
)
def test_what_precedes_a_mention_on_its_line(
    comment: str, expected: tuple[list[CommandLine], str | None]
) -> None:
    assert commands(comment) == expected


# A <script> opened in a link's text swallows the link's </a>: the link never ends, and
# every text after it is hidden, even where the script ends (and after more markdown, a
# quote's end swallowed too). An emphasis whose </em> the script swallowed is still open:
# a raw </em> closes it, and the text after that is a text node of its own. A markdown link
# closes a raw <a> left open, so the text after it is shown.
@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("[x <script>](u)\n\n</script> @bot", []),
        ("[x <script>](u)\n\n</script> *y* @bot", []),
        ("> [x <script>](u)\n\n</script> @bot", []),
        ("*x <script>*\n\n</script>x</em>@bot", [(29, 33)]),
        ("<a href=x>y [z](u) @bot", [(19, 23)]),
        # a bare URL in a <script> is the script's text, no link: the raw <a> stays open
        ("<a href=x><script>a.com</script> @bot", []),
    ],
)
def test_markdown_elements_and_the_raw_html_around_them(
    comment: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(comment) == expected


def test_a_mention_written_in_references_inside_a_raw_a() -> None:
    # each character a reference of its own, inside a raw <a>: hidden ("bot" written
    # plainly after it, else ghapp would not even parse the comment)
    assert spans("<a href=x>&#64;&#98;&#111;&#116;</a> bot") == []
