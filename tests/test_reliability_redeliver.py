"""`ghapp redeliver --since 1h` against the fake GitHub's paginated delivery log.

GitHub's log lists every attempt (newest first, cursor-paginated, 100 a page at most).
Only deliveries none of whose attempts succeeded in the window, and that ghapp has not
stored itself, are asked for again — once each, for their latest attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ghapp.cli import main
from ghapp.store import Database, Delivery, DeliveryStore
from ghapp.store.database import utcnow
from ghapp.testing import WEBHOOK_SECRET, test_key_pair
from tests.support.fake_github import FakeGitHub, Fault, run_fake_github
from tests.support.fake_github.state import now


@pytest.fixture
def configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_github: FakeGitHub
) -> Iterator[FakeGitHub]:
    private, _ = test_key_pair()
    with run_fake_github(fake_github) as url:
        monkeypatch.chdir(tmp_path)
        for name, value in {
            "APP_ID": "1",
            "PRIVATE_KEY": private,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITHUB_API_URL": f"{url}/api/v3",
            "GITHUB_URL": url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'redeliver.db'}",
            "LOG_FORMAT": "json",
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["db", "upgrade"]) == 0
        yield fake_github


def store_processed(database: Path, ids: list[str]) -> None:
    async def seed() -> None:
        db = Database(f"sqlite+aiosqlite:///{database}")
        store = DeliveryStore(db)
        for delivery_id in ids:
            await store.record(
                Delivery(delivery_id, "issues", "opened", 1, None, None, utcnow(), "done", 1, b"{}")
            )
        await db.close()

    asyncio.run(seed())


def test_redeliver_asks_only_for_failed_deliveries_not_processed_here(
    configured: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Across three pages: ok deliveries, a failure later retried successfully, failures
    ghapp stored anyway and failures older than the window are left alone; every other
    failure is asked for exactly once, for its latest attempt. A second run asks for
    nothing new but the one redelivery request GitHub refused the first time."""
    fake = configured
    recent = now() - timedelta(minutes=30)
    fake.add_hook_delivery("too-old", "issues", "opened", 502, now() - timedelta(hours=2))
    expected: dict[str, int] = {}
    for n in range(230):  # 230 attempts: three pages of 100
        guid = f"ok-{n}"
        status = 200
        if n % 10 == 3:
            guid, status = f"lost-{n}", 502
        elif n % 10 == 7:
            guid, status = f"stored-{n}", 0  # timed out at GitHub, but ghapp stored it
        attempt = fake.add_hook_delivery(guid, "issues", "opened", status, recent)
        if guid.startswith("lost-"):
            expected[guid] = attempt
    # A delivery that failed twice is asked for once, for its latest attempt.
    fake.add_hook_delivery("lost-3", "issues", "opened", 503, recent + timedelta(minutes=1))
    expected["lost-3"] = max(fake.hook_deliveries)
    # A failure GitHub's own automatic retry later delivered.
    fake.add_hook_delivery("healed", "issues", "opened", 502, recent)
    fake.add_hook_delivery("healed", "issues", "opened", 200, recent + timedelta(minutes=2))
    store_processed(tmp_path / "redeliver.db", [f"stored-{n}" for n in range(7, 230, 10)])
    fake.faults.append(Fault("GET", r"^/app/hook/deliveries$", 502, times=1))  # one bad page
    refused = expected["lost-13"]
    fake.faults.append(Fault("POST", rf"^/app/hook/deliveries/{refused}/attempts$", 502))

    assert main(["redeliver", "--since", "1h"]) == 1  # one request failed: exit 1, said so
    out = capsys.readouterr().out
    assert sorted(fake.redelivery_requests) == sorted(v for v in expected.values() if v != refused)
    pages = fake.requests_to("GET", r"^/app/hook/deliveries$")
    assert len({r.query.get("cursor") for r in pages}) >= 3  # it followed the cursor
    assert "error: lost-13" in out
    assert "already processed here: stored-7" in out
    assert "too-old" not in out and "healed" not in out

    assert main(["redeliver", "--since", "1h"]) == 0
    assert sorted(fake.redelivery_requests) == sorted(expected.values())
    assert fake.redelivery_requests.count(refused) == 1
