"""Mention parsing (`ghapp/skills/mention_reply/mentions.py`): the cases mutation testing
found unchecked (docs/testing.md, "Mutation testing").

Command lines whose arguments run over a line break, the free text around them, the fields
of a broken command line, the log lines of what is skipped, and backslashes in arguments.
"""

from __future__ import annotations

import logging

import pytest

from ghapp.skills.mention_reply import mentions
from ghapp.skills.mention_reply.mentions import (
    BrokenCommandLine,
    CommandLine,
    find_mentions,
    read_commands,
    split_args,
)
from ghapp.skills.mention_reply.prose import TextRun
from tests.support.rendered_mentions import reference_mentions

SLUG = "bot"


def test_another_login_before_the_mention_does_not_hide_it() -> None:
    comment = "@someone and @bot"
    assert [(m.start, m.end) for m in find_mentions(comment, SLUG)] == [(13, 17)]


@pytest.mark.unreadable_comment
def test_a_parser_crash_is_logged_with_its_cause(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(src: str) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(mentions, "text_runs", broken)
    with caplog.at_level(logging.WARNING, logger="ghapp.mentions"):
        assert find_mentions("@bot help", SLUG) == []
    assert caplog.messages == [
        "could not read a comment's markdown (RuntimeError('boom')); acting on no mention in it"
    ]


def test_a_mention_without_a_clear_place_is_skipped_and_the_next_one_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = TextRun.source
    calls: list[int] = []

    def first_unclear(self: TextRun, start: int, end: int) -> tuple[int, int] | None:
        calls.append(start)
        return None if len(calls) == 1 else real(self, start, end)

    monkeypatch.setattr(TextRun, "source", first_unclear)
    with caplog.at_level(logging.WARNING, logger="ghapp.mentions"):
        found = find_mentions("hi @bot and @bot", SLUG)
    assert [(m.start, m.end) for m in found] == [(12, 16)]
    assert caplog.messages == ["a mention's place in its comment is unclear; not acting on it"]


def test_a_broken_command_line_keeps_its_word_line_and_message() -> None:
    lines, free = read_commands('@bot Label add "x', SLUG)
    assert lines == [
        BrokenCommandLine(1, "label", 'Label add "x', 'unclosed quote in: Label add "x')
    ]
    assert free is None


def test_commands_go_on_after_one_naming_the_app_as_an_argument() -> None:
    lines, free = read_commands("@bot assign @bot\n@bot help", SLUG)
    assert lines == [
        CommandLine("assign", ("@bot",), "assign @bot", 1),
        CommandLine("help", (), "help", 2),
    ]
    assert free is None


@pytest.mark.parametrize("lead", ["", "\n"])
def test_a_command_running_over_a_line_break_takes_both_lines(lead: str) -> None:
    # A code span may hold a line break; the command's arguments run to its end.
    lines, free = read_commands(f"{lead}@bot label add `needs\nreview`\n\nthanks @bot", SLUG)
    assert [(line.name, line.args) for line in lines] == [("label", ("add", "needs\nreview"))]
    assert free == "thanks @bot"


def test_free_text_keeps_the_lines_before_a_command() -> None:
    lines, free = read_commands("thanks @bot\n@bot help", SLUG)
    assert [line.name for line in lines] == ["help"]
    assert free == "thanks @bot"


def test_mentions_alone_after_a_list_marker_say_nothing() -> None:
    assert read_commands("- @bot @bot", SLUG) == ([], "")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"\\\\"', ("\\",)),  # inside quotes, an escaped backslash
        ('"a\\\\"', ("a\\",)),  # ... right before the closing quote
        ('"a\\b"', ("a\\b",)),  # a backslash before an ordinary letter stays
        ("a\\\\", ("a\\",)),  # outside quotes too
        ("\\\\", ("\\",)),
        ("\\a", ("\\a",)),
        ("a\\", ("a\\",)),  # a backslash at the very end stays
        ('a\\"', ('a"',)),  # an escaped quote at the end
    ],
)
def test_backslashes_in_arguments(text: str, words: tuple[str, ...]) -> None:
    assert split_args(text) == words


def test_a_backslash_ending_an_unclosed_quote_is_still_unclosed() -> None:
    with pytest.raises(mentions.CommandSyntaxError, match="unclosed quote"):
        split_args('"abc\\')


# The quick check before parsing (`_may_name`) must let through every comment that can
# render a mention: the App's name split by a tag, or written with references only.
@pytest.mark.parametrize(
    ("comment", "span"),
    [
        ("<div>\n@b</span>ot\n</div>", (6, 17)),
        ("@&#98;ot help", (0, 8)),
        ("&#64;&#98;ot help", (0, 12)),
    ],
)
def test_a_mention_whose_name_is_not_written_as_such_is_read(
    comment: str, span: tuple[int, int]
) -> None:
    found = find_mentions(comment, SLUG)
    assert len(found) == reference_mentions(comment, SLUG)
    assert [(m.start, m.end) for m in found] == [span]
