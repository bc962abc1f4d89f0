"""Shared fixtures: the fake GitHub, the skill test app, vcrpy configuration, services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ghapp.bus import load_skills
from ghapp.testing import SkillTestApp, test_key_pair
from tests.support.cassettes import VCR_CONFIG
from tests.support.fake_github import FakeGitHub

# Fails a test whose requests the fake GitHub had to refuse (see the plugin's docstring).
pytest_plugins = ("tests.support.fake_github.pytest_plugin",)
IN_CI = os.environ.get("CI") == "true"
INSTALLATION_ID = 1


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, object]:
    return VCR_CONFIG


@pytest.fixture
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    module = Path(str(request.node.fspath)).stem
    # tests/support/rerecord.py records every cassette into a temporary directory this way.
    root = os.environ.get("GHAPP_CASSETTE_DIR") or Path(__file__).parent / "cassettes"
    return str(Path(root) / module)


@pytest.fixture
def fake_github() -> FakeGitHub:
    """A fake GitHub with the App installed on `octo-org/hello`."""
    _private, public = test_key_pair()
    fake = FakeGitHub(app_id=1, app_slug="ghapp-test", public_key_pem=public.encode())
    fake.add_installation(INSTALLATION_ID, "octo-org", repositories=["octo-org/hello"])
    return fake


@pytest.fixture
async def skill_app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    """Every installed skill (entry points) against the fake GitHub."""
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=list(load_skills().values())
    ) as app:
        yield app


def require_service(name: str, reason: str) -> None:
    """A missing service fails under CI=true and skips, with the reason, elsewhere."""
    if IN_CI:
        pytest.fail(f"{name} is required when CI=true: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")
