"""Trust (issue 15, item 8): the database alone never unseals people's GitHub tokens.

With SESSION_SECRET unset, the secret that derives the sealing key is generated once and
kept in a 0600 file beside `.env`, not in the database; one an older ghapp kept in the
database moves to that file (people stay signed in) and leaves the database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from githubkit.cache import MemCacheStrategy
from starlette.testclient import TestClient

from ghapp.config import Settings, load_settings
from ghapp.runtime import RuntimeOptions
from ghapp.store import AppValues, Database
from ghapp.testing import WEBHOOK_SECRET, test_key_pair
from ghapp.web.app import create_app
from ghapp.web.session_secret import (
    SECRET_FILE,
    load_session_secret,
    read_or_create_secret_file,
)
from ghapp.web.sessions import SessionKeys
from tests.support.fake_github import FakeGitHub, run_fake_github

CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fakeclientsecret"


def make_fake() -> FakeGitHub:
    _private, public = test_key_pair()
    fake = FakeGitHub(
        app_id=1,
        app_slug="ghapp-test",
        public_key_pem=public.encode(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    fake.add_installation(1, "octo-org", repositories=["octo-org/hello"])
    fake.add_user("owner", org_roles={"octo-org": "admin"})
    return fake


def settings_with_env_file(tmp_path: Path, github_url: str) -> Settings:
    private, _public = test_key_pair()
    values = {
        "APP_ID": "1",
        "PRIVATE_KEY": private,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": f"{github_url}/api/v3",
        "GITHUB_URL": github_url,
        "GITHUB_CLIENT_ID": CLIENT_ID,
        "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ghapp.db'}",
        "GITHUB_PACING": "off",
        "LOG_FORMAT": "json",
    }
    return load_settings(values, env_file=tmp_path / ".env", workdir=tmp_path)


def sign_in(client: TestClient, fake: FakeGitHub) -> None:
    fake.browser_user = "owner"
    start = client.get("/settings/login", follow_redirects=False)
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(authorize.headers["location"])
    done = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 303, done.text


def every_text_in(db_path: Path) -> list[str]:
    """Every text value in every table: what someone holding the database file has."""
    found: list[str] = []
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                found += [value for value in row if isinstance(value, str)]
    return found


def test_the_database_alone_does_not_unseal_a_signed_in_persons_token(tmp_path: Path) -> None:
    fake = make_fake()
    with run_fake_github(fake) as github_url:
        settings = settings_with_env_file(tmp_path, github_url)
        app = create_app(settings, RuntimeOptions(cache_strategy=MemCacheStrategy()))
        with TestClient(app) as client:
            sign_in(client, fake)
            assert "Signed in as" in client.get("/settings").text

    (token,) = list(fake.user_tokens)
    with sqlite3.connect(tmp_path / "ghapp.db") as conn:
        (sealed,) = conn.execute("SELECT token FROM web_sessions").fetchone()
    # The attack: try every value the database holds as the session secret.
    for candidate in every_text_in(tmp_path / "ghapp.db"):
        assert SessionKeys(candidate).unseal(sealed) != token
    # The secret is in the file beside .env, readable by its owner only.
    secret_file = tmp_path / SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert SessionKeys(secret_file.read_text().strip()).unseal(sealed) == token


async def test_a_secret_kept_in_the_database_moves_to_the_file(tmp_path: Path) -> None:
    settings = settings_with_env_file(tmp_path, "http://127.0.0.1:9")
    db = Database(settings.database_url)
    await db.upgrade()
    values = AppValues(db)
    try:
        legacy = await values.get_or_create("session_secret", lambda: "legacy-secret-0123456789")
        assert await load_session_secret(settings, values) == legacy
        assert await values.get("session_secret") is None  # gone from the database
        assert (tmp_path / SECRET_FILE).read_text().strip() == legacy
        # Every later start reads the file.
        assert await load_session_secret(settings, values) == legacy
    finally:
        await db.close()
    assert legacy not in every_text_in(tmp_path / "ghapp.db")


async def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    found = await asyncio.gather(
        *(asyncio.to_thread(read_or_create_secret_file, path, f"secret-{n}") for n in range(8))
    )
    assert len(set(found)) == 1
    assert path.read_text().strip() == found[0]
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]  # no temporary file left
