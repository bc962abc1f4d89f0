"""The built-in agent (PRODUCT.md §5.1, issue 18): free text answered by a model through
a local OpenAI-compatible fake, commands run as tools, failures polite.

GitHub's traffic replays from cassettes; the model's is real HTTP to `FakeOpenAI` on
127.0.0.1 (a random port, so not recorded), which records what the model was shown.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ghapp import Context, Skill, UsageError
from ghapp.bus import load_skills
from ghapp.github import GitHubUnavailable
from ghapp.skills import mention_reply
from ghapp.skills.mention_reply.agent import APOLOGIES
from ghapp.testing import WEBHOOK_SECRET, SkillTestApp, outcomes, test_key_pair
from tests.support.fake_github import FakeGitHub
from tests.support.fake_openai import UNKNOWN, FakeOpenAI, run_fake_openai
from tests.support.payloads import issue_comment_created

REPO = "octo-org/hello"
BOT = "ghapp-test"
API_KEY = "sk-test-agent-key-0123456789abcdef"
MODEL = "fake-model-1"
vcr = pytest.mark.vcr(ignore_localhost=True)

toolbox = Skill("toolbox", "Commands for the agent's tests.")
SHIPPED: list[str] = []


@toolbox.command("ship", usage="ship VERSION", description="Ships a version.", example="ship 1.0")
async def ship(ctx: Context[Any], args: tuple[str, ...]) -> str:
    if len(args) != 1:
        raise UsageError("ship takes one version")
    SHIPPED.append(args[0])
    return f"Shipped {args[0]}."


@toolbox.command(
    "echo", usage="echo WORD…", description="Repeats.", example="echo a b", permission="read"
)
async def echo(ctx: Context[Any], args: tuple[str, ...]) -> str:
    return " ".join(f"[{a}]" for a in args)


FLAKY: list[str] = []


@toolbox.command(
    "flaky", usage="flaky", description="GitHub fails once.", example="flaky", permission="read"
)
async def flaky(ctx: Context[Any], args: tuple[str, ...]) -> str:
    FLAKY.append("tried")
    if len(FLAKY) == 1:
        raise GitHubUnavailable("GitHub answered 502")
    return "Worked this time."


@pytest.fixture
def model() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with run_fake_openai(fake) as url:
        yield fake, url


def agent_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "RESPONDER": "agent",
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": API_KEY,
        "AGENT_MODEL": MODEL,
        "AGENT_TIMEOUT": "60",  # the default; a loaded CI machine is slow to answer
        **extra,
    }


@pytest.fixture
async def app(
    tmp_path: Path, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> AsyncIterator[SkillTestApp]:
    skills = [mention_reply.skill, load_skills()["hello"], toolbox]
    env = agent_env(model[1])
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills, env=env) as app:
        yield app


def mention(
    fake: FakeGitHub, number: int, text: str, comment_id: int, login: str = "octocat"
) -> dict[str, Any]:
    """A comment that exists in the fake under a fixed id (cassettes need stable paths)."""
    repo = fake.repo(REPO)
    comment = repo.comments.pop(fake.add_comment(REPO, number, text, user=login))
    comment.id = comment_id
    repo.comments[comment_id] = comment
    payload = issue_comment_created(text, login=login, issue_number=number, comment_id=comment_id)
    issue = repo.issues[number]
    payload["issue"].update(title=issue.title, body=issue.body)
    payload["issue"]["comments"] = len(
        [c for c in repo.comments.values() if c.issue_number == number]
    )
    return payload


def replies(app: SkillTestApp) -> list[str]:
    return [
        str(r.body["body"])  # type: ignore[index]
        for r in app.writes()
        if r.method == "POST" and r.path.endswith("/comments")
    ]


def answer_of(body: str) -> str:
    return body.split("\n\n<!-- ghapp:reply-to:")[0]


def metric(app: SkillTestApp, line: str) -> float:
    for row in app.runtime.metrics.render().decode().splitlines():
        if row.startswith(line + " "):
            return float(row.rsplit(" ", 1)[1])
    return 0.0


# ------------------------------------------------------------------------------ answers


@vcr
async def test_a_question_is_answered_with_the_thread_and_no_secret(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    fake.say("Das Exportieren schlägt fehl, weil die Datei zu groß ist.")
    issue = fake_github.add_issue(REPO, "Export fails", body="Exporting a 2 GB file stops.")
    fake_github.add_comment(REPO, issue.number, "Same here with 3 GB.", user="mona")
    payload = mention(fake_github, issue.number, f"@{BOT} warum schlägt der Export fehl?", 7101)
    payload["repository"]["description"] = "Tools for saying hello"
    delivery = await app.dispatch("issue_comment", payload)

    assert outcomes(delivery)["mention-reply"] == "ok"
    writes = [(r.method, r.path.rsplit("/", 1)[-1]) for r in app.writes()]
    assert writes == [("POST", "reactions"), ("POST", "comments")]  # 👀 first
    assert [answer_of(b) for b in replies(app)] == [
        "Das Exportieren schlägt fehl, weil die Datei zu groß ist."
    ]

    (request,) = fake.requests
    assert request.body["model"] == MODEL
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    system, user = request.body["messages"]
    assert system["role"] == "system"
    assert f"@{BOT}" in system["content"] and REPO in system["content"]
    assert "language the person wrote in" in system["content"]
    assert "say so plainly" in system["content"]
    for shown in (
        "Export fails",
        "Exporting a 2 GB file stops.",
        "**@mona** wrote:\nSame here with 3 GB.",
        f"@{BOT} warum schlägt der Export fehl?",
        "Description: Tools for saying hello",
        f"Repository: {REPO}",
    ):
        assert shown in user["content"], shown
    assert user["content"].count("warum schlägt") == 1  # the mention, not twice
    tools = {t["function"]["name"]: t["function"] for t in request.body["tools"]}
    assert set(tools) == {"ship", "echo", "flaky", "hello"}
    assert tools["ship"]["parameters"]["required"] == ["arguments"]
    assert "ship VERSION" in tools["ship"]["description"]
    assert "write access or higher" in tools["ship"]["description"]

    # Nothing secret reaches the model: not in the body, in any form.
    tokens = {
        r.headers["authorization"].split()[-1] for r in app.requests if "authorization" in r.headers
    }
    private_key, _ = test_key_pair()
    sent = json.dumps(request.body)
    for secret in [API_KEY, WEBHOOK_SECRET, *tokens, private_key.splitlines()[1]]:
        assert secret not in sent
    assert "PRIVATE KEY" not in sent

    assert metric(app, 'ghapp_agent_calls_total{outcome="ok"}') == 1
    assert metric(app, 'ghapp_agent_tokens_total{kind="prompt"}') > 0
    assert metric(app, 'ghapp_agent_tokens_total{kind="completion"}') == 7


@vcr
async def test_one_answer_per_comment_across_redeliveries(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    fake.say("Once.")
    issue = fake_github.add_issue(REPO, "Twice?")
    payload = mention(fake_github, issue.number, f"@{BOT} how often do you answer?", 7102)
    await app.dispatch("issue_comment", payload, delivery_id="agent-once-1")
    again = await app.dispatch("issue_comment", payload, delivery_id="agent-once-2")
    assert outcomes(again)["mention-reply"] == "ok"
    assert [answer_of(b) for b in replies(app)] == ["Once."]
    assert len(fake.requests) == 1
    assert len([r for r in app.writes() if r.path.endswith("/reactions")]) == 1


# ------------------------------------------------------------------------------ tools


@vcr
async def test_a_tool_call_runs_the_command_for_a_writer(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    SHIPPED.clear()
    fake_github.set_permission(REPO, "mona", "write")
    fake.call(("ship", {"arguments": "2.0"})).say("Done: 2.0 is shipped.")
    issue = fake_github.add_issue(REPO, "Release 2.0")
    payload = mention(fake_github, issue.number, f"@{BOT} please ship 2.0", 7103, login="mona")
    await app.dispatch("issue_comment", payload)

    assert SHIPPED == ["2.0"]
    (body,) = replies(app)
    assert answer_of(body) == (
        f"Done: 2.0 is shipped.\n\n**Commands:**\n\n- Ran `@{BOT} ship 2.0`:\n  Shipped 2.0."
    )
    _, second = fake.requests
    result = second.body["messages"][-1]
    assert result["role"] == "tool"
    assert json.loads(result["content"]) == {"outcome": "ran", "reply": "Shipped 2.0."}
    assert second.body["messages"][-2]["tool_calls"][0]["function"]["name"] == "ship"


@vcr
async def test_a_tool_call_is_refused_for_a_reader(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    SHIPPED.clear()
    fake_github.set_permission(REPO, "mona", "read")
    fake.call(("ship", {"arguments": "2.0"})).say("I could not ship it.")
    issue = fake_github.add_issue(REPO, "Release 2.0")
    payload = mention(fake_github, issue.number, f"@{BOT} please ship 2.0", 7104, login="mona")
    await app.dispatch("issue_comment", payload)

    assert SHIPPED == []
    (body,) = replies(app)
    assert answer_of(body) == (
        "I could not ship it.\n\n**Commands:**\n\n"
        f"- Refused `@{BOT} ship 2.0`:\n  Sorry @mona, `ship` needs write access or higher "
        "on this repository, and you have read access."
    )
    assert json.loads(fake.requests[1].body["messages"][-1]["content"])["outcome"] == "refused"


@vcr
async def test_at_most_five_tool_calls_and_malformed_calls_are_reported(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    calls = [("echo", {"arguments": f"w{n}"}) for n in range(6)]
    fake.call(("echo", "{not json"), ("rm_rf", {"arguments": "/"}), *calls).say("Echoed.")
    issue = fake_github.add_issue(REPO, "Echo")
    payload = mention(fake_github, issue.number, f"@{BOT} please repeat a lot", 7105)
    await app.dispatch("issue_comment", payload)

    body = answer_of(replies(app)[0])
    assert body.startswith("Echoed.\n\n**Commands:**\n\n")
    assert f"- Failed `@{BOT} echo`:\n  The call's arguments were malformed." in body
    assert f"- Failed `@{BOT} rm_rf`:\n  There is no command `rm_rf` here." in body
    for n in range(5):
        assert f"- Ran `@{BOT} echo w{n}`:\n  [w{n}]" in body
    assert f"- Did not run `@{BOT} echo w5`:\n  Not run: at most 5 commands per mention." in body
    assert len(fake.requests) == 2


# ------------------------------------------------------------------------------ failures


@vcr
async def test_an_unavailable_api_gets_an_apology_and_the_app_keeps_serving(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    fake.fail(503, times=3)  # the first try and the client's two retries
    issue = fake_github.add_issue(REPO, "Down")
    first = mention(fake_github, issue.number, f"@{BOT} are you there?", 7106)
    delivery = await app.dispatch("issue_comment", first)
    assert outcomes(delivery)["mention-reply"] == "ok"
    assert len(fake.requests) == 3
    second = mention(fake_github, issue.number, f"@{BOT} and now?", 7107)
    await app.dispatch("issue_comment", second)

    assert [answer_of(b) for b in replies(app)] == [APOLOGIES["api"], UNKNOWN]
    assert all("Traceback" not in b and "503" not in b for b in replies(app))
    assert metric(app, 'ghapp_agent_failures_total{reason="api"}') == 1
    assert metric(app, 'ghapp_agent_calls_total{outcome="error"}') == 1
    assert metric(app, 'ghapp_agent_calls_total{outcome="ok"}') == 1


@vcr
@pytest.mark.parametrize(
    ("mode", "reason"), [("slow", "timeout"), ("refuse", "refusal"), ("garbage", "malformed")]
)
async def test_a_slow_refusing_or_nonsense_api_gets_a_short_apology(
    tmp_path: Path,
    fake_github: FakeGitHub,
    model: tuple[FakeOpenAI, str],
    mode: str,
    reason: str,
) -> None:
    fake, url = model
    {"slow": lambda: fake.slow(4), "refuse": fake.refuse, "garbage": fake.garbage}[mode]()
    skills = [mention_reply.skill, toolbox]
    # Only the slow case waits for the timeout; the others get the default, so that a
    # loaded machine answering a refusal late does not turn it into a timeout.
    env = agent_env(url, AGENT_TIMEOUT="1") if mode == "slow" else agent_env(url)
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills, env=env) as app:
        issue = fake_github.add_issue(REPO, "Hm")
        payload = mention(fake_github, issue.number, f"@{BOT} what is going on?", 7108)
        delivery = await app.dispatch("issue_comment", payload)
        assert outcomes(delivery)["mention-reply"] == "ok"
        assert [answer_of(b) for b in replies(app)] == [APOLOGIES[reason]]
        assert metric(app, f'ghapp_agent_failures_total{{reason="{reason}"}}') == 1


@vcr
async def test_switched_off_agent_leaves_free_text_to_the_help(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    await app.set_switch(1, "", "mention-reply/agent", False)
    issue = fake_github.add_issue(REPO, "Off")
    payload = mention(fake_github, issue.number, f"@{BOT} can you hear me?", 7109)
    await app.dispatch("issue_comment", payload)
    (body,) = replies(app)
    assert body.startswith("I don't know the command `can`.")
    assert fake.requests == []


@vcr
async def test_a_repository_may_choose_no_responder(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    fake_github.set_file(REPO, ".github/ghapp.yml", "mention-reply:\n  responder: none\n")
    issue = fake_github.add_issue(REPO, "None")
    payload = mention(fake_github, issue.number, f"@{BOT} can you hear me?", 7110)
    await app.dispatch("issue_comment", payload)
    assert replies(app)[0].startswith("I don't know the command `can`.")
    assert fake.requests == []


@vcr
async def test_a_github_outage_during_a_command_retries_the_delivery_not_an_apology(
    app: SkillTestApp, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, _ = model
    FLAKY.clear()
    fake.call(("flaky", {"arguments": ""}))  # the first attempt: GitHub fails
    fake.call(("flaky", {"arguments": ""})).say("It worked.")  # the retry
    issue = fake_github.add_issue(REPO, "Flaky")
    payload = mention(fake_github, issue.number, f"@{BOT} try the flaky thing", 7111)
    delivery = await app.dispatch("issue_comment", payload)
    await app.idle()
    assert FLAKY == ["tried", "tried"]
    assert [answer_of(b) for b in replies(app)] == [
        f"It worked.\n\n**Commands:**\n\n- Ran `@{BOT} flaky`:\n  Worked this time."
    ]
    assert delivery.id and len(fake.requests) == 3
    assert metric(app, 'ghapp_agent_failures_total{reason="api"}') == 0


@vcr
async def test_a_repository_may_choose_the_agent_when_the_operator_did_not(
    tmp_path: Path, fake_github: FakeGitHub, model: tuple[FakeOpenAI, str]
) -> None:
    fake, url = model
    fake.say("Chosen by the repository.")
    fake_github.set_file(REPO, ".github/ghapp.yml", "mention-reply:\n  responder: agent\n")
    env = agent_env(url, RESPONDER="none")
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=[mention_reply.skill], env=env
    ) as app:
        issue = fake_github.add_issue(REPO, "Choice")
        payload = mention(fake_github, issue.number, f"@{BOT} who answers here?", 7112)
        await app.dispatch("issue_comment", payload)
        assert [answer_of(b) for b in replies(app)] == ["Chosen by the repository."]
