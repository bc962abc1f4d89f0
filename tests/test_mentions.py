"""Table tests for mention_reply.mentions: which mentions count, command lines, arguments.

Every mention row is also checked against the rendered page (tests/support/rendered_mentions),
so the table records what GitHub does, not what the parser happens to do. Rows that changed
when the parser moved to markdown-it (GitHub's rule, not the old scanner's): "é@bot",
"@boté" and "@@bot" are mentions on GitHub.
"""

from __future__ import annotations

import pytest

from ghapp.skills.mention_reply.mentions import (
    CommandLine,
    CommandSyntaxError,
    find_mentions,
    parse_commands,
    read_commands,
    split_args,
)
from tests.support.rendered_mentions import reference_mentions

SLUG = "bot"

# (id, comment, how many mentions count)
MENTION_CASES: list[tuple[str, str, int]] = [
    ("plain", "hey @bot", 1),
    ("start of comment", "@bot help", 1),
    ("alone", "@bot", 1),
    ("mixed case", "@BoT help", 1),
    ("bot suffix", "@bot[bot] help", 1),
    ("bot suffix upper", "@Bot[BOT] help", 1),
    ("comma after", "@bot, help", 1),
    ("colon after", "@bot: help", 1),
    ("bang after", "thanks @bot!", 1),
    ("parenthesised", "(@bot)", 1),
    ("full stop", "ask @bot.", 1),
    ("ellipsis", "ask @bot...", 1),
    ("apostrophe", "@bot's idea", 1),
    ("unicode before", "héllo @bot", 1),
    ("unicode after", "@bot — merci", 1),
    ("cjk around", "你好 @bot 谢谢", 1),
    ("two on a line", "@bot and @bot", 2),
    ("several lines", "@bot help\n@bot labels sync", 2),
    ("longer word before", "foo@bot", 0),
    ("longer login", "@botter", 0),
    ("hyphenated login", "@bot-two help", 0),
    ("underscore after", "@bot_x", 0),
    # GitHub's pattern is ASCII: only [A-Za-z0-9_] before "@" or after the login joins them.
    ("unicode letter before", "é@bot", 1),
    ("unicode letter after", "@boté", 1),
    ("hyphen before", "-@bot", 1),
    ("slash before", "see /@bot", 1),
    ("underscore before", "a_@bot", 0),
    ("digit before", "1@bot", 0),
    ("slash after", "@bot/x", 0),
    ("emphasis around", "_@bot_ and *@bot*", 2),
    ("strong around", "**@bot**", 1),
    ("word then emphasis", "foo*@bot*", 1),
    ("email", "write to me@bot.com", 0),
    ("domain", "see @bot.com", 0),
    ("path", "https://example.com/@bot", 0),
    ("double at", "@@bot", 1),  # GitHub links the second "@bot"
    ("two dots then a word", "@bot..com", 1),  # GitHub: a dot, then a non-word "."
    ("other slug", "@robot help", 0),
    ("inline code", "use `@bot help`", 0),
    ("double backtick span", "use ``@bot ` help`` here", 0),
    ("code span across lines", "see `foo\n@bot help` ok", 0),
    ("escaped backtick is not code", "\\`@bot", 1),
    ("escaped backslash then code", "\\\\`@bot`", 0),
    ("escaped comment opener", "\\<!-- @bot -->", 1),
    ("unmatched backtick is literal", "a ` @bot", 1),
    ("after a code span", "`x` @bot", 1),
    ("backtick fence", "```\n@bot help\n```", 0),
    ("backtick fence with info", "```python title\n@bot help\n```\n", 0),
    ("tilde fence", "~~~\n@bot help\n~~~", 0),
    ("longer closing fence", "```\n@bot\n`````\n@bot", 1),
    ("shorter run does not close", "````\n```\n@bot\n````", 0),
    ("tilde does not close backticks", "```\n~~~\n@bot\n```", 0),
    ("unclosed fence runs to end", "text\n```\n@bot help\n\nmore @bot", 0),
    ("after a closed fence", "```\ncode\n```\n@bot help", 1),
    ("indented fence", "   ```\n@bot\n   ```", 0),
    ("indented code after blank", "text\n\n    @bot help", 0),
    ("indented code at start", "    @bot help", 0),
    ("tab-indented code", "\t@bot help", 0),
    ("indented continuation is prose", "text\n    @bot help", 1),
    ("indented code ends at prose", "    code\n@bot help", 1),
    ("quote", "> @bot help", 0),
    ("nested quote", "> > @bot help", 0),
    ("nested quote tight", ">>@bot", 0),
    ("quote lazy continuation", "> quoted\n@bot help", 0),
    ("quote ended by blank line", "> quoted\n\n@bot help", 1),
    ("quote heading has no lazy line", "> # title\n@bot help", 1),
    ("quote then fence", "> quoted\n```\n@bot\n```\n@bot", 1),
    ("html comment", "<!-- @bot help -->", 0),
    ("html comment multi-line", "<!--\n@bot help\n-->\n@bot", 1),
    ("inline html comment", "text <!-- @bot --> more @bot", 1),
    ("inline comment across lines", "text <!-- a\n@bot\n--> b", 0),
    ("unclosed html comment block", "<!-- never closed\n@bot help", 0),
    ("unclosed inline comment is text", "text <!-- @bot", 1),
    ("text after comment end", "<!-- template -->\n@bot help", 1),
    ("same line after comment", "<!-- x --> @bot help", 1),
    ("comment inside code", "`<!--` @bot `-->`", 1),
    ("code inside comment", "<!-- ` --> @bot `", 1),
    ("crlf", "hello\r\n@bot help\r\n", 1),
    # Links, images and what GitHub autolinks
    ("link text", "[@bot](https://github.com/apps/bot)", 0),
    ("link to the app, then a mention", "[@bot](https://github.com/apps/bot) @bot", 1),
    ("link destination", "[x](https://example.com/@bot)", 0),
    ("link title", '[x](/u "@bot")', 0),
    ("image alt", "![@bot](https://example.com/a.png)", 0),
    ("reference link", "[@bot][r]\n\n[r]: /u", 0),
    ("reference definition", "[r]: https://example.com/@bot", 0),
    ("reference definition title", '[r]: /u "@bot"', 0),
    ("autolink", "<https://example.com/@bot>", 0),
    ("bare URL", "https://github.com/search?q=@bot", 0),
    ("bare www URL", "www.example.com/@bot", 0),
    ("bare URL then mention", "https://example.com @bot", 1),
    ("e-mail autolink", "<me@bot.com>", 0),
    # Raw HTML
    ("pre element", "<pre>\n@bot release major\n</pre>", 0),
    ("code element inline", "run <code>@bot help</code>", 0),
    ("code element across paragraphs", "<code>\n\n@bot help\n\n</code>", 0),
    ("unclosed code element", "a <code>b\n\n@bot help", 0),
    ("a element", '<a href="x">@bot</a>', 0),
    ("self-closing a still opens", "<a/>\n\n@bot", 0),
    ("attribute", '<span title="@bot">x</span>', 0),
    ("attribute of a block", '<div title="@bot">\nx\n</div>', 0),
    ("text in a div", "<div>\n@bot help\n</div>", 1),
    ("text in details", "<details><summary>Log</summary>\n\n@bot help\n\n</details>", 1),
    ("after a closed pre", "<pre>\nlog\n</pre>\n\n@bot help", 1),
    ("script", "<script>\n@bot\n</script>", 0),
    ("blockquote element", "<blockquote>\n@bot help\n</blockquote>", 0),
    ("unclosed comment in a quote", "> <!-- x\n\n@bot help", 0),
    ("unclosed comment in a list", "- <!-- x\n- @bot help", 0),
    ("tag cut off at the end", '<div id="x"\n@bot help', 0),
    ("comment ended by a later tag", "- <!-- a\n\nfoo <!X-->\n\n@bot help", 1),
    ("comment ends at --!>", "<!-- a --!> @bot", 1),
    ("comment swallows the quote's end", "> <!-- a\n\n<div>\n<!-- b -->\n@bot help\n</div>", 0),
    ("comment does not end at -- >", "<!--\n<!--\n> @bot", 0),
    ("end tag that closes nothing joins text", "@bot</pre>@bot", 1),
    ("a new link closes an open one", '<a href="x"><a href="y"></a>@bot', 1),
    ("a span cannot close a pre", '<span title="@bot">\n<pre>\n</span>@bot', 0),
    ("entity before", "&amp;@bot", 1),
    # Quotes, lists, headings, tables
    ("quote in a list item", "- > @bot release major", 0),
    ("quote in a nested list item", "- a\n  - > @bot", 0),
    ("list item", "- @bot label add bug", 1),
    ("list paragraph indented four", "- e\n\n    @bot", 1),
    ("list item after a quote", "> q\n- @bot label add bug", 1),
    ("heading after a quote", "> q\n# @bot help", 1),
    ("heading", "### @bot help", 1),
    ("code under a heading", "### Log\n\n    @bot release major", 0),
    ("code in a nested list", "- a\n  - b\n\n        @bot release major", 0),
    ("fence in a list", "- a\n  ```\n  @bot\n  ```", 0),
    ("table cell", "| a |\n| - |\n| @bot |", 1),
    ("code in a table cell", "| a |\n| - |\n| `@bot` |", 0),
    ("code span does not cross blocks", "`a\n\n@bot`", 1),
    ("code span does not cross a quote", "> `a\n\n@bot b`", 1),
]


