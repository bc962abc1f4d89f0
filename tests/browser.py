"""Shared browser-test helpers: Debian's Chromium driven by Playwright, and a server thread.

Use in a test module:

    from tests import browser
    chromium_browser = browser.chromium_browser  # the fixture, under its own name

    @pytest.mark.browser
    def test_something(chromium_browser: Browser) -> None:
        with browser.serve_app(create_app(settings)) as url:
            page = chromium_browser.new_page()
            page.goto(url + "/settings")

Playwright installs no browser here (never `playwright install`); the one it drives is
/usr/bin/chromium. Without it, or without Playwright, the test skips — and fails under
CI=true (`require_service`). Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from tests.conftest import require_service

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-gpu",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def chromium_browser() -> Iterator[Browser]:
    """A headless Chromium (Debian's) for one test."""
    if not CHROMIUM.exists():
        require_service("chromium", f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        require_service("playwright", "the playwright package is not installed")
        raise  # unreachable: require_service skips or fails
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        except Error as exc:
            require_service("chromium", f"could not launch {CHROMIUM}: {exc.message[:200]}")
            raise
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_app(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app (lifespan on, as `ghapp run` does) on 127.0.0.1 in a thread."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"app-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


AXE_VERSION = "4.14.1"
CACHE = Path(__file__).resolve().parent.parent / ".cache"


def axe_source() -> str:
    """axe-core (the accessibility checker) as a script, fetched once with `npm pack` into
    the git-ignored .cache/ (third-party code is never committed)."""
    target = CACHE / f"axe-core-{AXE_VERSION}" / "package" / "axe.min.js"
    if not target.exists():
        import shutil
        import subprocess
        import tarfile

        npm = shutil.which("npm")
        if npm is None:
            require_service("npm", "npm is needed to fetch axe-core for the browser tests")
            raise RuntimeError("unreachable")
        folder = target.parent.parent
        folder.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if packed.returncode != 0:
            require_service("npm registry", f"npm pack axe-core failed: {packed.stderr[-300:]}")
        with tarfile.open(folder / packed.stdout.strip().splitlines()[-1]) as archive:
            archive.extractall(folder, filter="data")
    return target.read_text()
