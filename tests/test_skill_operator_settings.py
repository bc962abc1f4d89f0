"""What a skill may take from the operator's settings (`Skill(operator_settings=...)`) and
the counters it adds to /metrics (`skill.counter`, `ctx.count`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from ghapp import Context, Skill
from ghapp.runtime import operator_settings
from ghapp.testing import SkillTestApp, test_settings
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issues_event


class AgentView(BaseModel):
    agent_model: str | None = None
    openai_api_key: SecretStr | None = None
    not_a_setting: int = 3  # a field Settings lacks keeps its default


class Greedy(BaseModel):
    private_key: SecretStr | None = None


seen: list[Any] = []
counting = Skill("counting", "counts what it sees", operator_settings=AgentView)
SEEN = counting.counter("things_seen", "Things seen.", labels=("kind",))


@counting.on("issues.opened")
async def opened(ctx: Context[Any]) -> None:
    seen.append(ctx.operator_settings)
    ctx.count(SEEN, 2, kind="issue")


undeclared = Skill("undeclared", "counts what it never declared")


@undeclared.on("issues.opened")
async def count_wrongly(ctx: Context[Any]) -> None:
    ctx.count("nothing_declared")


async def test_a_skill_gets_the_settings_it_names_and_its_counter_counts(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    seen.clear()
    env = {"AGENT_MODEL": "m-1", "OPENAI_API_KEY": "sk-view-0123456789abcdef"}
    skills = [counting, undeclared]
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=skills, env=env) as app:
        app.expect_failure("undeclared", match="declares no counter 'nothing_declared'")
        await app.dispatch("issues", issues_event("opened", number=1))
        text = app.runtime.metrics.render().decode()
    (view,) = seen
    assert isinstance(view, AgentView)
    assert view.agent_model == "m-1" and view.not_a_setting == 3
    assert view.openai_api_key is not None
    assert view.openai_api_key.get_secret_value() == "sk-view-0123456789abcdef"
    assert 'ghapp_things_seen_total{kind="issue"} 2.0' in text


def test_no_skill_is_handed_ghapps_own_secrets(tmp_path: Path) -> None:
    settings = test_settings(tmp_path, api_url="https://api.github.com")
    greedy = Skill("greedy", "wants the App's key", operator_settings=Greedy)
    with pytest.raises(ValueError, match="asks for ghapp's own secrets"):
        operator_settings({"greedy": greedy}, settings)
    assert operator_settings({"counting": counting}, settings)["counting"] == AgentView()


def test_counter_names_are_checked() -> None:
    with pytest.raises(ValueError, match="lower_snake_case"):
        counting.counter("Bad-Name", "no")
    with pytest.raises(ValueError, match="without _total"):
        counting.counter("calls_total", "no")
