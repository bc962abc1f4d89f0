"""Table tests for mention-reply's pure side: triggers, plans, replies, options, answers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ghapp import Command, NoOptions
from ghapp.skills.mention_reply.commands import (
    help_entries,
    needed_role,
    refusal,
    syntax_reply,
)
from ghapp.skills.mention_reply.mentions import CommandLine
from ghapp.skills.mention_reply.options import MentionReplyOptions
from ghapp.skills.mention_reply.plan import (
    MAX_COMMENT_CHARS,
    AskResponder,
    BadLine,
    BadSyntax,
    RunCommand,
    ShowHelp,
    Step,
    Unknown,
    compose_reply,
    plan_reply,
    read_comment,
    reply_marker,
    trigger_of,
)
from ghapp.skills.mention_reply.responders import ResponderError, markdown_from
from tests.support.payloads import (
    discussion_comment_created,
    issue_comment_created,
    issues_event,
    pull_request_event,
    pull_request_review_comment_created,
)

SLUG = "bot"
KNOWN = {"label", "hello", "release"}


def cmd(name: str, *args: str, line_no: int = 1, raw: str | None = None) -> CommandLine:
    return CommandLine(name, args, raw if raw is not None else " ".join((name, *args)), line_no)


# ------------------------------------------------------------------------------ reading

READ_CASES: list[tuple[str, str, list[Any], str | None]] = [
    ("no mention", "just a comment", [], None),
    ("bare mention", "@bot", [], ""),
    ("one command", "@bot label add bug", [cmd("label", "add", "bug")], None),
    (
        "quoted argument",
        '@bot label add "needs review"',
        [cmd("label", "add", "needs review", raw='label add "needs review"')],
        None,
    ),
    (
        "bad quote spoils only its line",
        '@bot label add "oops\n@bot hello',
        [BadLine(1, "label", 'label add "oops', 'unclosed quote in: label add "oops'), None],
        None,
    ),
    ("free text", "hey @bot what is up?", [], "hey @bot what is up?"),
    ("quoted mention is nothing", "> @bot release major", [], None),
]


@pytest.mark.parametrize(
    ("markdown", "lines", "free"),
    [pytest.param(m, lines, f, id=name) for name, m, lines, f in READ_CASES],
)
def test_read_comment(markdown: str, lines: list[Any], free: str | None) -> None:
    found, free_text = read_comment(markdown, SLUG)
    if None in lines:  # the bad-quote case: the second line is still read
        assert found[0] == lines[0]
        assert found[1] == cmd("hello", line_no=2)
    else:
        assert found == lines
    assert free_text == free


# ------------------------------------------------------------------------------ planning

bad = BadLine(1, "label", 'label add "x', "unclosed quote")
bad_unknown = BadLine(1, "what's", "what's 'up", "unclosed quote")

PLAN_CASES: list[tuple[str, list[Any], str | None, bool, list[Step]]] = [
    ("not addressed", [], None, False, []),
    ("bare mention shows help", [], "", False, [ShowHelp(unasked=True)]),
    ("bare mention with responder shows help", [], "", True, [ShowHelp(unasked=True)]),
    ("free text without responder", [], "summarise?", False, [ShowHelp(unasked=True)]),
    ("free text with responder", [], "summarise?", True, [AskResponder("summarise?")]),
    ("help command", [cmd("help")], None, False, [ShowHelp()]),
    ("help twice shows it once", [cmd("help"), cmd("help", line_no=2)], None, False, [ShowHelp()]),
    (
        "known command",
        [cmd("label", "add", "bug")],
        None,
        False,
        [RunCommand(cmd("label", "add", "bug"))],
    ),
    ("unknown command", [cmd("frobnicate")], None, False, [Unknown("frobnicate")]),
    (
        "unknown first word goes to the responder",
        [cmd("can", "you", "summarise", "this?")],
        None,
        True,
        [AskResponder("can you summarise this?")],
    ),
    (
        "commands in order, question last",
        [cmd("label", "add", "x"), cmd("can", "you", line_no=2), cmd("hello", line_no=3)],
        None,
        True,
        [
            RunCommand(cmd("label", "add", "x")),
            RunCommand(cmd("hello", line_no=3)),
            AskResponder("can you"),
        ],
    ),
    (
        "command lines plus loose text: one question",
        [cmd("hello")],
        "thanks, and what changed?",
        True,
        [RunCommand(cmd("hello")), AskResponder("thanks, and what changed?")],
    ),
    (
        "command plus loose text without responder: no extra help",
        [cmd("hello")],
        "thanks",
        False,
        [RunCommand(cmd("hello"))],
    ),
    ("bad syntax of a known command", [bad], None, False, [BadSyntax(bad)]),
    (
        "bad syntax of an unknown word, no responder",
        [bad_unknown],
        None,
        False,
        [Unknown("what's")],
    ),
    (
        "bad syntax of an unknown word goes to the responder",
        [bad_unknown],
        None,
        True,
        [AskResponder("what's 'up")],
    ),
]


@pytest.mark.parametrize(
    ("lines", "free", "responder", "expected"),
    [pytest.param(ls, f, r, e, id=name) for name, ls, f, r, e in PLAN_CASES],
)
def test_plan_reply(
    lines: list[Any], free: str | None, responder: bool, expected: list[Step]
) -> None:
    assert plan_reply(lines, free, KNOWN, has_responder=responder) == expected


# ------------------------------------------------------------------------------ replying


def test_one_section_is_the_answer_with_header_footer_and_marker() -> None:
    body = compose_reply(
        [("hello", "Hello Mona!")], header="Hi.", footer="_bot_", marker=reply_marker("issue", 7)
    )
    assert body == "Hi.\n\nHello Mona!\n\n_bot_\n\n<!-- ghapp:reply-to:issue:7 -->"


def test_several_sections_are_titled_by_their_command_in_order() -> None:
    body = compose_reply(
        [("label add `x`", "Added."), ("hello", "Hello!"), (None, "An answer.")],
        header="",
        footer="",
        marker="<!-- m -->",
    )
    assert body == (
        "**`label add 'x'`**\n\nAdded.\n\n**`hello`**\n\nHello!\n\nAn answer.\n\n<!-- m -->"
    )


def test_a_reply_never_exceeds_githubs_comment_limit() -> None:
    body = compose_reply(
        [(None, "x" * 70_000)], header="head", footer="foot", marker=reply_marker("issue", 1)
    )
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.startswith("head\n\nxxx")
    assert body.endswith(
        "longer than a comment may be)_\n\nfoot\n\n<!-- ghapp:reply-to:issue:1 -->"
    )


# ------------------------------------------------------------------------------ triggers

TRIGGER_CASES = [
    (
        "issue_comment",
        issue_comment_created("@bot hi", comment_id=11, login="mona"),
        "issue-comment",
        11,
    ),
    (
        "pull_request_review_comment",
        pull_request_review_comment_created("@bot hi", comment_id=12, login="mona"),
        "review-comment",
        12,
    ),
    (
        "discussion_comment",
        discussion_comment_created("@bot hi", comment_id=13, login="mona"),
        "discussion-comment",
        13,
    ),
    ("issues", issues_event("opened", body="@bot hi", login="mona"), "issue", None),
    (
        "pull_request",
        pull_request_event("opened", body="@bot hi", login="mona"),
        "pull-request",
        None,
    ),
]


@pytest.mark.parametrize(
    ("event", "payload", "kind", "ident"), TRIGGER_CASES, ids=[c[0] for c in TRIGGER_CASES]
)
def test_trigger_of_each_event(
    event: str, payload: dict[str, Any], kind: str, ident: int | None
) -> None:
    trigger = trigger_of(event, payload)
    assert trigger is not None
    assert trigger.kind == kind
    obj = payload.get("comment") or payload.get("issue") or payload["pull_request"]
    assert trigger.id == (ident if ident is not None else obj["id"])
    assert trigger.text == "@bot hi"
    assert trigger.author == "mona"
    assert trigger.effect_key == f"reply:{kind}:{trigger.id}"


def test_no_trigger_without_the_object() -> None:
    assert trigger_of("push", {"ref": "x"}) is None
    assert trigger_of("issue_comment", {"comment": None}) is None


# ------------------------------------------------------------------------------ options

GOOD_RESPONDERS = [
    "https://ai.example.org/answer",
    "http://127.0.0.1:8080/x",
    "http://localhost/x",
    "http://[::1]:9/x",
    "summariser",
    "my_pkg.answer-v2",
]
BAD_RESPONDERS = [
    "http://ai.example.org/answer",
    "http://10.0.0.1/x",
    "ftp://example.org/x",
    "https:///nohost",
    "not a name",
]


@pytest.mark.parametrize("value", GOOD_RESPONDERS)
def test_responder_accepted(value: str) -> None:
    assert MentionReplyOptions.model_validate({"responder": value}).responder == value


@pytest.mark.parametrize("value", BAD_RESPONDERS)
def test_responder_rejected_with_a_reason(value: str) -> None:
    with pytest.raises(ValidationError, match="responder"):
        MentionReplyOptions.model_validate({"responder": value})


def test_options_defaults_and_event_names() -> None:
    defaults = MentionReplyOptions()
    assert defaults.reaction is True
    assert defaults.responder is None
    assert defaults.responder_timeout == 10.0
    assert len(defaults.events) == 5
    chosen = MentionReplyOptions.model_validate({"events": ["issue_comment.created", "issues"]})
    assert chosen.events == ("issue_comment", "issues")
    with pytest.raises(ValidationError):
        MentionReplyOptions.model_validate({"events": ["push"]})
    with pytest.raises(ValidationError):
        MentionReplyOptions.model_validate({"reaction": True, "colour": "red"})


# ------------------------------------------------------------------------------ answers

MARKDOWN_CASES = [
    ("text/markdown", b"**hi**", "**hi**"),
    ("text/markdown; charset=utf-8", "h\u00e9".encode(), "h\u00e9"),
    ("text/plain", b"plain", "plain"),
    ("application/json", b'{"markdown": "from json"}', "from json"),
    ("application/vnd.answer+json", b'{"markdown": "x"}', "x"),
]
BAD_ANSWERS = [
    ("application/json", b'{"text": "no markdown key"}'),
    ("application/json", b"not json"),
    ("application/json", b'["markdown"]'),
    ("image/png", b"\x89PNG"),
    ("", b"what type?"),
    ("text/markdown", b"\xff\xfe"),
]


@pytest.mark.parametrize(("content_type", "body", "expected"), MARKDOWN_CASES)
def test_markdown_from_answer(content_type: str, body: bytes, expected: str) -> None:
    assert markdown_from(content_type, body) == expected


@pytest.mark.parametrize(("content_type", "body"), BAD_ANSWERS)
def test_unusable_answer_is_a_responder_error(content_type: str, body: bytes) -> None:
    with pytest.raises(ResponderError):
        markdown_from(content_type, body)


# ------------------------------------------------------------------------------ commands


@pytest.mark.parametrize(
    ("permission", "role"),
    [
        ("read", "read"),
        ("anyone", "read"),
        ("", "read"),
        ("triage", "triage"),
        ("Write", "write"),
        ("maintain", "maintain"),
        ("admin", "admin"),
        ("custom-role", "write"),
    ],
)
def test_needed_role(permission: str, role: str) -> None:
    assert needed_role(permission) == role


def test_refusal_names_the_role_needed_and_the_role_held() -> None:
    assert refusal("mona", "ship", "write", "read") == (
        "Sorry @mona, `ship` needs write access or higher on this repository, "
        "and you have read access."
    )
    assert "not a collaborator" in refusal("mona", "ship", "admin", None)
    assert "admin access" in refusal("mona", "ship", "admin", "none")


def test_syntax_reply_shows_usage_with_the_slug() -> None:
    assert syntax_reply("unclosed quote.", "label add NAME…", "bot") == (
        "unclosed quote\n\nUsage: `@bot label add NAME…`"
    )


def test_help_entries_use_resolved_permission_and_strip_example_mention() -> None:
    async def run(ctx: Any, args: tuple[str, ...]) -> str:
        return ""

    command = Command("ship", "ship V", "Ships.", "@bot ship 1.0", "write", run, "toolbox")
    entries = help_entries([command.available(NoOptions(), run)])
    assert entries[0].example == "ship 1.0"
    assert entries[0].permission == "write"
    assert entries[0].skill == "toolbox"
