"""Issue 17: how `ghapp run` serves ingress — what start-up leaves to the garbage
collector and the options uvicorn is given."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ghapp import cli
from ghapp.testing import test_settings
from ghapp.web.app import create_app


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_ghapp_run_freezes_what_start_up_built(tmp_path: Path, unfrozen: None) -> None:
    """A full collection walked the whole start-up heap: up to 0.4 s of stall per pass
    under load (benchmarks/README.md)."""
    settings = test_settings(tmp_path, api_url="http://github.invalid/api/v3")
    with TestClient(create_app(settings, run_workers=False)):
        assert gc.get_freeze_count() == 0  # tests and embedders keep the default
    with TestClient(create_app(settings, run_workers=False, freeze_heap=True)) as client:
        assert gc.get_freeze_count() > 10_000
        assert client.get("/healthz").status_code == 200


def test_ghapp_run_hands_uvicorn_its_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    import uvicorn

    settings = test_settings(tmp_path, api_url="http://github.invalid/api/v3")
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    given: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: given.update(app=app, **options))
    assert cli.main(["run"]) == 0
    assert given["proxy_headers"] is True
    assert given["log_config"] is None
    with TestClient(given["app"]):
        assert gc.get_freeze_count() > 10_000
