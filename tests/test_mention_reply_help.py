"""Table tests for mention-reply's help: the table, who may use what, unknown commands."""

from __future__ import annotations

from ghapp.skills.mention_reply.commands import HelpEntry, format_help, format_unknown

HELP = [
    HelpEntry(
        name="release",
        usage="release VERSION|major|minor|patch [--draft]",
        description="Publishes a release.",
        permission="maintain",
        example="release minor",
        skill="release-publish",
    ),
    HelpEntry(
        name="label",
        usage="label remove NAME…",
        description="Removes labels.",
        permission="triage",
        example="label remove bug",
        skill="label-sync",
    ),
    HelpEntry(
        name="label",
        usage="label add NAME…",
        description="Adds labels.",
        permission="write",
        example='label add "needs review"',
        skill="label-sync",
    ),
    HelpEntry(
        name="help",
        usage="help",
        description="Lists the commands.",
        permission="anyone",
        example="",
        skill="mention-reply",
    ),
]


def test_format_help_table() -> None:
    assert format_help(HELP, slug="bot").split("\n") == [
        "| Command | What it does | Who may use it | Example |",
        "| --- | --- | --- | --- |",
        "| `@bot help` | Lists the commands. _(mention-reply)_ | anyone |  |",
        "| `@bot label add NAME…` | Adds labels. _(label-sync)_ | write access or higher"
        ' | `@bot label add "needs review"` |',
        "| `@bot label remove NAME…` | Removes labels. _(label-sync)_ | triage access or higher"
        " | `@bot label remove bug` |",
        "| `@bot release VERSION\\|major\\|minor\\|patch [--draft]` | Publishes a release."
        " _(release-publish)_ | maintain access or higher | `@bot release minor` |",
    ]


def test_format_help_without_slug_and_awkward_text() -> None:
    entry = HelpEntry("x", "x `a`", "two\nlines", "admin", "x", "")
    rows = format_help([entry]).split("\n")
    assert rows[2] == "| `` x `a` `` | two lines | admin access | `x` |"


def test_format_help_empty() -> None:
    assert format_help([]) == "No commands are enabled in this repository."


def test_format_unknown_suggests_closest() -> None:
    reply = format_unknown("lable", HELP, slug="bot")
    first, rest = reply.split("\n\n", 1)
    assert first == "I don't know the command `lable`. Did you mean `@bot label`?"
    assert rest == format_help(HELP, slug="bot")


def test_format_unknown_without_match() -> None:
    reply = format_unknown("zzz", HELP)
    assert reply.startswith("I don't know the command `zzz`.\n\n| Command")


def test_format_unknown_is_safe_with_odd_names() -> None:
    reply = format_unknown("`" + "x" * 100, [])
    first = reply.split("\n\n")[0]
    assert "\n" not in first
    assert first.endswith("… ``.")
