"""`ghapp doctor` against a fake GitHub on loopback: what it finds and what it advises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghapp.bus import load_skills
from ghapp.cli import main as cli_main
from ghapp.config import Settings
from ghapp.doctor import CheckResult, run_checks
from ghapp.manifest import build_manifest
from ghapp.testing import test_key_pair, test_settings
from tests.support.fake_github import FakeGitHub, other_test_key, run_fake_github

CLIENT = {"GITHUB_CLIENT_ID": "Iv1.fakeclientid", "GITHUB_CLIENT_SECRET": "fakeclientsecret"}


@pytest.fixture
def fake() -> FakeGitHub:
    _private, public = test_key_pair()
    fake = FakeGitHub(app_id=1, app_slug="ghapp-test", public_key_pem=public.encode())
    manifest = build_manifest(load_skills().values())
    fake.app_identity.permissions = dict(manifest["default_permissions"])
    fake.app_identity.events = list(manifest["default_events"])
    return fake


@pytest.fixture
def api_url(fake: FakeGitHub) -> Iterator[str]:
    with run_fake_github(fake) as root:
        yield root + "/api/v3"


def settings_for(tmp_path: Path, api_url: str, **env: str) -> Settings:
    return test_settings(tmp_path, api_url=api_url, env={**CLIENT, **env})


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def no_secrets(results: list[CheckResult], settings: Settings) -> None:
    text = "\n".join(r.line() for r in results)
    for secret in settings.secret_values:
        assert secret.strip() not in text
    assert "PRIVATE KEY-----" not in text


async def test_everything_configured(tmp_path: Path, api_url: str) -> None:
    settings = settings_for(tmp_path, api_url)
    results = await run_checks(settings)
    assert all(r.ok for r in results), [r.line() for r in results if not r.ok]
    checks = by_name(results)
    assert checks["app"].detail == "APP_ID 1"
    assert checks["private key"].detail == "RSA PEM key, 2048 bits"
    assert "authenticated as ghapp-test" in checks["GET /app"].detail
    assert checks["App permissions"].ok
    assert checks["webhook secret"].detail == "1 configured"
    assert checks["database"].detail == "sqlite+aiosqlite reachable"
    assert results[-1].line() == "ok   next: all set: start `ghapp run`, then install the App"
    no_secrets(results, settings)


async def test_key_of_another_app(tmp_path: Path, api_url: str) -> None:
    other_private, _public = other_test_key()
    settings = settings_for(tmp_path, api_url, PRIVATE_KEY=other_private.decode())
    results = await run_checks(settings)
    line = by_name(results)["GET /app"].line()
    assert line.startswith("FAIL GET /app: GitHub answered 401")
    assert "the key does not belong to App 1" in line
    assert "App permissions" not in by_name(results)
    assert results[-1].line() == "FAIL next: fix: GET /app — then run `ghapp doctor` again"
    no_secrets(results, settings)


async def test_unknown_app(tmp_path: Path, api_url: str) -> None:
    results = await run_checks(settings_for(tmp_path, api_url, APP_ID="4242"))
    line = by_name(results)["GET /app"].line()
    assert "401" in line and "App 4242" in line and "Check APP_ID" in line


async def test_app_lacking_permissions_and_events(
    tmp_path: Path, api_url: str, fake: FakeGitHub
) -> None:
    fake.app_identity.permissions = {"metadata": "read", "issues": "read"}
    fake.app_identity.events = ["issues"]
    results = await run_checks(settings_for(tmp_path, api_url))
    line = by_name(results)["App permissions"].line()
    assert line.startswith("FAIL App permissions: the installed skills need permissions")
    assert "issues: write" in line and "contents: write" in line
    assert "events " in line and "push" in line
    assert "/settings/apps/ghapp-test/permissions" in line


async def test_github_unreachable(tmp_path: Path) -> None:
    results = await run_checks(settings_for(tmp_path, "http://127.0.0.1:9/api/v3"))
    line = by_name(results)["GET /app"].line()
    assert line.startswith("FAIL GET /app: cannot reach http://127.0.0.1:9/api/v3")
    assert "check GITHUB_API_URL" in line


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql://ghapp:hunter2-db-password@127.0.0.1:9/ghapp",
    ],
)
async def test_database_unreachable(tmp_path: Path, api_url: str, database_url: str) -> None:
    results = await run_checks(settings_for(tmp_path, api_url, DATABASE_URL=database_url))
    line = by_name(results)["database"].line()
    assert line.startswith("FAIL database:")
    assert "check DATABASE_URL" in line
    assert "hunter2" not in line
    assert not results[-1].ok and "database" in results[-1].detail


async def test_missing_secrets(tmp_path: Path, api_url: str) -> None:
    settings = settings_for(tmp_path, api_url).model_copy(
        update={"webhook_secrets": (), "client_secret": None}
    )
    checks = by_name(await run_checks(settings))
    assert checks["webhook secret"].line() == (
        "FAIL webhook secret: WEBHOOK_SECRET is not set — set WEBHOOK_SECRET to the webhook "
        "secret on the App's settings page (setup mode writes it for you)"
    )
    assert (
        checks["settings sign-in"]
        .line()
        .startswith("FAIL settings sign-in: GITHUB_CLIENT_SECRET not set")
    )


async def test_setup_mode_says_where_to_register(tmp_path: Path) -> None:
    from ghapp.config import load_settings

    settings = load_settings(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PORT": "3456"},
        env_file=None,
        workdir=tmp_path,
    )
    results = await run_checks(settings)
    app = by_name(results)["app"].line()
    assert app.startswith("FAIL app: APP_ID is not set (setup mode)")
    assert "open http://127.0.0.1:3456/ and register the App" in app
    assert "GET /app" not in by_name(results)
    assert by_name(results)["credentials"].ok  # written by setup: not separate failures
    assert [r.name for r in results if not r.ok] == ["app", "next"]
    assert results[-1].line().startswith("FAIL next: finish setup first")


async def test_env_file_readable_by_others(tmp_path: Path, api_url: str) -> None:
    env = tmp_path / ".env"
    env.write_text("LOG_LEVEL=info\n")
    env.chmod(0o644)
    settings = settings_for(tmp_path, api_url).model_copy(update={"env_file": env})
    line = by_name(await run_checks(settings))[".env"].line()
    assert line.endswith(f"— run `chmod 600 {env}`")
    env.chmod(0o600)
    assert by_name(await run_checks(settings))[".env"].ok


def test_cli_doctor(
    tmp_path: Path,
    fake: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    private, _public = test_key_pair()
    monkeypatch.chdir(tmp_path)
    with run_fake_github(fake) as root:
        env = {
            "APP_ID": "1",
            "PRIVATE_KEY": private,
            "WEBHOOK_SECRET": "doctor-webhook-secret",
            "GITHUB_API_URL": root + "/api/v3",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            **CLIENT,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert cli_main(["doctor"]) == 0
        out = capsys.readouterr().out
        assert "ok   GET /app: authenticated as ghapp-test" in out
        assert "doctor-webhook-secret" not in out and "BEGIN" not in out

        # A configured App without its webhook secret: one clear line, exit 1.
        monkeypatch.delenv("WEBHOOK_SECRET")
        assert cli_main(["doctor"]) == 1
        out = capsys.readouterr().out
        assert out.startswith("FAIL configuration: WEBHOOK_SECRET: missing")
