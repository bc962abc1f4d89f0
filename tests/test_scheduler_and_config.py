"""Periodic jobs run once per period across workers; config files parse with clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ghapp import Context, Skill
from ghapp.options import normalize_keys
from ghapp.repo_config import RepoConfigError, extends_nothing, parse_config_text, parse_extends
from ghapp.scheduler import PeriodicScheduler
from ghapp.testing import SkillTestApp
from tests.support.fake_github import FakeGitHub

ticks: list[str | None] = []
hourly = Skill("hourly", "repairs drift every hour")


@hourly.periodic("repair", every=timedelta(hours=1), per="repository")
async def repair(ctx: Context) -> None:
    ticks.append(ctx.repo.full_name if ctx.repo else None)


@pytest.mark.vcr
async def test_periodic_job_runs_once_per_period_across_workers(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    ticks.clear()
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=[hourly]) as app:
        runtime = app.runtime
        await runtime.installations.upsert({"id": 1, "account": {"login": "octo-org"}})
        await runtime.installations.add_repositories(
            1, [{"id": 10, "full_name": "octo-org/hello"}, {"id": 11, "full_name": "octo-org/two"}]
        )
        # A second worker's scheduler on the same database.
        other = PeriodicScheduler(
            runtime.skills, runtime.installations, runtime.tasks, runtime.queue
        )
        now = 1_800_000_000.0
        assert await runtime.scheduler.tick(now) == 2
        assert await other.tick(now + 5) == 0  # same period: already claimed
        await app.idle()
        assert sorted(t or "" for t in ticks) == ["octo-org/hello", "octo-org/two"]
        assert await other.tick(now + 3600) == 2  # next period: whoever ticks first
        await app.idle()
    assert len(ticks) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("label-sync: [unclosed", "did not find expected ',' or ']' at line 2"),
        ("- just\n- a list\n", "expected a mapping"),
        ("label-sync:\n\t- tab", "cannot start any token at line 2"),
        ("1: x\n", "is not a skill name"),
        ("x: " + "[" * 5000, "nesting depth"),
    ],
)
def test_config_text_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(RepoConfigError) as info:
        parse_config_text(text, "o/r/.github/ghapp.yml")
    assert message in str(info.value) or "nested too deeply" in str(info.value)
    assert str(info.value).startswith("o/r/.github/ghapp.yml")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (".github", ("octo", ".github", ".github/ghapp.yml")),
        ("other/.github", ("other", ".github", ".github/ghapp.yml")),
        ("base:conf/bot.yml", ("octo", "base", "conf/bot.yml")),
        ("other-owner/base:test.yaml", ("other-owner", "base", "test.yaml")),
    ],
)
def test_extends_targets(value: str, expected: tuple[str, str, str]) -> None:
    assert parse_extends(value, "octo", "src", ".github/ghapp.yml") == expected


@pytest.mark.parametrize(
    "value",
    [
        "a/b/c",
        5,
        "invalid!",
        {"nope": None},
        "base:conf/bot.json",  # `.yml` and `.yaml` only
        "-owner/base",  # not a GitHub login
        "own--er/base",
        "a" * 40 + "/base",
        "base:../../../user.yml",  # walking out of the contents API path
        "..:x.yml",
        "base:/x.yml",
    ],
)
def test_bad_extends(value: object) -> None:
    with pytest.raises(RepoConfigError, match="_extends") as info:
        parse_extends(value, "octo", "src", ".github/ghapp.yml")
    assert str(value) not in str(info.value)  # named by where it is, never echoed


@pytest.mark.parametrize("value", ["", False, 0, None])
def test_falsy_extends_extends_nothing(value: object) -> None:
    assert extends_nothing(value)


@pytest.mark.parametrize("value", ["no", "0", 1, True, "base"])
def test_other_extends_values_name_a_file(value: object) -> None:
    assert not extends_nothing(value)


def test_dashes_and_underscores_are_alike_in_keys_only() -> None:
    assert normalize_keys({"exclude-labels": ["needs-review"], "a": {"b-c": 1}}) == {
        "exclude_labels": ["needs-review"],
        "a": {"b_c": 1},
    }