@pytest.mark.parametrize(
    ("comment", "count"),
    [case[1:] for case in MENTION_CASES],
    ids=[case[0] for case in MENTION_CASES],
)
def test_find_mentions(comment: str, count: int) -> None:
    mentions = find_mentions(comment, SLUG)
    assert len(mentions) == count
    # The table says what GitHub does: the rendered page agrees with every row.
    assert reference_mentions(comment, SLUG) == count
    for mention in mentions:
        assert comment[mention.start : mention.end].lower() in ("@bot", "@bot[bot]")
        assert mention.line_no == comment.count("\n", 0, mention.start) + 1


def test_find_mentions_offsets_and_lines() -> None:
    comment = "hi\n\n`@bot` then @Bot[bot]: help\n@bot"
    mentions = find_mentions(comment, SLUG)
    assert [(comment[m.start : m.end], m.line_no) for m in mentions] == [
        ("@Bot[bot]", 3),
        ("@bot", 4),
    ]


def test_slug_with_hyphen_and_case() -> None:
    assert len(find_mentions("@My-App help, not @my-app-two", "my-app")) == 1
    assert len(find_mentions("@MY-APP", "My-App")) == 1


def test_slug_must_be_a_login() -> None:
    with pytest.raises(ValueError, match="slug"):
        find_mentions("@x", "not a slug")


