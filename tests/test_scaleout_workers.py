"""Scale-out end to end: `ghapp worker` processes on a real Redis and PostgreSQL, GitHub
played by the fake on loopback, webhooks posted to the real ingress app.

- two workers drain 500 deliveries: none lost, no duplicate comment, one token minted;
- settings switches flipped in the database take effect on every worker at once;
- a worker killed with SIGKILL mid-job: the other worker completes the delivery;
- one issue's deliveries are applied in order while other issues run in parallel;
- with Redis, ingress only stores and enqueues and answers 202 in milliseconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ghapp.bus import load_skills
from ghapp.config import Settings, load_settings
from ghapp.store import Database, Delivery, DeliveryStore, SwitchStore
from ghapp.store.tables import deliveries
from ghapp.testing import signature_for
from ghapp.web.app import create_app
from tests.services import (  # noqa: F401  (fixtures)
    RedisSpace,
    postgres_url_fixture,
    redis_space_fixture,
    redis_url_fixture,
)
from tests.support.fake_github import FakeGitHub, generate_test_key, run_fake_github
from tests.support.payloads import issues_event

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

REPO = "octo-org/hello"
INSTALLATION = 1
SECRET = "scale-out-webhook-secret"

# A third-party skill that writes down the order it sees an issue's edits in, installed
# for the worker processes the way any plug-in is: a distribution with an entry point.
ORDER_PROBE = '''
"""order-probe: answers every issues.edited with the issue's title, after a random pause."""
import asyncio
import random

from ghapp import Context, Skill

skill = Skill("order-probe", "Echoes issue titles.", permissions={"issues": "write"})


@skill.on("issues.edited")
async def echo(ctx: Context) -> None:
    await asyncio.sleep(random.uniform(0.0, 0.08))
    await ctx.reply(ctx.payload["issue"]["title"])
