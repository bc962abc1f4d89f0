"""A skill's features: parts with their own switch (`skill.feature`), read by `ctx.feature_on`
and switched on the settings page like the skill itself (installation, then repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghapp import Context, Skill
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issues_event

shouting = Skill("shouting", "answers new issues, loudly when its feature is on")
LOUD = shouting.feature("loud", "Shout the answer")
QUIET_BY_DEFAULT = shouting.feature("whisper", "Whisper it", default=False)
decided: list[tuple[bool, bool]] = []


@shouting.on("issues.opened")
async def decide(ctx: Context) -> None:
    decided.append((await ctx.feature_on(LOUD), await ctx.feature_on(QUIET_BY_DEFAULT)))


asking_wrongly = Skill("asking-wrongly", "asks for a feature it never declared")


@asking_wrongly.on("issues.opened")
async def ask(ctx: Context) -> None:
    await ctx.feature_on("undeclared")


def test_a_feature_is_declared_with_its_switch_and_default() -> None:
    assert shouting.switch_defaults() == {
        "shouting": True,
        "shouting/loud": True,
        "shouting/whisper": False,
    }
    with pytest.raises(ValueError, match="cannot contain '/'"):
        shouting.feature("a/b", "not a name")


async def test_features_follow_default_installation_and_repository_switches(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    decided.clear()
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[shouting]) as app:
        await app.dispatch("issues", issues_event("opened", number=1))
        await app.set_switch(1, "", "shouting/loud", False)
        await app.set_switch(1, "", "shouting/whisper", True)
        await app.dispatch("issues", issues_event("opened", number=2))
        await app.set_switch(1, "octo-org/hello", "shouting/loud", True)
        await app.dispatch("issues", issues_event("opened", number=3))
        # The skill's own switch still gates everything: off, nothing runs at all.
        await app.set_switch(1, "", "shouting", False)
        delivery = await app.dispatch("issues", issues_event("opened", number=4))
    assert decided == [(True, False), (False, True), (True, True)]
    assert [(r.skill, r.outcome, r.detail) for r in delivery.runs] == [
        ("shouting", "skipped", "switched off")
    ]


async def test_asking_for_an_undeclared_feature_is_the_skill_s_error(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[asking_wrongly]) as app:
        app.expect_failure("asking-wrongly", match="declares no feature 'undeclared'")
        delivery = await app.dispatch("issues", issues_event("opened", number=1))
    assert [r.outcome for r in delivery.runs] == ["error"]
