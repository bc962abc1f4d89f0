"""githubkit's lazily loaded parts are loaded at start-up: the REST methods' models of
the core every delivery goes through; a skill's own methods load on first use."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ghapp import runtime as runtime_module
from ghapp.cli import main
from ghapp.github.warm_up import CORE, METHODS
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.skills import mention_reply
from ghapp.testing import test_key_pair, test_settings

GHAPP = Path(__file__).resolve().parents[1] / "ghapp"


def _called(paths: list[Path]) -> set[str]:
    """The githubkit REST methods `paths` call, as `rest.ns.method` or through `rest = …`."""
    called: set[str] = set()
    for path in paths:
        source = path.read_text()
        called |= {f"{ns}.{m}" for ns, m in re.findall(r"rest\.(\w+)\.(async_\w+)", source)}
        for namespace in re.findall(r"rest = self\.github\.rest\.(\w+)", source):
            called |= {f"{namespace}.{m}" for m in re.findall(r"rest\.(async_\w+)", source)}
    return called


def test_every_rest_method_of_the_core_is_warmed() -> None:
    paths = [GHAPP / name for name in CORE]
    core = [p for path in paths for p in (path.rglob("*.py") if path.is_dir() else [path])]
    assert len(core) > 10
    called = _called(core)
    assert "reactions.async_create_for_issue_comment" in called  # the `rest = …` form is read
    assert set(METHODS) == called, (sorted(called - set(METHODS)), sorted(set(METHODS) - called))


def test_a_skills_own_methods_are_not_warmed() -> None:
    """Releases, label plans, the settings page: their models load on first use."""
    called = _called(list(GHAPP.rglob("*.py")))
    assert len(called) > 30
    assert {"repos.async_create_release", "issues.async_set_labels"} <= called - set(METHODS)


def test_warm_up_loads_what_a_method_imports_on_its_first_call() -> None:
    # A fresh interpreter: in this one, earlier tests may have loaded the models already.
    code = """
import sys
import githubkit_schemas.v2026_03_10.models as models
from githubkit import GitHub
from ghapp.github import warm_up_rest

before = set(sys.modules)
warm_up_rest(GitHub("token"), ("reactions.async_create_for_issue_comment",))
after = set(sys.modules)
assert "anyio._backends._asyncio" in after
for name in ("Reaction", "ReposOwnerRepoIssuesCommentsCommentIdReactionsPostBody"):
    module = getattr(models, name).__module__
    assert module not in before and module in after, (name, module)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


async def warmed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> list[str]:
    """What `Runtime.prepare` warms up, recorded instead of done."""
    calls: list[str] = []
    monkeypatch.setattr(runtime_module, "warm_up_rest", lambda github: calls.append("rest"))
    settings = test_settings(tmp_path, api_url="https://api.github.com")
    runtime = Runtime(settings, RuntimeOptions(skills=[mention_reply.skill], **options))
    await runtime.prepare()
    await runtime.stop()
    return calls


async def test_prepare_warms_up_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert await warmed(tmp_path, monkeypatch, warm_up=True) == ["rest"]


async def test_without_the_option_nothing_is_warmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await warmed(tmp_path, monkeypatch) == []


def test_ghapp_run_asks_for_the_warm_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[Any] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    assert main(["run"]) == 0
    assert served[0].app.state.options.warm_up is True  # (inside ghapp's access log)


def test_ghapp_worker_warms_up_rest_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    class Recorded:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        async def warm_up(self) -> None:
            calls.append("warm_up")

        async def start_workers(self) -> None:
            calls.append("start")
            os.kill(os.getpid(), signal.SIGTERM)  # the worker's own stop signal

        async def stop(self, timeout: float) -> None:
            calls.append("stop")

    private, _ = test_key_pair()
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "APP_ID": "1",
        "PRIVATE_KEY": private,
        "WEBHOOK_SECRET": "secret",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "LOG_FORMAT": "json",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(runtime_module, "Runtime", Recorded)
    assert main(["worker"]) == 0
    assert calls == ["warm_up", "start", "stop"]
