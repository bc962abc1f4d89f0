"""mention-reply end to end: real payloads through ghapp, recorded GitHub traffic.

Each test sets up the fake GitHub as the story needs (it is what the cassette was recorded
against), dispatches real-shaped payloads, and asserts on the requests ghapp made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from ghapp import Command, Context, NoOptions, Skill, UsageError
from ghapp.bus import load_skills
from ghapp.github import JournalEntry
from ghapp.skills import mention_reply
from ghapp.skills.mention_reply import handlers, responders
from ghapp.skills.mention_reply.commands import RoleLookup, run_command
from ghapp.skills.mention_reply.mentions import CommandSyntaxError
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import (
    discussion_comment_created,
    issue_comment_created,
    issues_event,
    pull_request_event,
    pull_request_review_comment_created,
)

REPO = "octo-org/hello"
BOT = "ghapp-test"
API = f"/repos/{REPO}"

# A small skill with commands of each kind, so the tests do not depend on what the
# other built-in skills register.
toolbox = Skill("toolbox", "Commands for tests.")


@toolbox.command(
    "ship", usage="ship VERSION", description="Ships a version.", example="@bot ship 1.0"
)
async def ship(ctx: Context, args: tuple[str, ...]) -> str:
    if len(args) != 1:
        raise UsageError("ship takes one version")
    return f"Shipped {args[0]}."


@toolbox.command(
    "echo", usage="echo WORD…", description="Repeats.", example="echo a b", permission="read"
)
async def echo(ctx: Context, args: tuple[str, ...]) -> str:
    return " ".join(f"[{a}]" for a in args)


@toolbox.command(
    "explode", usage="explode", description="Fails.", example="explode", permission="read"
)
async def explode(ctx: Context, args: tuple[str, ...]) -> str:
    raise ValueError("a bug inside the command, with internals: /srv/secret")


def _skills() -> list[Skill]:
    installed = load_skills()
    return [mention_reply.skill, installed["hello"], toolbox]


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=_skills()) as app:
        yield app


def seed_comment(
    fake: FakeGitHub, number: int, body: str, comment_id: int, user: str = "octocat"
) -> int:
    """A comment in the fake under a fixed id: the fake numbers records from a counter
    shared by the whole test run, and cassettes need the same paths every time."""
    repo = fake.repo(REPO)
    comment = repo.comments.pop(fake.add_comment(REPO, number, body, user=user))
    comment.id = comment_id
    repo.comments[comment_id] = comment
    return comment_id


def commented(
    fake: FakeGitHub,
    body: str,
    *,
    issue_number: int,
    comment_id: int,
    login: str = "octocat",
    user_type: str = "User",
) -> dict[str, Any]:
    """`issue_comment.created` for a comment that also exists in the fake."""
    seed_comment(fake, issue_number, body, comment_id, login)
    return issue_comment_created(
        body, login=login, user_type=user_type, issue_number=issue_number, comment_id=comment_id
    )


def replies(app: SkillTestApp) -> list[JournalEntry]:
    """Comments ghapp posted (issue comments, review replies, discussion comments)."""
    return [
        r
        for r in app.writes()
        if r.path.endswith(("/comments", "/replies"))
        or (r.path == "/graphql" and "addDiscussionComment" in str(r.body))
    ]


def reply_body(entry: JournalEntry) -> str:
    assert isinstance(entry.body, dict)
    if "variables" in entry.body:
        return entry.body["variables"]["b"]
    return entry.body["body"]


def only_reply(app: SkillTestApp) -> str:
    posted = replies(app)
    assert len(posted) == 1, [r.path for r in app.writes()]
    return reply_body(posted[0])


def outcome(delivery: Any) -> str:
    return {r.skill: r.outcome for r in delivery.runs}["mention-reply"]


# ------------------------------------------------------------------------------ each event


@pytest.mark.vcr
async def test_issue_comment_gets_eyes_then_one_reply(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    comment_id = 5001
    payload = commented(
        fake_github,
        f"@{BOT} hello Mona",
        login="mona",
        issue_number=issue.number,
        comment_id=comment_id,
    )
    delivery = await app.dispatch("issue_comment", payload, delivery_id="ic-1")
    assert outcome(delivery) == "ok", delivery.runs
    writes = [(r.method, r.path) for r in app.writes()]
    assert writes == [
        ("POST", f"{API}/issues/comments/{comment_id}/reactions"),
        ("POST", f"{API}/issues/{issue.number}/comments"),
    ]
    assert app.writes()[0].body == {"content": "eyes"}
    assert only_reply(app) == (f"Hello Mona!\n\n<!-- ghapp:reply-to:issue-comment:{comment_id} -->")
    assert app.writes()[1].headers["x-github-delivery"] == "ic-1"


@pytest.mark.vcr
@pytest.mark.parametrize("kind", ["issue", "pull-request"])
async def test_an_opened_issue_or_pull_request_with_a_mention_gets_eyes_and_a_reply(
    app: SkillTestApp, fake_github: FakeGitHub, kind: str
) -> None:
    await app.set_switch(1, REPO, "hello", False)  # it greets every new issue
    text = f"@{BOT} echo a b"
    if kind == "issue":
        number = fake_github.add_issue(REPO, "Question", body=text, user="octocat").number
        delivery = await app.dispatch("issues", issues_event("opened", number=number, body=text))
    else:
        number = fake_github.add_pull(REPO, "Feature", body=text).number
        payload = pull_request_event("opened", number=number, body=text)
        delivery = await app.dispatch("pull_request", payload)
    assert outcome(delivery) == "ok"
    writes = [(r.method, r.path) for r in app.writes()]
    # A pull request is an issue too: the 👀 and the reply go to its conversation.
    assert writes == [
        ("POST", f"{API}/issues/{number}/reactions"),
        ("POST", f"{API}/issues/{number}/comments"),
    ]
    assert only_reply(app).startswith(f"[a] [b]\n\n<!-- ghapp:reply-to:{kind}:")


@pytest.mark.vcr
async def test_review_comment_is_answered_in_its_review_thread(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    pull = fake_github.add_pull(REPO, "Feature")
    repo = fake_github.repo(REPO)
    seeded = fake_github.add_review_comment(REPO, pull.number, f"@{BOT} echo nit", user="mona")
    comment_id = 7001  # a fixed id, as seed_comment does for issue comments
    repo.review_comments[comment_id] = repo.review_comments.pop(seeded)
    repo.review_comments[comment_id].id = comment_id
    payload = pull_request_review_comment_created(
        f"@{BOT} echo nit", login="mona", pr_number=pull.number, comment_id=comment_id
    )
    await app.dispatch("pull_request_review_comment", payload)
    writes = [(r.method, r.path) for r in app.writes()]
    assert writes == [
        ("POST", f"{API}/pulls/comments/{comment_id}/reactions"),
        ("POST", f"{API}/pulls/{pull.number}/comments/{comment_id}/replies"),
    ]
    assert only_reply(app) == f"[nit]\n\n<!-- ghapp:reply-to:review-comment:{comment_id} -->"


@pytest.mark.vcr
async def test_discussion_comment_is_answered_in_the_discussion(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    payload = discussion_comment_created(f"@{BOT} echo hi", login="mona")
    discussion_id = payload["discussion"]["node_id"]
    comment = fake_github.add_discussion_comment(discussion_id, f"@{BOT} echo hi", "mona")
    # The fake's node ids come from a run-wide counter: keep the payload's, for the cassette.
    del fake_github.discussion_comments[comment.node_id]
    comment.node_id = payload["comment"]["node_id"]
    fake_github.discussion_comments[comment.node_id] = comment
    await app.dispatch("discussion_comment", payload)
    bodies = [r.body for r in app.writes()]
    assert [r.path for r in app.writes()] == ["/graphql", "/graphql"]
    assert "addReaction" in str(bodies[0])
    assert bodies[0]["variables"] == {"s": comment.node_id, "c": "EYES"}  # type: ignore[index]
    assert bodies[1]["variables"]["d"] == discussion_id  # type: ignore[index]
    assert bodies[1]["variables"]["r"] == comment.node_id  # type: ignore[index]
    assert only_reply(app) == "[hi]\n\n<!-- ghapp:reply-to:discussion-comment:6001 -->"


# ------------------------------------------------------------------------------ never loops


@pytest.mark.vcr
async def test_bots_and_the_app_itself_never_trigger(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    for n, (login, user_type) in enumerate(
        [("dependabot[bot]", "Bot"), (f"{BOT}[bot]", "Bot"), (BOT, "User")]
    ):
        payload = commented(
            fake_github,
            f"@{BOT} help",
            login=login,
            user_type=user_type,
            issue_number=issue.number,
            comment_id=900 + n,
        )
        delivery = await app.dispatch("issue_comment", payload)
        assert outcome(delivery) == "ok"
    assert app.writes() == []
    # The same words from a person are answered: the bots were ignored for being bots.
    person = commented(fake_github, f"@{BOT} help", issue_number=issue.number, comment_id=903)
    await app.dispatch("issue_comment", person)
    assert only_reply(app).startswith("| Command |")


@pytest.mark.vcr
async def test_comment_without_a_visible_mention_is_ignored(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    for n, body in enumerate(
        [
            "no mention here",
            f"> @{BOT} help",
            f"`@{BOT} help`",
            f"```\n@{BOT} help\n```",
            f"mail me at me@{BOT}.com",
            f"@{BOT}-two help",
        ]
    ):
        payload = commented(fake_github, body, issue_number=issue.number, comment_id=950 + n)
        delivery = await app.dispatch("issue_comment", payload)
        assert outcome(delivery) == "ok"
    assert app.writes() == []
    # A visible mention in the same thread is answered: the others were not seen as one.
    visible = commented(fake_github, f"@{BOT} echo seen", issue_number=issue.number, comment_id=960)
    await app.dispatch("issue_comment", visible)
    assert only_reply(app).startswith("[seen]")


async def test_edited_comment_never_reruns_commands(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    payload = commented(fake_github, f"@{BOT} ship 2.0", issue_number=issue.number, comment_id=60)
    payload["action"] = "edited"
    payload["changes"] = {"body": {"from": f"@{BOT} ship 1.0"}}
    delivery = await app.dispatch("issue_comment", payload)
    # Done, and no skill ran at all: nobody listens to `issue_comment.edited`.
    assert (delivery.status, delivery.runs) == ("done", [])
    assert app.requests == []


# ------------------------------------------------------------------------------ once only


@pytest.mark.vcr
async def test_one_reply_per_comment_across_redeliveries(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    payload = commented(fake_github, f"@{BOT} echo once", issue_number=issue.number, comment_id=71)
    await app.dispatch("issue_comment", payload, delivery_id="once-1")
    again = await app.dispatch("issue_comment", payload, delivery_id="once-1")  # same id
    assert again.status == "done"
    redelivered = await app.dispatch("issue_comment", payload, delivery_id="once-2")  # new id
    assert outcome(redelivered) == "ok"
    assert len(replies(app)) == 1
    assert len([r for r in app.writes() if r.path.endswith("/reactions")]) == 1


@pytest.mark.vcr
async def test_retry_after_a_crash_finds_the_reply_already_posted(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    payload = commented(fake_github, f"@{BOT} echo x", issue_number=issue.number, comment_id=72)
    # An earlier attempt began the effect and posted, then crashed before finishing it.
    key = f"mention-reply:{REPO}:reply:issue-comment:72"
    assert await app.runtime.effects.begin(key, "crashed") == "new"
    fake_github.add_comment(REPO, issue.number, "someone else", user="mona")
    fake_github.add_comment(
        REPO,
        issue.number,
        "[x]\n\n<!-- ghapp:reply-to:issue-comment:72 -->",
        user=f"{BOT}[bot]",
    )
    delivery = await app.dispatch("issue_comment", payload, delivery_id="retry-1")
    assert outcome(delivery) == "ok"
    assert replies(app) == []
    listed = [r for r in app.requests if r.path == f"{API}/issues/{issue.number}/comments"]
    assert listed and listed[0].method == "GET"
    assert "since=2019-05-15T15%3A20%3A21Z" in listed[0].query
    # Finished now: a further redelivery does not even look.
    again = await app.dispatch("issue_comment", payload, delivery_id="retry-2")
    assert outcome(again) == "ok"
    assert len([r for r in app.requests if r.path.endswith("/comments")]) == 1


@pytest.mark.vcr
async def test_retry_after_a_crash_replies_when_no_reply_was_posted(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Broken")
    payload = commented(fake_github, f"@{BOT} echo x", issue_number=issue.number, comment_id=73)
    await app.runtime.effects.begin(f"mention-reply:{REPO}:reply:issue-comment:73", "crashed")
    # A reply to another comment does not count.
    fake_github.add_comment(
        REPO, issue.number, "<!-- ghapp:reply-to:issue-comment:7 -->", user=f"{BOT}[bot]"
    )
    await app.dispatch("issue_comment", payload)
    assert only_reply(app) == "[x]\n\n<!-- ghapp:reply-to:issue-comment:73 -->"


def discussion_mention(fake: FakeGitHub, body: str) -> tuple[dict[str, Any], str]:
    """`discussion_comment.created` for a comment that exists in the fake (same node id)."""
    payload = discussion_comment_created(body, login="mona")
    discussion_id = payload["discussion"]["node_id"]
    comment = fake.add_discussion_comment(discussion_id, body, "mona")
    del fake.discussion_comments[comment.node_id]
    comment.node_id = payload["comment"]["node_id"]
    fake.discussion_comments[comment.node_id] = comment
    return payload, discussion_id


@pytest.mark.vcr
async def test_retry_in_a_discussion_finds_the_reply_through_graphql(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    payload, discussion_id = discussion_mention(fake_github, f"@{BOT} echo hi")
    await app.runtime.effects.begin(f"mention-reply:{REPO}:reply:discussion-comment:6001", "x")
    fake_github.add_discussion_comment(
        discussion_id,
        "[hi]\n\n<!-- ghapp:reply-to:discussion-comment:6001 -->",
        f"{BOT}[bot]",
        reply_to_id=payload["comment"]["node_id"],
    )
    delivery = await app.dispatch("discussion_comment", payload)
    assert outcome(delivery) == "ok"
    assert replies(app) == []
    mutations = [r for r in app.writes() if "mutation" in str(r.body)]
    assert ["addReaction" in str(r.body) for r in mutations] == [True]
    queried = [r for r in app.requests if r.path == "/graphql" and "node(id:" in str(r.body)]
    assert [r.body["variables"] for r in queried] == [{"id": discussion_id}]  # type: ignore[index]


# ------------------------------------------------------------------------------ commands


@pytest.mark.vcr
async def test_read_user_is_refused_a_write_command_politely(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_permission(REPO, "mona", "read")
    issue = fake_github.add_issue(REPO, "Release")
    payload = commented(
        fake_github,
        f"@{BOT} ship 1.0\n@{BOT} echo still-runs",
        login="mona",
        issue_number=issue.number,
        comment_id=81,
    )
    await app.dispatch("issue_comment", payload)
    body = only_reply(app)
    assert "Shipped" not in body
    assert (
        "Sorry @mona, `ship` needs write access or higher on this repository, "
        "and you have read access." in body
    )
    assert "[still-runs]" in body
    checks = [r for r in app.requests if "/collaborators/" in r.path]
    assert [r.path for r in checks] == [f"{API}/collaborators/mona/permission"]


@pytest.mark.vcr
async def test_write_user_runs_a_write_command(app: SkillTestApp, fake_github: FakeGitHub) -> None:
    fake_github.set_permission(REPO, "mona", "maintain")
    issue = fake_github.add_issue(REPO, "Release")
    payload = commented(
        fake_github, f"@{BOT} ship 1.0", login="mona", issue_number=issue.number, comment_id=82
    )
    await app.dispatch("issue_comment", payload)
    assert only_reply(app).startswith("Shipped 1.0.\n\n")


@pytest.mark.vcr
async def test_a_real_command_obeys_its_skills_command_permission_option(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    # label-sync's `label` needs write by default; this repository lowers it to triage.
    fake_github.set_file(REPO, ".github/ghapp.yml", "label-sync:\n  command-permission: triage\n")
    fake_github.set_permission(REPO, "mona", "read")
    fake_github.set_permission(REPO, "trish", "triage")
    fake_github.add_label(REPO, "bug")
    issue = fake_github.add_issue(REPO, "Broken")
    skills = [mention_reply.skill, load_skills()["label-sync"]]
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills) as app:
        for n, login in enumerate(["mona", "trish"]):
            payload = commented(
                fake_github,
                f"@{BOT} label add bug",
                issue_number=issue.number,
                comment_id=120 + n,
                login=login,
            )
            await app.dispatch("issue_comment", payload)
        refused, done = [reply_body(r) for r in replies(app)]
        labelled = [r for r in app.writes() if r.path == f"{API}/issues/{issue.number}/labels"]
    assert refused.startswith(
        "Sorry @mona, `label` needs triage access or higher on this repository, "
        "and you have read access."
    )
    assert "bug" in done and "Sorry" not in done
    assert len(labelled) == 1 and labelled[0].headers["x-github-delivery"]
    assert "labels" in str(labelled[0].body) and "bug" in str(labelled[0].body)


@pytest.mark.vcr
async def test_help_lists_only_enabled_skills_commands(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    await app.set_switch(1, REPO, "hello", False)
    issue = fake_github.add_issue(REPO, "Help")
    payload = commented(fake_github, f"@{BOT} help", issue_number=issue.number, comment_id=83)
    await app.dispatch("issue_comment", payload)
    body = only_reply(app)
    assert "| Command | What it does | Who may use it | Example |" in body
    assert f"`@{BOT} ship VERSION`" in body
    assert "write access or higher" in body
    assert f"`@{BOT} ship 1.0`" in body  # the example, with the real slug
    assert f"`@{BOT} echo WORD…`" in body and "anyone" in body
    assert "hello" not in body.split("<!--")[0]


@pytest.mark.vcr
async def test_unknown_command_gets_a_short_reply_and_the_help(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Typo")
    payload = commented(fake_github, f"@{BOT} shipp 1.0", issue_number=issue.number, comment_id=84)
    await app.dispatch("issue_comment", payload)
    body = only_reply(app)
    assert body.startswith(
        f"I don't know the command `shipp`. Did you mean `@{BOT} ship`?\n\n| Command |"
    )
    assert f"`@{BOT} hello [NAME]`" in body


@pytest.mark.vcr
async def test_several_commands_one_combined_reply_in_order(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Many")
    text = "\n".join(
        [
            "Some context first.",
            f'@{BOT} echo "needs review" “smart quotes” plain',
            f"@{BOT} explode",
            f"@{BOT} hello Mona",
            f"@{BOT} ship",
            f'@{BOT} echo "unclosed',
        ]
    )
    payload = commented(fake_github, text, issue_number=issue.number, comment_id=85)
    fake_github.set_permission(REPO, "octocat", "write")
    delivery = await app.dispatch("issue_comment", payload)
    assert outcome(delivery) == "ok"
    body = only_reply(app)
    sections = body.split("\n\n**`")
    assert (
        sections[0]
        == '**`echo "needs review" “smart quotes” plain`**\n\n[needs review] [smart quotes] [plain]'
    )
    assert sections[1] == (
        "explode`**\n\nSorry, `explode` did not work this time. "
        "The error was logged for the App's maintainers."
    )
    assert sections[2] == "hello Mona`**\n\nHello Mona!"
    assert sections[3] == f"ship`**\n\nship takes one version\n\nUsage: `@{BOT} ship VERSION`"
    assert sections[4].startswith('echo "unclosed`**\n\nunclosed quote in: echo "unclosed')
    assert f"Usage: `@{BOT} echo WORD…`" in sections[4]
    assert "/srv/secret" not in body and "Traceback" not in body
    assert len(app.writes()) == 2  # one reaction, one reply


# ------------------------------------------------------------------------------ options


@pytest.mark.vcr
async def test_options_reaction_off_header_footer_and_events(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(
        REPO,
        ".github/ghapp.yml",
        "mention-reply:\n"
        "  reaction: false\n"
        "  reply-header: 'Hi from the bot.'\n"
        "  reply_footer: '_Automated._'\n"
        "  events: [issue_comment.created]\n",
    )
    await app.set_switch(1, REPO, "hello", False)  # it greets every new issue
    issue = fake_github.add_issue(REPO, "Opts", body=f"@{BOT} echo ignored")
    opened = issues_event("opened", number=issue.number, body=f"@{BOT} echo x")
    delivery = await app.dispatch("issues", opened)
    assert outcomes(delivery) == {"mention-reply": "ok", "hello": "skipped: switched off"}
    assert app.writes() == []  # issues are not listened to here
    payload = commented(fake_github, f"@{BOT} echo y", issue_number=issue.number, comment_id=86)
    await app.dispatch("issue_comment", payload)
    assert [r.path for r in app.writes()] == [f"{API}/issues/{issue.number}/comments"]
    assert only_reply(app) == (
        "Hi from the bot.\n\n[y]\n\n_Automated._\n\n<!-- ghapp:reply-to:issue-comment:86 -->"
    )


@pytest.mark.vcr
async def test_dry_run_sends_no_write(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    issue = fake_github.add_issue(REPO, "Dry")
    payload = commented(fake_github, f"@{BOT} echo x", issue_number=issue.number, comment_id=87)
    caplog.set_level("INFO", logger="ghapp")
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=_skills(), env={"DRY_RUN": "1"}
    ) as app:
        delivery = await app.dispatch("issue_comment", payload)
        assert outcome(delivery) == "ok"
        assert app.writes() == []
        assert app.requests  # it did read (the App, the config), just wrote nothing
        # What it decided is logged instead: the 👀 and the reply, neither sent.
        not_sent = [r.body for r in caplog.records if r.getMessage() == "dry run: not sent"]  # type: ignore[attr-defined]
        assert not_sent == [
            f'POST {API}/issues/comments/87/reactions {{"content": "eyes"}}',
            f"POST {API}/issues/{issue.number}/comments "
            + '{"body": "[x]\\n\\n<!-- ghapp:reply-to:issue-comment:87 -->"}',
        ]
        # Nothing was recorded as done either: a later real run would still answer.
        key = f"mention-reply:{REPO}:reply:issue-comment:87"
        assert await app.runtime.effects.begin(key, None) == "new"


# ------------------------------------------------------------------------------ responders

ASKED: list[dict[str, Any]] = []


async def summarise(thread: dict[str, Any]) -> str:
    """A responder registered as an entry point in the tests."""
    ASKED.append(thread)
    return f"**Summary** of #{thread['issue']['number']}: {thread['text']}"


async def broken_responder(thread: dict[str, Any]) -> str:
    raise RuntimeError("the model is on fire")


def _register(monkeypatch: pytest.MonkeyPatch, **names: str) -> None:
    eps = {
        name: EntryPoint(name=name, value=f"{__name__}:{value}", group=responders.GROUP)
        for name, value in names.items()
    }

    def lookup(*, group: str, name: str) -> list[EntryPoint]:
        assert group == responders.GROUP
        return [eps[name]] if name in eps else []

    monkeypatch.setattr(responders, "entry_points", lookup)


@pytest.mark.vcr
async def test_free_text_goes_to_an_entry_point_responder(
    app: SkillTestApp, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, summariser="summarise")
    ASKED.clear()
    fake_github.set_file(REPO, ".github/ghapp.yml", "mention-reply:\n  responder: summariser\n")
    issue = fake_github.add_issue(REPO, "Long thread", body="It is broken.")
    for n in range(12):
        fake_github.add_comment(REPO, issue.number, f"comment {n}", user="mona")
    payload = commented(
        fake_github, f"@{BOT} can you summarise this?", issue_number=issue.number, comment_id=91
    )
    payload["issue"]["comments"] = 13
    payload["issue"]["title"] = "Long thread"
    await app.dispatch("issue_comment", payload)
    assert only_reply(app) == (
        f"**Summary** of #{issue.number}: can you summarise this?\n\n"
        "<!-- ghapp:reply-to:issue-comment:91 -->"
    )
    (thread,) = ASKED
    assert thread["repository"] == REPO
    assert thread["issue"]["number"] == issue.number
    assert thread["issue"]["title"] == "Long thread"
    assert thread["comment"] == {"author": "octocat", "body": f"@{BOT} can you summarise this?"}
    assert [c["body"] for c in thread["thread"]] == [f"comment {n}" for n in range(2, 12)]
    assert thread["thread"][0]["author"] == "mona"


@pytest.mark.vcr
async def test_discussion_question_reaches_the_responder_with_its_thread(
    app: SkillTestApp, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, summariser="summarise")
    ASKED.clear()
    fake_github.set_file(REPO, ".github/ghapp.yml", "mention-reply:\n  responder: summariser\n")
    payload, discussion_id = discussion_mention(fake_github, f"@{BOT} what did we decide?")
    fake_github.add_discussion_comment(
        discussion_id, "We decided on Tuesday.", "hubot", reply_to_id=payload["comment"]["node_id"]
    )
    await app.dispatch("discussion_comment", payload)
    (thread,) = ASKED
    assert thread["issue"]["number"] == payload["discussion"]["number"]
    assert thread["thread"] == [
        {"author": "mona", "body": f"@{BOT} what did we decide?"},
        {"author": "hubot", "body": "We decided on Tuesday."},
    ]
    assert only_reply(app).startswith("**Summary** of #1: what did we decide?")


@pytest.mark.vcr
async def test_review_comment_question_gets_its_review_thread(
    app: SkillTestApp, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, summariser="summarise")
    ASKED.clear()
    fake_github.set_file(REPO, ".github/ghapp.yml", "mention-reply:\n  responder: summariser\n")
    pull = fake_github.add_pull(REPO, "Feature")
    repo = fake_github.repo(REPO)
    question = f"@{BOT} is hubot right?"
    # Fixed ids, in creation order as GitHub's are (the fake's come from a run-wide counter).
    for comment_id, body, user in [
        (7000, "Another thread", "octocat"),
        (7001, "Why a loop here?", "hubot"),
        (7002, question, "mona"),
    ]:
        seeded = repo.review_comments.pop(
            fake_github.add_review_comment(REPO, pull.number, body, user=user)
        )
        seeded.id = comment_id
        seeded.in_reply_to_id = 7001 if comment_id == 7002 else None
        repo.review_comments[comment_id] = seeded
    payload = pull_request_review_comment_created(
        question, login="mona", pr_number=pull.number, comment_id=7002
    )
    payload["comment"]["in_reply_to_id"] = 7001
    await app.dispatch("pull_request_review_comment", payload)
    (thread,) = ASKED
    assert [c["body"] for c in thread["thread"]] == ["Why a loop here?", question]
    assert only_reply(app).startswith("**Summary** of #1: is hubot right?")


@pytest.mark.vcr
async def test_failing_or_missing_entry_point_responder_gets_an_apology(
    app: SkillTestApp, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, broken="broken_responder")
    issue = fake_github.add_issue(REPO, "Q")
    fake_github.set_file(REPO, ".github/ghapp.yml", "mention-reply:\n  responder: broken\n")
    payload = commented(fake_github, f"@{BOT} why?", issue_number=issue.number, comment_id=92)
    await app.dispatch("issue_comment", payload)
    assert only_reply(app).startswith(handlers.RESPONDER_APOLOGY + "\n\n<!--")
    assert "on fire" not in only_reply(app)


@pytest.mark.vcr
async def test_free_text_without_a_responder_gets_the_help(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    issue = fake_github.add_issue(REPO, "Q")
    payload = commented(
        fake_github,
        f"Hey @{BOT}, can you summarise this?",
        issue_number=issue.number,
        comment_id=93,
    )
    await app.dispatch("issue_comment", payload)
    body = only_reply(app)
    assert body.startswith(handlers.NO_RESPONDER + "\n\n| Command |")
    assert "I don't know the command" not in body


async def test_a_command_raising_the_parsers_syntax_error_gets_its_usage(
    app: SkillTestApp,
) -> None:
    # The parser's error for a line that does not parse is a UsageError like any other,
    # so a command that raises it is answered with its usage, not an apology.
    async def unparsable(ctx: Context, args: tuple[str, ...]) -> str:
        raise CommandSyntaxError('unclosed quote in: "a b')

    command = Command(
        "quote", 'quote "TEXT"', "Quotes.", 'quote "a"', "read", unparsable, "toolbox"
    ).available(NoOptions(), unparsable)
    ctx = await app.context("issue_comment", issue_comment_created(f"@{BOT} quote"))
    answer = await run_command(ctx, command, ('"a',), login="mona", roles=RoleLookup(ctx))
    assert answer == f'unclosed quote in: "a b\n\nUsage: `@{BOT} quote "TEXT"`'
