"""End to end: `ghapp run` with RESPONDER=agent against a fake GitHub and a fake
OpenAI-compatible server, both on loopback — as issue 18 will be judged.

A question is answered with the model's text; a request that maps to a command runs it
for a writer and is refused for a reader; an unavailable API yields an apology and the
App keeps serving; the prompts carry the thread and no secret; the logs hold no key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghapp.skills.mention_reply.agent import APOLOGIES
from ghapp.testing import WEBHOOK_SECRET, test_key_pair
from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.fake_openai import FakeOpenAI, run_fake_openai
from tests.support.ghapp_process import GhappProcess, wait_for
from tests.support.payloads import issue_comment_created

pytestmark = pytest.mark.slow

REPO = "octo-org/hello"
BOT = "ghapp-test"
API_KEY = "sk-e2e-agent-key-abcdef0123456789"


@pytest.fixture
def github_url(fake_github: FakeGitHub) -> Iterator[str]:
    with run_fake_github(fake_github) as url:
        yield url


@pytest.fixture
def model() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with run_fake_openai(fake) as url:
        yield fake, url


def mention(fake: FakeGitHub, number: int, text: str, login: str) -> dict[str, Any]:
    comment_id = fake.add_comment(REPO, number, text, user=login)
    issue = fake.repo(REPO).issues[number]
    payload = issue_comment_created(text, login=login, issue_number=number, comment_id=comment_id)
    payload["issue"].update(title=issue.title, body=issue.body)
    payload["issue"]["comments"] = len(
        [c for c in fake.repo(REPO).comments.values() if c.issue_number == number]
    )
    return payload


def replies(fake: FakeGitHub, number: int) -> list[str]:
    posted = fake.requests_to("POST", rf"/repos/{REPO}/issues/{number}/comments$")
    return [json.loads(r.body)["body"].split("\n\n<!-- ghapp:")[0] for r in posted]


def labels(fake: FakeGitHub, number: int) -> set[str]:
    repo = fake.repo(REPO)
    return {
        label.name for label in repo.labels.values() if label.id in repo.issues[number].label_ids
    }


def test_the_agent_answers_acts_refuses_and_apologises(
    tmp_path: Path,
    fake_github: FakeGitHub,
    github_url: str,
    model: tuple[FakeOpenAI, str],
) -> None:
    fake, base_url = model
    fake_github.add_label(REPO, "bug")
    fake_github.set_permission(REPO, "mona", "write")
    fake_github.set_permission(REPO, "ringo", "read")
    env = {
        "RESPONDER": "agent",
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": API_KEY,
        "AGENT_MODEL": "fake-e2e",
        "AGENT_TIMEOUT": "20",
        "LOG_LEVEL": "debug",
    }
    app = GhappProcess(tmp_path, github_url, **env).start()
    try:
        # 1. A question: answered in the thread with the model's text.
        issue = fake_github.add_issue(REPO, "Export crashes", body="Exporting 2 GB crashes.")
        fake_github.add_comment(REPO, issue.number, "It crashes for me too.", user="ringo")
        fake.say("The export runs out of memory; try a smaller batch.")
        app.send("issue_comment", mention(fake_github, issue.number, f"@{BOT} why?", "mona"))
        wait_for(lambda: len(replies(fake_github, issue.number)) == 1)
        assert replies(fake_github, issue.number) == [
            "The export runs out of memory; try a smaller batch."
        ]
        shown = fake.requests[0].text
        for part in ("Export crashes", "Exporting 2 GB crashes.", "It crashes for me too.", "why?"):
            assert part in shown

        # 2. A writer asks for what a command does: it runs, as if typed.
        fake.call(("label", {"arguments": "add bug"})).say("Labelled it a bug.")
        ask = f"@{BOT} please label this a bug"
        app.send("issue_comment", mention(fake_github, issue.number, ask, "mona"))
        wait_for(lambda: len(replies(fake_github, issue.number)) == 2)
        assert labels(fake_github, issue.number) == {"bug"}
        answer = replies(fake_github, issue.number)[1]
        assert answer.startswith("Labelled it a bug.\n\n**Commands:**\n\n")
        assert f"- Ran `@{BOT} label add bug`:" in answer

        # 3. A reader asks the same on another issue: refused, nothing changes.
        other = fake_github.add_issue(REPO, "Another")
        fake.call(("label", {"arguments": "add bug"})).say("I could not label it.")
        ask = f"@{BOT} could you mark this as a bug?"
        app.send("issue_comment", mention(fake_github, other.number, ask, "ringo"))
        wait_for(lambda: len(replies(fake_github, other.number)) == 1)
        assert labels(fake_github, other.number) == set()
        refused = replies(fake_github, other.number)[0]
        assert f"- Refused `@{BOT} label add bug`:" in refused
        assert "needs write access or higher" in refused

        # 4. The API is down: an apology; the App keeps serving the next mention.
        fake.fail(503, times=3)
        app.send("issue_comment", mention(fake_github, other.number, f"@{BOT} hello?", "mona"))
        wait_for(lambda: len(replies(fake_github, other.number)) == 2)
        fake.say("Back again.")
        app.send("issue_comment", mention(fake_github, other.number, f"@{BOT} now?", "mona"))
        wait_for(lambda: len(replies(fake_github, other.number)) == 3)
        assert replies(fake_github, other.number)[1:] == [APOLOGIES["api"], "Back again."]

        metrics = httpx.get(f"{app.url}/metrics", timeout=10).text
        assert 'ghapp_agent_calls_total{outcome="ok"}' in metrics
        assert 'ghapp_agent_failures_total{reason="api"} 1.0' in metrics
        assert 'ghapp_agent_tokens_total{kind="prompt"}' in metrics
    finally:
        app.stop()

    # No secret in any prompt, nor the key in the logs (debug level included).
    tokens = list(fake_github.installation_tokens)
    private_key, _ = test_key_pair()
    secrets = [API_KEY, WEBHOOK_SECRET, *tokens, private_key.splitlines()[1]]
    for request in fake.requests:
        sent = json.dumps(request.body)
        assert not [s for s in secrets if s in sent]
    assert API_KEY not in app.logs()
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in fake.requests)