def cmd(name: str, *args: str, raw: str, line: int = 1) -> CommandLine:
    return CommandLine(name=name, args=args, raw=raw, line_no=line)


# (id, comment, commands, free text)
PARSE_CASES: list[tuple[str, str, list[CommandLine], str | None]] = [
    ("no mention", "just a comment", [], None),
    ("help", "@bot help", [cmd("help", raw="help")], None),
    ("upper-case command", "@Bot HELP", [cmd("help", raw="HELP")], None),
    ("slash command", "@bot /help", [cmd("help", raw="/help")], None),
    ("colon separator", "@bot: help", [cmd("help", raw="help")], None),
    ("comma separator tight", "@bot,help", [cmd("help", raw="help")], None),
    ("bot suffix", "@bot[bot] help", [cmd("help", raw="help")], None),
    ("leading whitespace", "   @bot help", [cmd("help", raw="help")], None),
    (
        "args keep case",
        "@bot label add Bug needs-review",
        [cmd("label", "add", "Bug", "needs-review", raw="label add Bug needs-review")],
        None,
    ),
    (
        "double-quoted arg",
        '@bot label add "needs review" bug',
        [cmd("label", "add", "needs review", "bug", raw='label add "needs review" bug')],
        None,
    ),
    (
        "single-quoted arg",
        "@bot label add 'needs review'",
        [cmd("label", "add", "needs review", raw="label add 'needs review'")],
        None,
    ),
    (
        "smart quotes",
        "@bot label add “needs review”",
        [cmd("label", "add", "needs review", raw="label add “needs review”")],
        None,
    ),
    (
        "code span arg",
        "@bot label add `needs review`",
        [cmd("label", "add", "needs review", raw="label add `needs review`")],
        None,
    ),
    (
        "comment after command dropped",
        "@bot labels sync <!-- --dry-run -->",
        [cmd("labels", "sync", raw="labels sync")],
        None,
    ),
    (
        "several command lines in order",
        "@bot label add bug\nsome text\n@bot milestone v1\n@bot help",
        [
            cmd("label", "add", "bug", raw="label add bug"),
            cmd("milestone", "v1", raw="milestone v1", line=3),
            cmd("help", raw="help", line=4),
        ],
        None,
    ),
    (
        "mention as an argument",
        "@bot assign @bot",
        [cmd("assign", "@bot", raw="assign @bot")],
        None,
    ),
    (
        "release with flags",
        "@bot release minor --draft",
        [cmd("release", "minor", "--draft", raw="release minor --draft")],
        None,
    ),
    ("alone", "@bot", [], ""),
    ("alone with punctuation", "@bot!", [], ""),
    ("alone with colon", "  @bot:  ", [], ""),
    (
        "mid-sentence is free text",
        "hey @bot can you summarise this?",
        [],
        "hey @bot can you summarise this?",
    ),
    (
        "free text is stripped",
        "\n  thanks, @bot — can you look?  \n",
        [],
        "thanks, @bot — can you look?",
    ),
    ("not a command word", "@bot 42 is the answer", [], "@bot 42 is the answer"),
    ("second mention first", "@bot @someone help", [], "@bot @someone help"),
    (
        "bare mention then prose",
        "@bot\nplease summarise this thread",
        [],
        "@bot\nplease summarise this thread",
    ),
    (
        "commands and free text",
        "@bot label add bug\nand @bot, what do you think?",
        [cmd("label", "add", "bug", raw="label add bug")],
        "and @bot, what do you think?",
    ),
    (
        "commands and a bare mention",
        "@bot\n@bot help",
        [cmd("help", raw="help", line=2)],
        "",
    ),
    ("quoted command ignored", "> @bot release major\n\nthanks", [], None),
    (
        "quoted command, then a real one",
        "> @bot release major\n\n@bot help",
        [cmd("help", raw="help", line=3)],
        None,
    ),
    ("fenced command ignored", "```\n@bot help\n```", [], None),
    ("email only", "mail me@bot.com", [], None),
    ("longer word only", "@bot-two help", [], None),
    ("command after a code span", "`x` @bot help", [], "`x` @bot help"),
    (
        "command after a comment",
        "<!-- template --> @bot help",
        [cmd("help", raw="help")],
        None,
    ),
    # Which line starts with the mention is read from the rendered page.
    ("list item", "- @bot label add bug", [cmd("label", "add", "bug", raw="label add bug")], None),
    (
        "list items in order",
        "1. @bot label add a\n2. @bot milestone v1",
        [
            cmd("label", "add", "a", raw="label add a"),
            cmd("milestone", "v1", raw="milestone v1", line=2),
        ],
        None,
    ),
    ("heading", "## @bot help", [cmd("help", raw="help")], None),
    ("heading markers are not arguments", "## @bot help ##", [cmd("help", raw="help")], None),
    ("HTML block", "<details>\n@bot help\n</details>", [cmd("help", raw="help", line=2)], None),
    ("after an HTML tag", "<b></b>@bot help", [cmd("help", raw="help")], None),
    (
        "HTML tags are not arguments",
        "@bot label add <b>bug</b>",
        [cmd("label", "add", "bug", raw="label add bug")],
        None,
    ),
    ("after a quote ended", "> q\n\n@bot help", [cmd("help", raw="help", line=3)], None),
    ("lazy quote line", "> q\n@bot help", [], None),
    ("quote in a list item", "- > @bot release major", [], None),
    ("list item right after a quote", "> q\n- @bot help", [cmd("help", raw="help", line=2)], None),
    ("table cell is not a line", "| a |\n| - |\n| @bot help |", [], "| a |\n| - |\n| @bot help |"),
    ("after an image", "![i](u) @bot help", [], "![i](u) @bot help"),
    (
        "link in the arguments",
        "@bot label add [x](y)",
        [cmd("label", "add", "[x](y)", raw="label add [x](y)")],
        None,
    ),
    ("soft line break ends the command", "@bot help\nmore text", [cmd("help", raw="help")], None),
]


