"""End to end: `ghapp run` under uvicorn on loopback against a fake GitHub on loopback that
verifies the App's JWT and issues installation tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_github import FakeGitHub, Fault, run_fake_github
from tests.support.ghapp_process import GhappProcess, wait_for
from tests.support.payloads import issues_event

pytestmark = pytest.mark.slow


@pytest.fixture
def github_url(fake_github: FakeGitHub) -> Iterator[str]:
    with run_fake_github(fake_github) as url:
        yield url


def comments(fake: FakeGitHub, number: int) -> list[object]:
    return fake.requests_to("POST", rf"/repos/octo-org/hello/issues/{number}/comments$")


def test_end_to_end(tmp_path: Path, fake_github: FakeGitHub, github_url: str) -> None:
    app = GhappProcess(tmp_path, github_url).start()
    try:
        assert app.send("ping", {"zen": "Design for failure.", "hook_id": 1}).status_code == 200

        # A bad signature is refused before anything else: GitHub hears nothing.
        issue = fake_github.add_issue("octo-org/hello", "First", user="mona")
        payload = issues_event("opened", number=issue.number, login="mona")
        assert app.send("issues", payload, secret="wrong").status_code == 401
        assert fake_github.requests == []

        # The example skill answers; the same delivery id twice is handled once.
        assert app.send("issues", payload, delivery_id="e2e-1").status_code == 202
        assert app.send("issues", payload, delivery_id="e2e-1").status_code == 200
        wait_for(lambda: len(comments(fake_github, issue.number)) == 1)

        # 20 deliveries for one installation: one token request in all.
        numbers = [fake_github.add_issue("octo-org/hello", f"I{n}").number for n in range(20)]
        for number in numbers:
            assert app.send("issues", issues_event("opened", number=number)).status_code == 202
        wait_for(lambda: all(len(comments(fake_github, n)) == 1 for n in numbers))
        assert fake_github.tokens_issued == {1: 1}
        assert len(comments(fake_github, issue.number)) == 1
        assert fake_github.unrouted_requests() == []
    finally:
        # SIGTERM: graceful (uvicorn re-raises the signal once it has shut down).
        assert app.stop() in (0, -15)
    assert "work in flight finished" in app.logs()


def test_a_crash_mid_delivery_loses_nothing_and_acts_once(
    tmp_path: Path, fake_github: FakeGitHub, github_url: str
) -> None:
    issue = fake_github.add_issue("octo-org/hello", "Crash", user="mona")
    # The skill's comment hangs long enough for the process to die mid-request.
    fake_github.faults.append(
        Fault("POST", rf"/issues/{issue.number}/comments$", 502, delay=30.0, times=1)
    )
    app = GhappProcess(tmp_path, github_url).start()
    assert app.send("issues", issues_event("opened", number=issue.number)).status_code == 202
    wait_for(lambda: len(comments(fake_github, issue.number)) == 1)
    app.kill()

    restarted = GhappProcess(tmp_path, github_url)
    restarted.port, restarted.url = app.port, app.url
    restarted.env["PORT"] = str(app.port)
    restarted.start()
    try:
        wait_for(lambda: len(comments(fake_github, issue.number)) == 2)
        created = [r for r in comments(fake_github, issue.number) if r.status == 201]
        wait_for(
            lambda: len([r for r in comments(fake_github, issue.number) if r.status == 201]) == 1
        )
        assert len(created) <= 1
    finally:
        restarted.stop()
    assert len([r for r in comments(fake_github, issue.number) if r.status == 201]) == 1
