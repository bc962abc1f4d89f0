"""ghapp.testing's SkillTestApp judges outcomes: an undeclared failure fails the test.

The skills here make no GitHub request of their own; the cassettes hold only what the bus
reads for every delivery (token, /app, the config file). What is checked is what the test
app lets pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ghapp import Context, Skill
from ghapp.ingress import new_delivery
from ghapp.queue.inline import InlineQueue
from ghapp.testing import RecordingTransport, SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issues_event

deferring = Skill("deferring", "defers a task that fails")


@deferring.on("issues.opened")
async def defer(ctx: Context) -> None:
    await ctx.defer("explode", {"number": ctx.issue_number}, key=str(ctx.issue_number))


@deferring.task("explode")
async def explode(ctx: Context) -> None:
    raise RuntimeError(f"task broke on #{ctx.args['number']}")


failing = Skill("failing", "fails on every issue")


@failing.on("issues.opened")
async def fail(ctx: Context) -> None:
    raise ValueError("handler broke")


def test_app(tmp_path: Path, fake: FakeGitHub, *skills: Skill) -> SkillTestApp:
    return SkillTestApp(tmp_path, github_app=fake.app, skills=list(skills))


test_app.__test__ = False  # type: ignore[attr-defined]


@pytest.mark.vcr
async def test_an_undeclared_skill_error_fails_at_dispatch(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    async with test_app(tmp_path, fake_github, failing) as app:
        with pytest.raises(AssertionError) as caught:
            await app.dispatch("issues", issues_event("opened", number=3), delivery_id="d-3")
    message = str(caught.value)
    assert "unexpected failures" in message
    assert "delivery d-3: failing: ValueError: handler broke" in message


@pytest.mark.vcr
async def test_a_failing_deferred_task_fails_the_test_though_the_delivery_is_done(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    async with test_app(tmp_path, fake_github, deferring) as app:
        with pytest.raises(AssertionError) as caught:
            await app.dispatch("issues", issues_event("opened", number=4))
        [failure] = await app.failures()
    assert (failure.kind, failure.ident, failure.skill) == (
        "task",
        "deferring:explode:4",
        "deferring",
    )
    assert "RuntimeError: task broke on #4" in failure.detail
    assert "task deferring:explode:4: deferring: skill failed: RuntimeError" in str(caught.value)


@pytest.mark.vcr
async def test_a_declared_failure_passes_and_is_still_listed(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    async with test_app(tmp_path, fake_github, deferring, failing) as app:
        app.expect_failure("failing", match="^ValueError: handler broke$")
        app.expect_failure("deferring", match="task broke on #5")
        delivery = await app.dispatch("issues", issues_event("opened", number=5))
        assert {r.skill: r.outcome for r in delivery.runs} == {
            "deferring": "ok",
            "failing": "error",
        }
        assert sorted(f.kind for f in await app.failures()) == ["delivery", "task"]


@pytest.mark.vcr
async def test_an_expectation_that_never_matched_fails_at_the_end(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    with pytest.raises(AssertionError, match=r"expected a failure \(skill=failing .*none happened"):
        async with test_app(tmp_path, fake_github, failing) as app:
            app.expect_failure("failing", match="something else entirely")
            app.expect_failure("failing", match="handler broke")
            await app.dispatch("issues", issues_event("opened", number=6))
    with pytest.raises(ValueError, match="say which failure"):
        app.expect_failure()


@pytest.mark.vcr
async def test_a_failure_inside_a_failing_test_is_added_as_a_note(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    payload = issues_event("opened", number=7)
    with pytest.raises(KeyError) as caught:
        async with test_app(tmp_path, fake_github, failing) as app:
            # Processed behind the test app's back (not through dispatch, which would check).
            await app.runtime.deliveries.record(new_delivery("d-7", "issues", b"{}", payload))
            await app.runtime.queue.enqueue_delivery("d-7", None)
            assert isinstance(app.runtime.queue, InlineQueue)
            await app.runtime.queue.drain()
            raise KeyError("the test's own failure")
    assert caught.value.args == ("the test's own failure",)
    assert any("also failed meanwhile: delivery d-7: failing" in n for n in caught.value.__notes__)


class RefusingTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/comments"):
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"ok": True})


async def test_requests_are_written_down_before_they_are_sent_and_refusals_kept() -> None:
    recorder = RecordingTransport(RefusingTransport())
    async with httpx.AsyncClient(transport=recorder, base_url="https://api.github.com") as http:
        await http.get("/repos/o/r")
        with pytest.raises(httpx.ConnectError):
            await http.post("/repos/o/r/issues/1/comments", json={"body": "hi"})
        await http.post("/app/installations/1/access_tokens")  # tokens are left out
    entries: list[Any] = recorder.entries
    assert [(e.method, e.path, e.status, e.error) for e in entries] == [
        ("GET", "/repos/o/r", 200, None),
        ("POST", "/repos/o/r/issues/1/comments", None, "ConnectError: refused"),
    ]
    assert entries[1].body == {"body": "hi"}