@pytest.mark.parametrize(
    ("comment", "commands", "free"),
    [case[1:] for case in PARSE_CASES],
    ids=[case[0] for case in PARSE_CASES],
)
def test_parse_commands(comment: str, commands: list[CommandLine], free: str | None) -> None:
    assert parse_commands(comment, SLUG) == (commands, free)


@pytest.mark.parametrize(
    ("comment", "line_no"),
    [
        ('@bot label add "needs review', 1),
        ("hello\n@bot label add 'x", 2),
        ("@bot label add “needs review", 1),
    ],
)
def test_unclosed_quote(comment: str, line_no: int) -> None:
    with pytest.raises(CommandSyntaxError) as caught:
        parse_commands(comment, SLUG)
    assert caught.value.line_no == line_no
    assert str(caught.value).startswith("unclosed quote in: label add ")


def test_unclosed_quote_message_reads_for_a_person() -> None:
    with pytest.raises(CommandSyntaxError, match=r'^unclosed quote in: label add "needs review$'):
        parse_commands('@bot label add "needs review', SLUG)


def test_unclosed_quote_in_prose_is_not_an_error() -> None:
    assert parse_commands('hey @bot, "quote me', SLUG) == ([], 'hey @bot, "quote me')


SPLIT_CASES: list[tuple[str, tuple[str, ...]]] = [
    ("", ()),
    ("   ", ()),
    ("a b  c", ("a", "b", "c")),
    ('"needs review" bug', ("needs review", "bug")),
    ("'needs review'", ("needs review",)),
    ("“needs review”", ("needs review",)),
    ("„needs review“", ("needs review",)),
    ("\u2018needs review\u2019", ("needs review",)),  # phone single quotes
    ("«needs review»", ("needs review",)),
    ('“mixed"', ("mixed",)),
    ("`needs review`", ("needs review",)),
    ('""', ("",)),
    ('"say \\"hi\\""', ('say "hi"',)),
    ('"back\\\\slash"', ("back\\slash",)),
    ("don't-merge", ("don't-merge",)),
    ("don\u2019t", ("don\u2019t",)),  # a phone's apostrophe
    ('"foo"bar baz', ("foobar", "baz")),
    ("needs\\ review", ("needs review",)),
    ('\\"x', ('"x',)),
    ("C:\\path", ("C:\\path",)),
    ("a\tb\nc", ("a", "b", "c")),
]


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_split_args(text: str, expected: tuple[str, ...]) -> None:
    assert split_args(text) == expected


