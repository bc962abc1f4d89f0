"""What the benchmarks share: processes, the fake GitHub, signed deliveries, statistics.

* `serve()` starts a server (ghapp under `ghapp run`, a worker, or the bare endpoint) in a
  subprocess on loopback and stops it with SIGTERM (SIGKILL after a grace period): with two
  cores, the load generator and the server each get one.
* `fake_github()` serves the test suite's fake GitHub in a thread of this process, with the
  benchmark App's public key, optionally with latency on every request.
* `fire()` is the load generator: an `httpx.AsyncClient` with a pool of `concurrency`
  connections, each delivery signed with the webhook secret and carrying a unique
  `X-GitHub-Delivery` id; it returns each acknowledgement's latency.
* `percentile()` (nearest rank) and `median()`; `machine()` describes where figures came from.

Payloads are GitHub's own examples (`@octokit/webhooks-examples`, via `tests.support`);
when they cannot be fetched, `PayloadsUnavailable` says so and the benchmark stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `tests.support` lives beside `benchmarks`
    sys.path.insert(0, str(REPO_ROOT))

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from tests.support.fake_github import FakeGitHub

T = TypeVar("T")
WEBHOOK_SECRET = "benchmark-webhook-secret"
APP_ID = 1
APP_SLUG = "ghapp-bench"
WEBHOOK_PATH = "/api/github/webhooks"
POSTGRES_ADMIN_URL = "postgresql://127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Variables a developer's shell might carry that would change what is measured.
_GHAPP_VARS = (
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "GITHUB_API_URL",
    "GITHUB_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "HOST",
    "PORT",
    "WEBHOOK_PATH",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DRY_RUN",
    "GITHUB_PACING",
    "BASE_URL",
)


class PayloadsUnavailable(Exception):
    """GitHub's example payloads could not be loaded (offline and not cached)."""


class ServerFailed(Exception):
    """A server subprocess exited or did not answer in time; the message has its log."""


def skip_failed_sniffio_import() -> None:
    """Make httpcore's per-request `import sniffio` fail fast when sniffio is not installed.

    httpcore 1.0 imports sniffio inside `current_async_library()`, several times per
    request; without the package every attempt searches sys.path again (measured: most of
    the load generator's CPU). A None entry in sys.modules makes the import fail at once.
    """
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


skip_failed_sniffio_import()


# -- statistics -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ratio(a: float, b: float) -> str:
    return "n/a" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}"


