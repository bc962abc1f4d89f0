"""GitHub failing, for real, under many deliveries: nothing lost, nothing done twice.

The fake GitHub runs on loopback behind `ChaosGitHub`, an ASGI wrapper that answers a
seeded share of requests with a fault: 502/503 bursts, a response slower than the
client's timeout, a secondary rate limit (403 + `Retry-After`, short and long), a primary
rate limit (`x-ratelimit-remaining: 0` + `x-ratelimit-reset`), and an installation token
that expires early (the fake then answers 401). Faulted requests never reach the fake, so
a write that failed was not applied (the case of a write applied *and* failed is the
crash suite's: mention-reply checks GitHub before acting again).

Deliveries enter through the real webhook endpoint (`create_app` under Starlette's
TestClient), run through the in-process queue and the example `hello` skill, whose one
effect is a greeting comment per opened issue.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from githubkit.cache import MemCacheStrategy
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from ghapp.bus import load_skills
from ghapp.github import RetryPolicy
from ghapp.runtime import RuntimeOptions
from ghapp.testing import WEBHOOK_SECRET, signature_for, test_settings
from ghapp.web.app import create_app
from tests.support.fake_github import FakeGitHub, Fault, run_fake_github
from tests.support.fake_github.state import now as fake_now
from tests.support.payloads import issues_event

# 1000 deliveries, as the issue asks, take about a minute on a quiet 2-core machine (checked);
# the default keeps the whole suite within its time budget.
DELIVERIES = int(os.environ.get("GHAPP_RELIABILITY_DELIVERIES", "300"))
FAULT_RATE = 0.10
SEED = 20261122
CLIENT_TIMEOUT = 0.5
REPO = "octo-org/hello"
HELLO = load_skills()["hello"]  # the example skill, installed through its entry point
KINDS = ("502", "503", "slow", "secondary", "secondary-long", "primary", "token-expired")


@dataclass
class Seen:
    """One request as it reached the chaos layer, and what it was answered."""

    at: float  # wall clock, seconds
    method: str
    path: str
    delivery: str | None
    status: int = 0
    fault: str | None = None
    not_before: float | None = None  # rate limited: no retry of this request before this


@dataclass
class ChaosGitHub:
    """Answers about `rate` of the requests with one of KINDS instead of the fake."""

    fake: FakeGitHub
    rate: float
    seed: int
    slow_for: float
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.inner = self.fake.app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        record = Seen(
            time.time(),
            scope["method"],
            scope["path"].removeprefix("/api/v3"),
            headers.get("x-github-delivery"),
        )
        self.seen.append(record)
        kind = self.rng.choice(KINDS) if self.rng.random() < self.rate else None
        if kind == "token-expired":
            token = headers.get("authorization", "").partition(" ")[2]
            issued = self.fake.installation_tokens.get(token)
            # Only a token older than a second: a fresh one failing at once is no expiry.
            young = issued is None or issued.expires_at - fake_now() > timedelta(minutes=59.98)
            kind = None if young else kind
            if issued is not None and not young:
                self.fake.expire_token(token)
        record.fault = kind
        answer = await self._fault(kind, record)
        if answer is not None:
            record.status = answer.status_code
            await answer(scope, receive, send)
            return

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        await self.inner(scope, receive, recording_send)

    async def _fault(self, kind: str | None, record: Seen) -> Response | None:
        import asyncio

        if kind in ("502", "503"):
            return JSONResponse({"message": "Server Error"}, status_code=int(kind))
        if kind == "slow":
            await asyncio.sleep(self.slow_for)  # the client has given up by now
            return JSONResponse({"message": "Gateway Timeout"}, status_code=504)
        if kind in ("secondary", "secondary-long"):
            wait = 1 if kind == "secondary" else 4  # 4 s: more than a job may sleep
            record.not_before = record.at + wait
            return JSONResponse(
                {"message": "You have exceeded a secondary rate limit. Please wait."},
                status_code=403,
                headers={"retry-after": str(wait)},
            )
        if kind == "primary":
            reset = int(record.at) + 2
            record.not_before = float(reset)
            return JSONResponse(
                {"message": "API rate limit exceeded for installation ID 1."},
                status_code=403,
                headers={
                    "x-ratelimit-limit": "5000",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-used": "5000",
                    "x-ratelimit-reset": str(reset),
                },
            )
        return None


def early_retries(seen: list[Seen]) -> list[str]:
    """Requests repeated (same delivery, method and path) before their rate limit ended."""
    problems = []
    for index, limited in enumerate(seen):
        if limited.not_before is None:
            continue
        for later in seen[index + 1 :]:
            same = (later.delivery, later.method, later.path) == (
                limited.delivery,
                limited.method,
                limited.path,
            )
            if same and later.at < limited.not_before:
                problems.append(
                    f"{later.method} {later.path} for {later.delivery} at "
                    f"{later.at - limited.at:.3f}s, allowed after "
                    f"{limited.not_before - limited.at:.3f}s ({limited.fault})"
                )
    return problems


@dataclass
class Deployment:
    fake: FakeGitHub
    client: TestClient
    db_path: Path
    env: dict[str, str]

    def send(self, event: str, payload: dict[str, Any], delivery_id: str) -> int:
        body = json.dumps(payload).encode()
        return self.client.post(
            "/api/github/webhooks",
            content=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": delivery_id,
                "X-Hub-Signature-256": signature_for(body, WEBHOOK_SECRET),
                "Content-Type": "application/json",
            },
        ).status_code

    def statuses(self) -> dict[str, str]:
        with sqlite3.connect(self.db_path) as conn:
            return dict(conn.execute("SELECT id, status FROM deliveries").fetchall())

    def wait_until_finished(self, count: int, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.statuses()
            finished = [s for s in found.values() if s in ("done", "failed")]
            if len(found) >= count and len(finished) == len(found):
                return found
            if time.monotonic() > deadline:
                pending = Counter(found.values())
                raise AssertionError(f"deliveries still unfinished after {timeout}s: {pending}")
            time.sleep(0.2)

    def greetings(self) -> Counter[int]:
        bot = self.fake.app_identity.bot_login
        return Counter(
            c.issue_number for c in self.fake.repo(REPO).comments.values() if c.user == bot
        )


def make_fake() -> FakeGitHub:
    from ghapp.testing import test_key_pair

    _private, public = test_key_pair()
    fake = FakeGitHub(app_id=1, app_slug="ghapp-test", public_key_pem=public.encode())
    fake.add_installation(1, "octo-org", repositories=[REPO])
    return fake


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    fake = make_fake()
    with run_fake_github(fake) as url:
        env = {"GITHUB_URL": url}
        settings = test_settings(tmp_path, api_url=f"{url}/api/v3", env=env)
        options = RuntimeOptions(
            skills=[HELLO],
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.05, max_inline_wait=timedelta(seconds=2)),
            retry_delay=0.05,
            scheduler_tick=0,
            github_timeout=CLIENT_TIMEOUT,
        )
        with TestClient(create_app(settings, options, run_workers=True)) as client:
            yield Deployment(
                fake,
                client,
                tmp_path / "ghapp-test.db",
                {
                    "GITHUB_API_URL": f"{url}/api/v3",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'ghapp-test.db'}",
                },
            )


@pytest.mark.slow
def test_many_deliveries_with_a_tenth_of_github_failing_lose_nothing_and_act_once(
    tmp_path: Path,
) -> None:
    """Every acknowledged delivery ends done, each issue gets exactly one greeting, no
    rate-limited request is repeated before GitHub allowed it, and every kind of fault
    really happened (so the test could fail)."""
    fake = make_fake()
    chaos = ChaosGitHub(fake, FAULT_RATE, SEED, slow_for=CLIENT_TIMEOUT * 3)
    fake.app = chaos  # type: ignore[assignment]  # run_fake_github serves fake.app
    numbers = [fake.add_issue(REPO, f"Issue {n}", user="mona").number for n in range(DELIVERIES)]
    with run_fake_github(fake) as url:
        settings = test_settings(tmp_path, api_url=f"{url}/api/v3", env={"GITHUB_URL": url})
        options = RuntimeOptions(
            skills=[HELLO],
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.05, max_inline_wait=timedelta(seconds=2)),
            retry_delay=0.05,
            scheduler_tick=0,
            github_timeout=CLIENT_TIMEOUT,
        )
        with TestClient(create_app(settings, options, run_workers=True)) as client:
            site = Deployment(fake, client, tmp_path / "ghapp-test.db", {})
            for n, number in enumerate(numbers):
                payload = issues_event("opened", number=number, login="mona")
                assert site.send("issues", payload, f"chaos-{n}") == 202
            # A rate limit holds every request of the installation (all of these) until
            # GitHub's reset or retry-after (PRODUCT.md §5), so ~4% of requests
            # answered with one stall everything for 1-4 s each.
            statuses = site.wait_until_finished(DELIVERIES, timeout=120 + DELIVERIES * 0.6)
            metrics = client.get("/metrics").text

    assert Counter(statuses.values()) == {"done": DELIVERIES}
    greetings = site.greetings()
    assert {n: greetings[n] for n in numbers if greetings[n] != 1} == {}
    assert early_retries(chaos.seen) == []
    faults = Counter(s.fault for s in chaos.seen if s.fault)
    assert set(faults) == set(KINDS), faults
    assert sum(faults.values()) >= 0.05 * len(chaos.seen)
    assert fake.tokens_issued[1] > 1  # expired tokens were replaced
    assert f'ghapp_deliveries_total{{event="issues",outcome="done"}} {DELIVERIES}.0' in metrics


def test_a_delivery_github_keeps_refusing_is_recorded_failed_and_shown(
    deployment: Deployment,
) -> None:
    """Retries end: after the last attempt the delivery is `failed`, with the reason, in
    `ghapp deliveries --failed` and in `/metrics`; a healthy delivery beside it is done."""
    fake = deployment.fake
    doomed = fake.add_issue(REPO, "Doomed", user="mona").number
    fine = fake.add_issue(REPO, "Fine", user="mona").number
    fake.faults.append(Fault("POST", rf"/issues/{doomed}/comments$", 502, times=1000))
    runtime = deployment.client.app.state.runtime  # type: ignore[attr-defined]
    runtime.processor.max_attempts = 2
    assert deployment.send("issues", issues_event("opened", number=doomed), "doomed-1") == 202
    assert deployment.send("issues", issues_event("opened", number=fine), "fine-1") == 202
    assert deployment.wait_until_finished(2, timeout=30) == {
        "doomed-1": "failed",
        "fine-1": "done",
    }
    assert len(fake.requests_to("POST", rf"/issues/{doomed}/comments$")) == 2
    assert deployment.greetings() == {fine: 1}

    listing = subprocess.run(
        [sys.executable, "-m", "ghapp.cli", "deliveries", "--failed"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "APP_ID": "1",
            "PRIVATE_KEY": deployment.client.app.state.settings.private_key.get_secret_value(),  # type: ignore[attr-defined]
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            **deployment.env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "doomed-1" in listing and "failed" in listing and "gave up after 2" in listing
    assert "fine-1" not in listing
    metrics = deployment.client.get("/metrics").text
    assert 'ghapp_deliveries_total{event="issues",outcome="failed"} 1.0' in metrics
    assert re.search(r'ghapp_github_requests_total\{method="POST",status="502"\} 2\.0', metrics)


def test_a_token_expiring_while_github_is_flaky_still_gets_the_delivery_done(
    deployment: Deployment,
) -> None:
    """A 502 on the first try, then 401 on the retry because the token expired meanwhile:
    the token is replaced and the delivery is done, not failed."""
    fake = deployment.fake
    first = fake.add_issue(REPO, "First", user="mona").number
    assert deployment.send("issues", issues_event("opened", number=first), "warm-1") == 202
    deployment.wait_until_finished(1, timeout=30)
    second = fake.add_issue(REPO, "Second", user="mona").number
    fake.expire_all_tokens()
    fake.faults.append(Fault("GET", r"/contents/\.github/ghapp\.yml$", 502, times=1))
    assert deployment.send("issues", issues_event("opened", number=second), "flaky-1") == 202
    assert deployment.wait_until_finished(2, timeout=30)["flaky-1"] == "done"
    assert deployment.greetings() == {first: 1, second: 1}
    assert fake.tokens_issued[1] == 2


def test_a_primary_rate_limit_whose_reset_has_passed_is_retried_at_once(
    deployment: Deployment,
) -> None:
    """`x-ratelimit-reset` is whole seconds, so it is often already past when the answer
    arrives: the retry then comes promptly (githubkit would read a zero wait as "sleep
    60 s" inside the job)."""
    fake = deployment.fake
    number = fake.add_issue(REPO, "Reset passed", user="mona").number
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) - 1)}
    fake.faults.append(
        Fault(
            "GET",
            r"/contents/\.github/ghapp\.yml$",
            403,
            headers=headers,
            body={"message": "API rate limit exceeded"},
        )
    )
    started = time.monotonic()
    assert deployment.send("issues", issues_event("opened", number=number), "reset-1") == 202
    assert deployment.wait_until_finished(1, timeout=30) == {"reset-1": "done"}
    assert time.monotonic() - started < 10
    assert deployment.greetings() == {number: 1}
