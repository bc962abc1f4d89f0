"""Server subprocesses: `serve()`, `ghapp run` and `ghapp worker` with the benchmark
App's environment, the bare Starlette endpoint, the Probot peer, py-spy sampling and the
in-process worker's queue depth."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from benchmarks._constants import (
    _GHAPP_VARS,
    APP_ID,
    REPO_ROOT,
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
)
from benchmarks._stats import cpu_seconds, rss_kib

if TYPE_CHECKING:
    from starlette.applications import Starlette


class ServerFailed(Exception):
    """A server subprocess exited or did not answer in time; the message has its log."""


# -- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def rss_kib(self) -> int:
        return rss_kib(self.process.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _wait_until_up(server: Server, health: str | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(f"exited with {server.process.returncode}:\n{server.log_tail()}")
        if health is None:  # a worker: alive after a moment is all we can tell
            time.sleep(1.0)
            if server.process.poll() is None:
                return
            continue
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + health, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise ServerFailed(f"not up after {timeout:.0f}s:\n{server.log_tail()}")


@contextlib.contextmanager
def serve(
    argv: Sequence[str],
    env: dict[str, str],
    *,
    name: str,
    port: int | None = None,
    health: str | None = "/healthz",
    cwd: Path | None = None,
    startup_timeout: float = 60.0,
    stop_timeout: float = 8.0,
    program: str | None = None,
) -> Iterator[Server]:
    """Run `python ARGV…` (or `program ARGV…`) in a subprocess; yield once `health`
    answers 200 on `port`."""
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        prefix=f"ghapp-bench-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [program or sys.executable, *argv],
        env=env,
        cwd=cwd or REPO_ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{port}", process, Path(log_file.name))
    profiler: subprocess.Popen[bytes] | None = None
    try:
        _wait_until_up(server, health if port else None, startup_timeout)
        profiler = _profile(process.pid, name)
        yield server
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            try:
                profiler.wait(30)
            except subprocess.TimeoutExpired:
                profiler.kill()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log_file.close()
        Path(log_file.name).unlink(missing_ok=True)


def _profile(pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """With BENCH_PYSPY=DIR, sample the server with py-spy into DIR/NAME.txt (collapsed
    stacks: `sort | uniq`-friendly, or feed them to a flame graph tool)."""
    out_dir = os.environ.get("BENCH_PYSPY")
    if not out_dir:
        return None
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    target = Path(out_dir) / f"{name.replace(' ', '-')}.txt"
    argv = [py_spy, "record", "-p", str(pid), "-f", "raw", "-r", "250", "-o", str(target)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GHAPP_VARS}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


def ghapp_env(
    workdir: Path,
    *,
    api_url: str,
    port: int,
    database_url: str | None = None,
    redis_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a `ghapp run` / `ghapp worker` for the benchmark App.

    Defaults as a user would have them (LOG_LEVEL info, JSON logs since stdout is a file),
    except GITHUB_PACING=off: the fake GitHub has no secondary rate limit to respect.
    """
    from ghapp.testing import test_key_pair

    private, _public = test_key_pair()
    env = base_env()
    env.update(
        APP_ID=str(APP_ID),
        PRIVATE_KEY=private,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        GITHUB_API_URL=api_url,
        DATABASE_URL=database_url or f"sqlite:///{workdir / 'ghapp.db'}",
        HOST="127.0.0.1",
        PORT=str(port),
        GITHUB_PACING="off",
        LOG_LEVEL="info",
        LOG_FORMAT="json",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra or {})
    return env


@contextlib.contextmanager
def ghapp_run(env: dict[str, str], workdir: Path, *, name: str = "ghapp") -> Iterator[Server]:
    """`ghapp run` (uvicorn, and without REDIS_URL the in-process worker) in a subprocess."""
    with serve(
        ["-m", "ghapp.cli", "run"],
        env,
        name=name,
        port=int(env["PORT"]),
        health="/readyz",
        cwd=workdir,
    ) as server:
        yield server


@contextlib.contextmanager
def ghapp_worker(env: dict[str, str], workdir: Path, *, name: str) -> Iterator[Server]:
    with serve(["-m", "ghapp.cli", "worker"], env, name=name, cwd=workdir) as server:
        yield server


@contextlib.contextmanager
def bare_server() -> Iterator[Server]:
    """The bare Starlette endpoint (`bare_app`) under uvicorn with the same defaults."""
    port = free_port()
    env = base_env()
    env["BENCH_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    argv = [
        "-m",
        "uvicorn",
        "--factory",
        "benchmarks._common:bare_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with serve(argv, env, name="bare", port=port) as server:
        yield server


PROBOT_VERSION = "14"
PROBOT_DIR = REPO_ROOT / ".cache" / "probot-peer"


def probot_reason() -> str | None:
    """None when the Probot peer can run (node and npm, Probot installed or installable
    into the git-ignored .cache/probot-peer/), else why not."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are not installed"
    if not (PROBOT_DIR / "node_modules" / "probot" / "package.json").exists():
        PROBOT_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", f"probot@{PROBOT_VERSION}"],
            cwd=PROBOT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            return f"npm install probot@{PROBOT_VERSION} failed: {done.stderr.strip()[-300:]}"
    shutil.copyfile(Path(__file__).with_name("probot_peer.mjs"), PROBOT_DIR / "peer.mjs")
    return None


@contextlib.contextmanager
def probot_server(api_url: str) -> Iterator[Server]:
    """The Probot peer (benchmarks/probot_peer.mjs) under node, as the benchmark App."""
    from ghapp.testing import test_key_pair

    private, _public = test_key_pair()
    port = free_port()
    env = base_env()
    env.update(
        APP_ID=str(APP_ID),
        PRIVATE_KEY=private,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        GITHUB_API_URL=api_url,
        PORT=str(port),
        NODE_ENV="production",
        LOG_LEVEL="warn",
    )
    node = shutil.which("node") or "node"
    with serve(["peer.mjs"], env, name="probot", port=port, cwd=PROBOT_DIR, program=node) as server:
        yield server


def bare_app() -> Starlette:
    """The practical limit of this stack: check the HMAC, answer 202, nothing else."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    secret = os.environ.get("BENCH_WEBHOOK_SECRET", WEBHOOK_SECRET).encode()

    async def receive(request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        given = request.headers.get("x-hub-signature-256", "")
        if not hmac.compare_digest(expected, given):
            return JSONResponse({"message": "bad signature"}, status_code=401)
        return JSONResponse({"message": "accepted"}, status_code=202)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route(WEBHOOK_PATH, receive, methods=["POST"]), Route("/healthz", healthz)]
    )


async def queue_depth(server: Server) -> int | None:
    """`ghapp_queue_depth` from the server's /metrics (None when unavailable)."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(server.url + "/metrics")).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("ghapp_queue_depth"):
            return int(float(line.split()[-1]))
    return None


async def wait_queue_empty(server: Server, timeout: float = 30.0) -> bool:
    """Let the in-process worker finish the previous burst before the next one is timed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        depth = await queue_depth(server)
        if depth is None or depth == 0:
            return True
        await asyncio.sleep(0.2)
    return False