@pytest.mark.parametrize("text", ['"open', "'open", "“open", "`open", 'a "b c', '"esc\\"'])
def test_split_args_unclosed(text: str) -> None:
    with pytest.raises(CommandSyntaxError, match="unclosed quote in: "):
        split_args(text)


def test_read_commands_keeps_going_after_a_broken_line() -> None:
    lines, free = read_commands('@bot label add "oops\n@bot help', SLUG)
    assert [type(line).__name__ for line in lines] == ["BrokenCommandLine", "CommandLine"]
    assert lines[0].line_no == 1 and lines[1].line_no == 2
    assert free is None


@pytest.mark.unreadable_comment
def test_a_comment_markdown_cannot_read_mentions_nobody(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash in the markdown parser means no mention (and a log line), never an error."""
    from ghapp.skills.mention_reply import mentions

    def broken(src: str) -> list[object]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(mentions, "text_runs", broken)
    assert find_mentions("@bot help", SLUG) == []
    assert parse_commands("@bot help", SLUG) == ([], None)
    assert "could not read a comment's markdown" in caplog.text


def test_deep_nesting_does_not_crash() -> None:
    for comment in (
        "> " * 5000 + "@bot",
        "- " * 5000 + "@bot",
        "[" * 5000 + "@bot",
        "<a>" * 5000 + "@bot",
    ):
        find_mentions(comment, SLUG)  # any answer, but an answer


def test_a_comment_ending_in_an_html_block_inside_a_list_item_keeps_its_commands() -> None:
    # markdown-it-py raised IndexError on this ending (no final line break); the comment was
    # then read as naming nobody, and the command before it was silently dropped.
    comment = "@bot label add x\n\n<span\n>- <!--<span\n>"
    commands, free = read_commands(comment, "bot")
    assert [c.name for c in commands] == ["label"] and free is None
    assert [c.args for c in commands] == [("add", "x")]
