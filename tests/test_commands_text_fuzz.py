"""Property tests for ghapp.commands_text: arbitrary comments never break the parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ghapp.commands_text import (
    CommandSyntaxError,
    find_mentions,
    parse_commands,
    split_args,
    visible_text,
)

SLUG = "bot"

# Markdown-ish pieces make interesting comments far likelier than random characters.
PIECES = st.sampled_from(
    [
        "@bot",
        "@BOT",
        "@bot[bot]",
        "@bot-two",
        "me@bot.com",
        "@bot:",
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "    ",
        "`",
        "``",
        "```",
        "~~~",
        ">",
        "> ",
        "<!--",
        "-->",
        '"',
        "'",
        "“",
        "”",
        "\\",
        "/",
        "help",
        "label add",
        "é",
        "\u017f",  # long s: case-folds to "s"
        "\u212a",  # Kelvin sign: lower-cases to "k"
        "#",
    ]
)
COMMENTS = st.one_of(
    st.text(),
    st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=40).map("".join),
)


@settings(max_examples=400)
@given(COMMENTS)
def test_never_raises_but_syntax_errors(comment: str) -> None:
    visible = visible_text(comment)
    assert len(visible) == len(comment)
    assert [i for i, c in enumerate(visible) if c == "\n"] == [
        i for i, c in enumerate(comment) if c == "\n"
    ]

    mentions = find_mentions(comment, SLUG)
    for mention in mentions:
        spelled = comment[mention.start : mention.end].lower()
        assert spelled in ("@bot", "@bot[bot]")
        assert comment[mention.start : mention.start + 4].lower() == "@bot"
        assert mention.line_no == comment.count("\n", 0, mention.start) + 1
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)

    try:
        commands, free = parse_commands(comment, SLUG)
    except CommandSyntaxError:
        return
    if not mentions:
        assert (commands, free) == ([], None)
    for command in commands:
        assert command.name == command.name.lower()
        assert command.line_no in {m.line_no for m in mentions}
    if free is not None:
        assert free == free.strip()


@given(st.text())
def test_split_args_never_raises_but_syntax_errors(text: str) -> None:
    try:
        args = split_args(text)
    except CommandSyntaxError:
        return
    assert all(isinstance(arg, str) for arg in args)