def machine() -> str:
    """`nproc`, the CPU model and the Python version: quoted beside every figure."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cpu, {model}, Python {platform.python_version()}"


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc/PID/status (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a process has used so far (from /proc/PID/stat).

    CPU per delivery is the figure least disturbed by other jobs on a shared machine:
    wall-clock rates drop when the cores are busy elsewhere, CPU seconds per unit do not.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def header(title: str, args: argparse.Namespace | None = None) -> None:
    print(f"== {title}")
    print(f"machine: {machine()}")
    if args is not None:
        shown = ", ".join(f"{k}={v}" for k, v in vars(args).items() if k != "child")
        print(f"settings: {shown}")


def table(rows: Sequence[Sequence[object]]) -> None:
    """Print rows as aligned columns (first row is the heading)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        print(
            "  "
            + "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


# -- payloads ---------------------------------------------------------------------------------


def example_payload(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Call a `tests.support.payloads` builder; PayloadsUnavailable when offline."""
    import pytest

    try:
        return build()
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:
        raise PayloadsUnavailable(str(exc)) from None


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# -- the load generator -----------------------------------------------------------------------


@dataclass
class Delivery:
    event: str
    body: bytes
    signature: str = ""

    def __post_init__(self) -> None:
        if not self.signature:
            self.signature = sign(self.body)


@dataclass
class LoadResult:
    """Acknowledgement latencies (seconds) of one burst, and what the server answered."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # transport errors by type

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else math.nan

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def merge(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        self.elapsed += other.elapsed
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)

    def status_text(self) -> str:
        text = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return text + "".join(f" {name}:{n}" for name, n in sorted(self.errors.items()))


def run_client(coro: Coroutine[Any, Any, T]) -> T:
    """Run the load generator on uvloop when it is installed (less client CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def fire(
    url: str,
    deliveries: Sequence[Delivery],
    *,
    concurrency: int = 32,
    id_prefix: str = "bench",
) -> LoadResult:
    """POST every delivery to `url` over `concurrency` keep-alive connections.

    Each request carries its own `X-GitHub-Delivery` id (`id_prefix-N`); the latency is from
    just before the request is written to the moment the whole response is read.

    The load generator writes HTTP/1.1 by hand over asyncio streams (BENCH_CLIENT=httpx
    brings back httpx.AsyncClient): httpx costs about 4 ms of CPU per request on this
    machine kind, ten times what the bare endpoint spends, so with it the client and not
    the server set every target's pace and the ratios said little.
    """
    if os.environ.get("BENCH_CLIENT") == "httpx":
        return await _fire_httpx(url, deliveries, concurrency=concurrency, id_prefix=id_prefix)
    result = LoadResult()
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode()
    pending = iter(enumerate(deliveries))

    def request(n: int, delivery: Delivery) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nUser-Agent: GitHub-Hookshot/benchmark\r\n"
            f"X-GitHub-Event: {delivery.event}\r\nX-GitHub-Delivery: {id_prefix}-{n}\r\n"
            f"X-Hub-Signature-256: {delivery.signature}\r\n"
            f"Content-Length: {len(delivery.body)}\r\n\r\n"
        )
        return head.encode() + delivery.body

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        for n, delivery in pending:
            started = time.perf_counter()
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(request(n, delivery))
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                fields = dict(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                )
                await reader.readexactly(int(fields.get("content-length", "0")))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.errors[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[int(lines[0].split(" ", 2)[1])] += 1
            if fields.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def _fire_httpx(
    url: str, deliveries: Sequence[Delivery], *, concurrency: int, id_prefix: str
) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    pending = iter(enumerate(deliveries))
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0)) as client:

        async def worker() -> None:
            for n, delivery in pending:
                headers = {
                    "content-type": "application/json",
                    "user-agent": "GitHub-Hookshot/benchmark",
                    "x-github-event": delivery.event,
                    "x-github-delivery": f"{id_prefix}-{n}",
                    "x-hub-signature-256": delivery.signature,
                }
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=delivery.body, headers=headers)
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.statuses[response.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    return result


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


# -- the fake GitHub and the services ---------------------------------------------------------


def new_fake_github(latency: float = 0.0) -> FakeGitHub:
    from ghapp.testing import test_key_pair
    from tests.support.fake_github import FakeGitHub

    _private, public = test_key_pair()
    return FakeGitHub(
        app_id=APP_ID, app_slug=APP_SLUG, public_key_pem=public.encode(), latency=latency
    )


@contextlib.contextmanager
def fake_github(fake: FakeGitHub) -> Iterator[str]:
    """Serve `fake` on loopback; yields the REST root (…/api/v3) for GITHUB_API_URL."""
    from tests.support.fake_github import API_PREFIX, run_fake_github

    with run_fake_github(fake) as root:
        yield root + API_PREFIX


def services_reason(redis_url: str = DEFAULT_REDIS_URL) -> str | None:
    """Why PostgreSQL + Redis scale-out cannot be measured here, or None when it can."""
    for host, port, what in (("127.0.0.1", 5432, "PostgreSQL"), ("127.0.0.1", 6379, "Redis")):
        try:
            with socket.create_connection((host, port), timeout=1):
                pass
        except OSError as exc:
            return f"{what} at {host}:{port} unreachable ({exc.strerror or exc})"
    return scaleout_reason()


def scaleout_reason() -> str | None:
    """None when ghapp's scale-out (REDIS_URL) code has landed; else why not."""
    import inspect

    from ghapp import scaleout

    if "NotImplementedError" in inspect.getsource(scaleout.build):
        return "ghapp.scaleout.build is not implemented yet (scale-out has not landed)"
    return None


@contextlib.contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL, suffix: str = "") -> Iterator[str]:
    """A fresh database for this run (dropped afterwards); yields its URL."""
    import asyncpg

    tail = "".join(ch if ch.isalnum() else "_" for ch in suffix)
    name = f"ghapp_bench_{os.getpid()}_{int(time.time())}{'_' + tail if tail else ''}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def db_upgrade(env: dict[str, str], workdir: Path) -> None:
    """`ghapp db upgrade` (PostgreSQL is not migrated by `ghapp run` itself)."""
    done = subprocess.run(
        [sys.executable, "-m", "ghapp.cli", "db", "upgrade"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ServerFailed(f"ghapp db upgrade failed:\n{done.stdout}{done.stderr}")


@dataclass
class RedisNamespace:
    url: str
    env: dict[str, str]  # extra environment for ghapp (a key prefix, when ghapp has one)


@contextlib.contextmanager
def redis_namespace(base_url: str = DEFAULT_REDIS_URL) -> Iterator[RedisNamespace]:
    """A Redis logical database that is empty now, used by this run only, emptied afterwards.

    ghapp has no key-prefix setting, so the run takes a whole logical database (from the
    top, 15 down to 8) that holds no key; its keys are deleted with SCAN + DEL afterwards
    (never FLUSHALL / FLUSHDB: the server is shared).
    """
    import redis

    root = base_url.rsplit("/", 1)[0] if base_url.count("/") > 2 else base_url
    chosen: str | None = None
    for index in range(15, 7, -1):
        url = f"{root}/{index}"
        client = redis.Redis.from_url(url)
        try:
            if client.dbsize() == 0:
                client.set(f"ghapp-bench:claimed:{os.getpid()}", "1", ex=3600)
                chosen = url
                break
        finally:
            client.close()
    if chosen is None:
        raise ServerFailed("no empty Redis logical database (8..15) for this run")
    try:
        yield RedisNamespace(chosen, {})
    finally:
        client = redis.Redis.from_url(chosen)
        try:
            for key in list(client.scan_iter(count=1000)):
                client.delete(key)
        finally:
            client.close()


def size_arg(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    parser.add_argument("--size", type=int, default=default, help=f"{what} (default {default})")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny run that only checks the script works"
    )
