"""Shared fixtures: the fake GitHub, the skill test app, vcrpy configuration, services.

Every test marked `@pytest.mark.vcr` replays strictly (tests/support/replay.py): a request
its cassette does not answer, or a recorded request it never makes, fails the test, with
the method and path, whatever the code under test did with the refusal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from vcr.cassette import Cassette

from ghapp.bus import load_skills
from ghapp.testing import SkillTestApp, test_key_pair
from tests.support.cassettes import VCR_CONFIG
from tests.support.fake_github import FakeGitHub
from tests.support.replay import StrictReplay, StrictReplayFailure

# Fails a test whose requests the fake GitHub had to refuse (see the plugin's docstring).
pytest_plugins = ("tests.support.fake_github.pytest_plugin",)
IN_CI = os.environ.get("CI") == "true"
INSTALLATION_ID = 1


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_unplayed(reason): this cassette test need not play every recorded request,"
        " for the reason given",
    )
    config.addinivalue_line(
        "markers",
        "unreadable_comment: this test makes the mention parser give up on a comment",
    )


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, object]:
    return VCR_CONFIG


@pytest.fixture
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    module = Path(str(request.node.fspath)).stem
    # tests/support/rerecord.py records every cassette into a temporary directory this way.
    root = os.environ.get("GHAPP_CASSETTE_DIR") or Path(__file__).parent / "cassettes"
    return str(Path(root) / module)


@pytest.fixture(autouse=True)
def strict_replay(
    request: pytest.FixtureRequest, vcr: Cassette | None
) -> Iterator[StrictReplay | None]:
    """The strict-replay record of a cassette test (None without a cassette)."""
    if vcr is None:
        yield None
        return
    replay = StrictReplay(vcr)
    marker = request.node.get_closest_marker("allow_unplayed")
    if marker is not None:
        replay.allow_unplayed(marker.kwargs.get("reason") or (marker.args or [""])[0])
    replay.install()
    yield replay


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a cassette test on what strict replay found, even when the test itself passed."""
    replay = getattr(item, "funcargs", {}).get("strict_replay")
    try:
        result = yield
    except BaseException as exc:
        problems = replay.problems(unplayed=False) if isinstance(replay, StrictReplay) else []
        if problems and isinstance(exc, Exception):
            # The refused request is most likely why the test failed: say so first.
            raise StrictReplayFailure("\n".join(problems)) from exc
        raise
    if isinstance(replay, StrictReplay) and (problems := replay.problems()):
        raise StrictReplayFailure("\n".join(problems))
    return result


class _GaveUp(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("could not read a comment's markdown"):
            self.said.append(record.getMessage())


@pytest.fixture(autouse=True)
def comments_read(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test in which the mention parser gave up on a comment. It logs the error and
    acts on no mention, so a test expecting none (or a parse broken on purpose) would pass
    for the wrong reason; a test that means it is marked `unreadable_comment`."""
    handler = _GaveUp()
    logger = logging.getLogger("ghapp.mentions")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.said and request.node.get_closest_marker("unreadable_comment") is None:
        pytest.fail("the mention parser gave up on a comment: " + "; ".join(handler.said))


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
