"""The bus: isolation of failing skills, shape-tolerant payloads, switches, options from
.github/ghapp.yml (with _extends and last-good fallback), retries that skip finished skills."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from ghapp import Context, Skill
from ghapp.failures import read_reason
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub, Fault, shapes
from tests.support.payloads import issues_event, push_event

seen: list[dict[str, Any]] = []


class GreeterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    greeting: str = "hi"
    exclude_labels: list[str] = []


greeter = Skill("greeter", "records what it saw", options=GreeterOptions)
broken = Skill("broken", "always fails")


@greeter.on("issues.opened")
async def record(ctx: Context) -> None:
    seen.append(
        {
            "model": ctx.model,
            "options": ctx.options,
            "configured": ctx.configured,
            "number": ctx.issue_number,
        }
    )


@broken.on("issues")
async def explode(ctx: Context) -> None:
    raise ValueError("kaput")


@pytest.fixture(autouse=True)
def _clear() -> None:
    seen.clear()


def app(tmp_path: Path, fake: FakeGitHub, *skills: Skill) -> SkillTestApp:
    return SkillTestApp(tmp_path, github_app=fake.app, skills=list(skills))


@pytest.mark.vcr
async def test_a_failing_skill_is_isolated_and_recorded(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    async with app(tmp_path, fake_github, broken, greeter) as test_app:
        test_app.expect_failure("broken", match="^ValueError: kaput$")
        delivery = await test_app.dispatch("issues", issues_event("opened", number=5))
        runs = {r.skill: r for r in delivery.runs}
        assert runs["greeter"].outcome == "ok"
        assert runs["broken"].outcome == "error"
        assert "kaput" in (runs["broken"].detail or "")
        assert delivery.status == "failed"
        metrics = test_app.runtime.metrics.render().decode()
        assert 'ghapp_skill_runs_total{outcome="error",skill="broken"} 1.0' in metrics
        # A later delivery is not stopped by the earlier failure.
        again = await test_app.dispatch("issues", issues_event("opened", number=6))
        assert {r.skill: r.outcome for r in again.runs}["greeter"] == "ok"
    assert [s["number"] for s in seen] == [5, 6]


@pytest.mark.vcr
async def test_payload_older_than_githubkit_models_is_still_delivered(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    payload = issues_event("opened", number=5)
    payload["issue"].pop("user")  # a shape githubkit's model rejects
    async with app(tmp_path, fake_github, greeter) as test_app:
        delivery = await test_app.dispatch("issues", payload)
    assert delivery.status == "done"
    assert seen[0]["model"] is None


@pytest.mark.vcr
async def test_switches_decide_per_repository(tmp_path: Path, fake_github: FakeGitHub) -> None:
    async with app(tmp_path, fake_github, greeter) as test_app:
        await test_app.set_switch(1, "", "greeter", False)
        off = await test_app.dispatch("issues", issues_event("opened", number=1))
        await test_app.set_switch(1, "octo-org/hello", "greeter", True)
        on = await test_app.dispatch("issues", issues_event("opened", number=2))
        audit = await test_app.runtime.switches.audit(1)
    assert [(r.outcome, r.detail) for r in off.runs] == [("skipped", "switched off")]
    assert [r.outcome for r in on.runs] == ["ok"]
    assert [(c.repository, c.before, c.after) for c in reversed(audit)] == [
        ("", "inherit", "off"),
        ("octo-org/hello", "inherit", "on"),
    ]


@pytest.mark.vcr
async def test_options_come_from_the_repo_file_with_extends(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("octo-org/.github", installation_id=1)
    fake_github.set_file(
        "octo-org/.github",
        ".github/ghapp.yml",
        "greeter:\n  greeting: hello\n  exclude-labels: [wip]\n",
    )
    fake_github.set_file(
        "octo-org/hello", ".github/ghapp.yml", "_extends: .github\ngreeter:\n  greeting: hey\n"
    )
    async with app(tmp_path, fake_github, greeter) as test_app:
        await test_app.dispatch("issues", issues_event("opened", number=1))
        await test_app.dispatch("issues", issues_event("opened", number=2))
        fetches = [r for r in test_app.requests if r.path.endswith("/contents/.github/ghapp.yml")]
    options = seen[0]["options"]
    assert (options.greeting, options.exclude_labels) == ("hey", ["wip"])
    assert seen[0]["configured"] is True
    # The second delivery reads nothing: both files are fresh in the cache for minutes
    # (tests/test_repo_config_cache.py shows the revalidation with the ETag after that).
    assert [r.status for r in fetches] == [200, 200]


@pytest.mark.vcr
async def test_invalid_section_skips_the_skill_and_push_reports_it(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.set_file("octo-org/hello", ".github/ghapp.yml", "greeter:\n  greting: typo\n")
    async with app(tmp_path, fake_github, greeter) as test_app:
        delivery = await test_app.dispatch("issues", issues_event("opened", number=1))
        # A named sha: the recorded check run carries it.
        head = fake_github.add_commit("octo-org/hello", "change config", sha="c0ffee" * 6 + "c0ff")
        push = push_event("refs/heads/main", files_changed=[".github/ghapp.yml"])
        push["after"] = head
        push["repository"]["default_branch"] = "main"
        await test_app.dispatch("push", push)
        checks = [w for w in test_app.writes() if w.path.endswith("/check-runs")]
    [run] = delivery.runs
    reason = read_reason(run.detail)
    assert run.outcome == "skipped" and reason is not None
    # The cause, not only the log: which option, why, and where to fix it.
    assert reason.summary == "invalid .github/ghapp.yml section"
    assert reason.problems == ("greeter.greting: Extra inputs are not permitted (line 2)",)
    assert reason.next_step == "Fix line 2 of .github/ghapp.yml; the next event uses it."
    assert reason.link_for("https://github.com", None) == (
        "https://github.com/octo-org/hello/blob/HEAD/.github/ghapp.yml#L2"
    )
    assert seen == []
    assert len(checks) == 1
    body = checks[0].body
    assert body["conclusion"] == "failure" and body["head_sha"] == head
    # The same reason, linking the line on the default branch that was read.
    assert body["output"]["summary"] == (
        "- greeter.greting: Extra inputs are not permitted (line 2)\n\n"
        "**Next:** Fix line 2 of .github/ghapp.yml; the next event uses it. "
        "[Open line 2 of .github/ghapp.yml]"
        "(https://github.com/octo-org/hello/blob/main/.github/ghapp.yml#L2)"
    )


@pytest.mark.vcr
async def test_github_outage_is_retried_and_finished_skills_do_not_rerun(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    calls: list[int] = []
    flaky = Skill("flaky", "reads an issue")

    @flaky.on("issues.opened")
    async def read(ctx: Context) -> None:
        calls.append(1)
        repo = ctx.require_repo()
        await ctx.github.rest.issues.async_get(repo.owner, repo.name, ctx.issue_number or 0)

    number = fake_github.add_issue("octo-org/hello", "x").number
    fake_github.faults.append(Fault("GET", rf"/issues/{number}$", 503, times=4))
    async with app(tmp_path, fake_github, greeter, flaky) as test_app:
        delivery = await test_app.dispatch("issues", issues_event("opened", number=number))
    assert delivery.status == "done"
    assert delivery.attempts == 2
    assert len(calls) == 2 and len(seen) == 1  # greeter finished the first time


pushes: list[str] = []
pusher = Skill("pusher", "counts pushes")


@pusher.on("push")
async def count_push(ctx: Context) -> None:
    pushes.append(str(ctx.payload.get("after")))


@pytest.mark.vcr
async def test_the_config_check_is_no_skill_outcome_and_its_failure_fails_the_delivery(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    pushes.clear()
    fake_github.set_file("octo-org/hello", ".github/ghapp.yml", "greeter:\n  greeting: hey\n")
    head = fake_github.add_commit("octo-org/hello", "change config", sha="c0ffee" * 6 + "c0ff")
    push = push_event("refs/heads/main", files_changed=[".github/ghapp.yml"])
    push["after"] = head
    push["repository"]["default_branch"] = "main"
    # Someone took the App's checks permission away, once.
    forbidden = shapes.error(403, "Resource not accessible by integration")
    fake_github.faults.append(Fault("POST", r"/check-runs$", 403, body=forbidden))
    async with app(tmp_path, fake_github, greeter, pusher) as test_app:
        test_app.expect_failure(match=r"^config-check: .*403")
        refused = await test_app.dispatch("push", push)
        reported = await test_app.dispatch("push", push)
        checks = [w.status for w in test_app.writes() if w.path.endswith("/check-runs")]
    # The check is not a skill: the outcomes per skill are the skills' alone, either way.
    assert outcomes(refused) == outcomes(reported) == {"pusher": "ok"}
    assert (refused.status, reported.status) == ("failed", "done")
    assert refused.error is not None and refused.error.startswith("config-check: ")
    assert pushes == [head, head]  # the skills ran all the same
    assert checks == [403, 201]