'''


@dataclass
class Deployment:
    """A web app (in this process) and `ghapp worker` processes sharing Redis and PostgreSQL."""

    tmp: Path
    fake: FakeGitHub
    env: dict[str, str]
    settings: Settings
    database_url: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = self.tmp / f"worker-{len(self.workers)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ghapp.cli", "worker"],
                cwd=self.tmp,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(proc)
        self.logs.append(log)
        deadline = time.monotonic() + 60
        while b"ghapp worker started" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        return proc

    def stop_workers(self) -> list[int | None]:
        codes: list[int | None] = []
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                codes.append(proc.wait(timeout=45))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes

    def log_text(self, n: int) -> str:
        return self.logs[n].read_text(errors="replace")

    @contextmanager
    def web(self) -> Iterator[TestClient]:
        """The real ingress (`ghapp run` with REDIS_URL: store and enqueue, no workers)."""
        with TestClient(create_app(self.settings)) as client:
            yield client

    def post(self, client: TestClient, event: str, payload: dict[str, Any], ident: str) -> int:
        body = json.dumps(payload).encode()
        response = client.post(
            self.settings.webhook_path,
            content=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": ident,
                "X-Hub-Signature-256": signature_for(body, SECRET),
                "Content-Type": "application/json",
            },
        )
        return response.status_code

    async def wait_finished(self, ids: list[str], timeout: float) -> list[Delivery]:
        """Wait until every delivery is finished (done, failed, ignored); return them."""
        db = Database(self.database_url)
        wanted = set(ids)
        try:
            deadline = time.monotonic() + timeout
            while True:
                # A light query while waiting: the full records carry their payloads.
                async with db.connect() as conn:
                    rows = (await conn.execute(select(deliveries.c.id, deliveries.c.status))).all()
                states = {r.id: r.status for r in rows if r.id in wanted}
                done = [i for i, status in states.items() if status not in ("queued", "running")]
                if len(done) == len(ids):
                    found = {d.id: d for d in await DeliveryStore(db).list(limit=len(rows))}
                    return [found[i] for i in ids]
                if time.monotonic() > deadline:
                    counts = Counter(states.values())
                    tail = "\n".join(self.log_text(n)[-2000:] for n in range(len(self.logs)))
                    raise AssertionError(f"{len(done)}/{len(ids)} finished {counts}\n{tail}")
                await asyncio.sleep(0.5)
        finally:
            await db.close()

    def comments(self, number: int) -> list[str]:
        repo = self.fake.repo(REPO)
        return [
            c.body
            for c in sorted(repo.comments.values(), key=lambda c: c.id)
            if c.issue_number == number
        ]


async def _set_switches(database_url: str, only: set[str]) -> None:
    """Every installed skill off for the installation except `only`, as an admin would."""
    db = Database(database_url)
    try:
        switches = SwitchStore(db)
        for name in load_skills():
            await switches.set(INSTALLATION, "", name, name in only, actor="test")
    finally:
        await db.close()


def _install_order_probe(where: Path) -> None:
    (where / "order_probe.py").write_text(ORDER_PROBE)
    dist = where / "order_probe-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: order-probe\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ghapp.skills]\norder-probe = order_probe:skill\n")


@pytest.fixture
async def deployment(
    tmp_path: Path, postgres_url: str, redis_space: RedisSpace, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Deployment]:
    db = Database(postgres_url)
    await db.upgrade()  # what `ghapp db upgrade` does before a deploy
    await db.close()
    private, public = generate_test_key()
    fake = FakeGitHub(app_id=redis_space.app_id, public_key_pem=public)
    fake.add_installation(INSTALLATION, "octo-org", repositories=[REPO])
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    _install_order_probe(plugins)
    monkeypatch.syspath_prepend(str(plugins))  # the web app knows the skill's events too
    with run_fake_github(fake) as root:
        values = {
            "APP_ID": str(redis_space.app_id),
            "PRIVATE_KEY": private.decode(),
            "WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": f"{root}/api/v3",
            # As hosting platforms hand it out; ghapp picks the async driver.
            "DATABASE_URL": postgres_url.replace("postgresql+asyncpg://", "postgresql://"),
            "REDIS_URL": redis_space.url,
            "GITHUB_PACING": "off",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "info",
        }
        env = {
            **{k: v for k, v in os.environ.items() if k not in values},
            **values,
            "PYTHONPATH": os.pathsep.join([str(plugins), os.getcwd()]),
        }
        settings = load_settings(values, env_file=None, workdir=tmp_path)
        made = Deployment(tmp_path, fake, env, settings, postgres_url)
        try:
            yield made
        finally:
            codes = made.stop_workers()
            killed = {-signal.SIGKILL}
            assert all(c == 0 or c in killed for c in codes), (
                f"workers stop cleanly on SIGTERM: {codes}"
            )


async def test_two_workers_drain_500_deliveries_once_each(deployment: Deployment) -> None:
    await _set_switches(deployment.database_url, {"hello"})
    numbers = [
        deployment.fake.add_issue(REPO, f"issue {n}", user="mona").number for n in range(500)
    ]
    deployment.start_worker()
    deployment.start_worker()
    ids = [f"bulk-{n}" for n in numbers]
    opened = issues_event("opened", number=numbers[0], login="mona", repo=REPO)
    with deployment.web() as client:
        for n, ident in zip(numbers, ids, strict=True):
            payload = {**opened, "issue": {**opened["issue"], "number": n}}
            assert deployment.post(client, "issues", payload, ident) == 202
        # GitHub redelivers a few: stored once, processed once.
        payload = issues_event("opened", number=numbers[0], login="mona", repo=REPO)
        assert deployment.post(client, "issues", payload, ids[0]) == 200
    finished = await deployment.wait_finished(ids, timeout=240)

    assert [d.status for d in finished] == ["done"] * 500, {d.error for d in finished}
    for d in finished:
        assert {r.skill: r.outcome for r in d.runs}["hello"] == "ok", d
    for n in numbers:
        assert deployment.comments(n) == ["Hello @mona!"], f"issue {n}"
    assert deployment.fake.tokens_issued == {INSTALLATION: 1}, "one token for all workers"
    # Both workers took a share (a log line may trail its database commit a little).
    deadline = time.monotonic() + 10
    while True:
        per_worker = [deployment.log_text(n).count('"delivery done"') for n in range(2)]
        if sum(per_worker) >= 500 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert sum(per_worker) == 500 and min(per_worker) > 0, per_worker

    # An admin switches hello off: every worker sees it on the next delivery.
    await _set_switches(deployment.database_url, set())
    later = [deployment.fake.add_issue(REPO, f"late {n}", user="mona").number for n in range(6)]
    with deployment.web() as client:
        for n in later:
            payload = issues_event("opened", number=n, login="mona", repo=REPO)
            assert deployment.post(client, "issues", payload, f"late-{n}") == 202
    for d in await deployment.wait_finished([f"late-{n}" for n in later], timeout=60):
        assert {r.skill: r.outcome for r in d.runs}.get("hello") in (None, "skipped"), d
    assert all(deployment.comments(n) == [] for n in later)


async def test_a_worker_killed_mid_job_leaves_the_delivery_to_the_other(
    deployment: Deployment,
) -> None:
    await _set_switches(deployment.database_url, {"hello"})
    number = deployment.fake.add_issue(REPO, "slow one", user="mona").number
    doomed = deployment.start_worker()
    deployment.fake.latency = 2.0  # every GitHub request now takes 2 s
    with deployment.web() as client:
        payload = issues_event("opened", number=number, login="mona", repo=REPO)
        assert deployment.post(client, "issues", payload, "slow-1") == 202
    deadline = time.monotonic() + 30
    while not any(
        r.headers.get("x-github-delivery") == "slow-1" for r in list(deployment.fake.requests)
    ):
        assert time.monotonic() < deadline, deployment.log_text(0)[-3000:]
        await asyncio.sleep(0.05)
    # The job is in flight (waiting on GitHub, nothing written yet): kill -9.
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    deployment.fake.latency = 0.0
    deployment.start_worker()

    (delivery,) = await deployment.wait_finished(["slow-1"], timeout=120)
    assert delivery.status == "done", delivery
    assert delivery.attempts == 2, "claimed by the dead worker, then by the other"
    assert deployment.comments(number) == ["Hello @mona!"]
    assert '"delivery done"' in deployment.log_text(1)


async def test_one_issue_in_order_while_others_run_in_parallel(deployment: Deployment) -> None:
    await _set_switches(deployment.database_url, {"order-probe"})
    issues = [deployment.fake.add_issue(REPO, "start", user="mona").number for _ in range(4)]
    deployment.start_worker()
    deployment.start_worker()
    ids: list[str] = []
    with deployment.web() as client:
        for step in range(12):
            for n in issues:
                payload = issues_event("edited", number=n, title=f"step {step:02d}", repo=REPO)
                ident = f"edit-{n}-{step}"
                assert deployment.post(client, "issues", payload, ident) == 202
                ids.append(ident)
    finished = await deployment.wait_finished(ids, timeout=180)
    assert {d.status for d in finished} == {"done"}
    for n in issues:
        assert deployment.comments(n) == [f"step {s:02d}" for s in range(12)], f"issue {n}"
    # Issues did not wait for each other: runs of different issues overlapped in time.
    spans = sorted(
        (d.received_at.timestamp(), (d.finished_at or d.received_at).timestamp(), d.ordering_key)
        for d in finished
    )
    assert any(a[2] != b[2] and b[0] < a[1] for a, b in itertools.pairwise(spans)), (
        "different issues were processed concurrently"
    )


async def test_ingress_with_redis_only_stores_and_enqueues(deployment: Deployment) -> None:
    await _set_switches(deployment.database_url, {"hello"})
    numbers = [deployment.fake.add_issue(REPO, f"i {n}", user="mona").number for n in range(100)]
    timings: list[float] = []
    # GitHub is slow now: an answer that waited for any skill would show it.
    deployment.fake.latency = 1.0
    with deployment.web() as client:
        assert client.get("/readyz").status_code == 200
        for n in numbers:
            payload = issues_event("opened", number=n, login="mona", repo=REPO)
            begun = time.perf_counter()
            assert deployment.post(client, "issues", payload, f"fast-{n}") == 202
            timings.append(time.perf_counter() - begun)
        metrics = client.get("/metrics").text
    # No answer waited for GitHub: each took less than one of its requests does (speed itself
    # is measured by benchmarks/, not here).
    assert max(timings) < deployment.fake.latency, f"slowest answer {max(timings):.3f}s"
    assert "ghapp_queue_depth 100.0" in metrics
    assert not deployment.fake.requests, "nothing reached GitHub: no skill ran in ingress"
    deployment.fake.latency = 0.0
    deployment.start_worker()
    finished = await deployment.wait_finished([f"fast-{n}" for n in numbers], timeout=120)
    assert {d.status for d in finished} == {"done"}
