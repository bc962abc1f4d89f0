"""Load: many deliveries at a steady rate into `ghapp run`; the queue drains and the
process's memory comes back to within 20% of where it started.

`ghapp run` is a real process (the example `hello` skill greets every issue) against the
fake GitHub on loopback. Memory is the process's resident set (VmRSS), measured once a
warm-up batch has been handled (imports, caches and pools in place) and again once the
whole load has drained. The issue asks for 10 000 deliveries; the default is smaller to
keep the suite short (GHAPP_LOAD_DELIVERIES, GHAPP_LOAD_RATE raise it).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ghapp.testing import signature_for
from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.ghapp_process import GhappProcess, wait_for
from tests.support.payloads import issues_event

pytestmark = pytest.mark.slow
DELIVERIES = int(os.environ.get("GHAPP_LOAD_DELIVERIES", "600"))
RATE = float(os.environ.get("GHAPP_LOAD_RATE", "50"))  # deliveries a second
WARM_UP = 150
REPO = "octo-org/hello"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_a_steady_load_drains_and_memory_returns(tmp_path: Path, fake_github: FakeGitHub) -> None:
    numbers = [
        fake_github.add_issue(REPO, f"Load {n}", user="mona").number
        for n in range(WARM_UP + DELIVERIES)
    ]
    bodies = [json.dumps(issues_event("opened", number=n, login="mona")).encode() for n in numbers]
    db = tmp_path / "ghapp.db"

    def done() -> int:
        with sqlite3.connect(db) as conn:
            return int(
                conn.execute("SELECT count(*) FROM deliveries WHERE status = 'done'").fetchone()[0]
            )

    with run_fake_github(fake_github) as github_url:
        app = GhappProcess(tmp_path, github_url, LOG_LEVEL="warning").start()
        assert app.proc is not None
        try:
            with httpx.Client(base_url=app.url, timeout=10) as client:

                def send(body: bytes) -> int:
                    return client.post(
                        "/api/github/webhooks",
                        content=body,
                        headers={
                            "X-GitHub-Event": "issues",
                            "X-GitHub-Delivery": str(uuid.uuid4()),
                            "X-Hub-Signature-256": signature_for(body),
                            "Content-Type": "application/json",
                        },
                    ).status_code

                assert {send(b) for b in bodies[:WARM_UP]} == {202}
                wait_for(lambda: done() == WARM_UP, timeout=120, interval=0.2)
                start_rss = rss_kib(app.proc.pid)

                started = time.monotonic()

                def paced(n: int) -> int:
                    pause = started + n / RATE - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    return send(bodies[WARM_UP + n])

                with ThreadPoolExecutor(4) as pool:  # GitHub sends over several connections
                    statuses = set(pool.map(paced, range(DELIVERIES)))
                sent_in = time.monotonic() - started
                peak_rss = rss_kib(app.proc.pid)
                wait_for(lambda: done() == WARM_UP + DELIVERIES, timeout=300, interval=0.5)
                time.sleep(1.0)  # let the last jobs' buffers go
                end_rss = rss_kib(app.proc.pid)
                metrics = client.get("/metrics").text
        finally:
            app.stop()

    assert statuses == {202}
    assert re.search(r"^ghapp_queue_depth 0\.0$", metrics, re.M)
    bot = fake_github.app_identity.bot_login
    greeted = [c.issue_number for c in fake_github.repo(REPO).comments.values() if c.user == bot]
    assert sorted(greeted) == numbers
    rates = f"sent at {DELIVERIES / sent_in:.0f}/s; RSS KiB start/peak/end"
    assert end_rss <= start_rss * 1.2, (rates, start_rss, peak_rss, end_rss)
