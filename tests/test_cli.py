"""`ghapp` commands: help, exit codes, receive --dry-run, deliveries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ghapp.cli import main
from ghapp.testing import WEBHOOK_SECRET, test_key_pair
from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.payloads import issues_event

COMMANDS = ["run", "worker", "receive", "manifest", "deliveries", "redeliver", "db", "doctor"]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS], ["db", "upgrade"]])
def test_every_command_explains_itself(command: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: ghapp" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["nonsense"], "ghapp: error: argument COMMAND: invalid choice: 'nonsense'"),
        (["receive"], "ghapp receive: error: the following arguments are required: event, file"),
        (
            ["deliveries", "--since", "soon"],
            "ghapp deliveries: error: argument --since: expected a duration like 30m, 1h or 2d",
        ),
    ],
    ids=["unknown-command", "missing-arguments", "bad-duration"],
)
def test_usage_errors_exit_2_and_say_what_is_wrong(
    argv: list[str], error: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert error in capsys.readouterr().err


def test_a_bad_value_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ghapp.cli", "deliveries"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "APP_ID": "twelve"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "ghapp: configuration error: APP_ID: must be the App's numeric id, got 'twelve'"
    ]


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_github: FakeGitHub):
    private, _ = test_key_pair()
    with run_fake_github(fake_github) as url:
        monkeypatch.chdir(tmp_path)
        for name, value in {
            "APP_ID": "1",
            "PRIVATE_KEY": private,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITHUB_API_URL": f"{url}/api/v3",
            "GITHUB_URL": url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "GITHUB_PACING": "off",
            "LOG_FORMAT": "json",
        }.items():
            monkeypatch.setenv(name, value)
        yield fake_github


def test_receive_dry_run_prints_the_requests_and_sends_no_write(
    configured: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    number = configured.add_issue("octo-org/hello", "Hi", user="mona").number
    payload_file = tmp_path / "opened.json"
    payload_file.write_text(json.dumps(issues_event("opened", number=number, login="mona")))
    assert main(["receive", "issues", str(payload_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        f"would send: POST /api/v3/repos/octo-org/hello/issues/{number}/comments "
        '{"body": "Hello @mona!"}' in out
    )
    assert "hello: ok" in out
    assert configured.requests_to("POST", r"/comments$") == []


def test_deliveries_lists_outcomes_per_skill(
    configured: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["deliveries", "--since", "1h"]) == 0
    assert "no deliveries" in capsys.readouterr().out

    import asyncio

    from ghapp.store import Database, Delivery, DeliveryStore, SkillRun
    from ghapp.store.database import utcnow

    async def seed() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        store = DeliveryStore(db)
        for delivery_id, status in (("ok-1", "done"), ("bad-1", "failed")):
            await store.record(
                Delivery(
                    delivery_id,
                    "issues",
                    "opened",
                    1,
                    "octo-org/hello",
                    None,
                    utcnow(),
                    "queued",
                    0,
                    b"{}",
                )
            )
            await store.record_run(delivery_id, SkillRun("hello", "ok", None, 1.0))
            await store.finish(delivery_id, status, "boom" if status == "failed" else None)
        await db.close()

    asyncio.run(seed())
    assert main(["deliveries", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "bad-1 issues.opened octo-org/hello failed hello=ok error=boom" in out
    assert "ok-1" not in out


def test_deliveries_shows_why_a_run_failed_and_what_to_do(
    configured: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import asyncio

    from ghapp.failures import INSTALLATION_LINK, FailureReason, invalid_options
    from ghapp.store import Database, Delivery, DeliveryStore, SkillRun
    from ghapp.store.database import utcnow

    refused = FailureReason(
        summary="GitHub refused POST /repos/octo-org/hello/labels (403)",
        request="POST /repos/octo-org/hello/labels",
        status=403,
        message="Resource not accessible by integration",
        next_step="An owner accepts the App's requested permissions.",
        link=INSTALLATION_LINK,
        link_text="Review the installation's permissions",
    )
    from ghapp.repo_config import Location, Problem

    invalid = invalid_options(
        "label-sync",
        [
            Problem(
                "label-sync.exclusive_scopes: Input should be a valid list",
                Location("o", "hello", ".github/ghapp.yml", None, 4, 3),
            )
        ],
        "o/hello",
    )

    async def seed() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        store = DeliveryStore(db)
        await store.record(
            Delivery("bad-2", "issues", "opened", 7, "o/hello", None, utcnow(), "queued", 0, b"{}")
        )
        await store.record_run("bad-2", SkillRun("hello", "error", refused.encode(), 1.0))
        await store.record_run("bad-2", SkillRun("label-sync", "skipped", invalid.encode(), 1.0))
        await store.finish("bad-2", "failed", "hello: " + refused.line())
        await db.close()

    assert main(["db", "upgrade"]) == 0
    asyncio.run(seed())
    assert main(["deliveries", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "bad-2 issues.opened o/hello failed hello=error label-sync=skipped\n" in out
    assert "GitHub said: Resource not accessible by integration" in out
    assert "Next: An owner accepts the App's requested permissions." in out
    assert "settings/installations/7" in out  # the page where permissions are accepted
    # The option, why, the line to fix and the link to that line.
    assert (
        "  label-sync: invalid .github/ghapp.yml section — label-sync.exclusive_scopes: Input "
        "should be a valid list (line 4) — Next: Fix line 4 of .github/ghapp.yml; the next "
        "event uses it.\n"
        "    Open line 4 of .github/ghapp.yml: http://127.0.0.1:"
    ) in out
    assert "/o/hello/blob/HEAD/.github/ghapp.yml#L4\n" in out  # on the configured GITHUB_URL
    assert "ghapp-reason" not in out  # never the stored form
