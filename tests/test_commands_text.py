"""Table tests for ghapp.commands_text: which mentions count, command lines, args."""

from __future__ import annotations

import pytest

from ghapp.commands_text import (
    CommandLine,
    CommandSyntaxError,
    find_mentions,
    parse_commands,
    split_args,
    visible_text,
)

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
    ("unicode letter before", "é@bot", 0),
    ("unicode letter after", "@boté", 0),
    ("email", "write to me@bot.com", 0),
    ("domain", "see @bot.com", 0),
    ("path", "https://example.com/@bot", 0),
    ("double at", "@@bot", 0),
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
]


@pytest.mark.parametrize(
    ("comment", "count"),
    [case[1:] for case in MENTION_CASES],
    ids=[case[0] for case in MENTION_CASES],
)
def test_find_mentions(comment: str, count: int) -> None:
    mentions = find_mentions(comment, SLUG)
    assert len(mentions) == count
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


def test_visible_text_keeps_length_and_newlines() -> None:
    comment = "a `b`\n```\ncode\n```\n> q\n<!-- c -->\ntail"
    visible = visible_text(comment)
    assert len(visible) == len(comment)
    assert visible.count("\n") == comment.count("\n")
    assert visible.split("\n") == ["a    ", "   ", "    ", "   ", "   ", "          ", "tail"]


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
