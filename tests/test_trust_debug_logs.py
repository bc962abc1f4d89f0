"""Trust (issue 15, items 7 and 10): `LOG_LEVEL=debug` prints no secret and no callback
query string.

`ghapp run` as a real process on SQLite with debug logs and no SESSION_SECRET (so the
session secret is generated): a delivery mints an installation token, a person signs in
through the OAuth web flow (their token sealed into the database). Then the log is
searched for everything an attacker reading it could use: the generated session secret,
every value the sessions table holds (sealed token, CSRF token, session id hash), the
tokens GitHub issued, the OAuth code and state, and any query string of a callback.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ghapp.logs import configure_logging
from ghapp.testing import WEBHOOK_SECRET
from ghapp.web.session_secret import SECRET_FILE
from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.ghapp_process import GhappProcess, wait_for
from tests.support.payloads import issues_event

CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fakeclientsecret"
REPO = "octo-org/hello"


@pytest.mark.slow
def test_debug_logs_hold_no_secret_and_no_callback_query(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake = fake_github
    fake.add_user("owner", org_roles={"octo-org": "admin"})
    with run_fake_github(fake) as github_url:
        app = GhappProcess(
            tmp_path,
            github_url,
            LOG_LEVEL="debug",
            GITHUB_CLIENT_ID=CLIENT_ID,
            GITHUB_CLIENT_SECRET=CLIENT_SECRET,
        ).start()
        try:
            number = fake.add_issue(REPO, "First", user="mona").number
            assert app.send("issues", issues_event("opened", number=number)).status_code == 202
            wait_for(lambda: len(fake.requests_to("POST", rf"/issues/{number}/comments$")) == 1)
            with httpx.Client(base_url=app.url, timeout=10) as browser:
                fake.browser_user = "owner"
                start = browser.get("/settings/login", follow_redirects=False)
                authorize = httpx.get(start.headers["location"], follow_redirects=False)
                back = urlsplit(authorize.headers["location"])
                callback = parse_qs(back.query)
                done = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
                assert done.status_code == 303, done.text
                assert browser.get("/settings").status_code == 200
        finally:
            app.stop()
    logs = app.logs()
    assert '"level": "debug"' in logs  # debug logging was on
    assert "GET /settings/auth/callback" in logs  # the access log was on

    session_secret = (tmp_path / SECRET_FILE).read_text().strip()
    with sqlite3.connect(tmp_path / "ghapp.db") as conn:
        stored_session = [v for v in conn.execute("SELECT * FROM web_sessions").fetchone()]
    secrets = {
        "generated session secret": [session_secret],
        "stored session values": [v for v in stored_session if isinstance(v, str) and len(v) > 8],
        "webhook secret": [WEBHOOK_SECRET],
        "client secret": [CLIENT_SECRET],
        "installation token": list(fake.installation_tokens),
        "user token": list(fake.user_tokens),
        "oauth code and state": [callback["code"][0], callback["state"][0]],
    }
    assert secrets["stored session values"]
    leaks = {
        (name, value[:10] + "…")
        for name, values in secrets.items()
        for value in values
        if value in logs
    }
    assert leaks == set()
    assert "callback?" not in logs and "code=" not in logs and "state=" not in logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_library_loggers_stay_quiet_and_the_access_log_drops_queries(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("debug", "json")
    for name in ("aiosqlite", "sqlalchemy.engine.Engine", "asyncpg", "httpx", "httpcore"):
        logging.getLogger(name).debug("executing with parameters ('library-param-value',)")
        logging.getLogger(name).info("HTTP Request: GET https://x/?library-param-value")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/setup?token=the-setup-token-value",
        "1.1",
        200,
    )
    logging.getLogger("ghapp.test").debug("ghapp's own debug line")
    err = capsys.readouterr().err
    assert "library-param-value" not in err
    assert "the-setup-token-value" not in err and "GET /setup HTTP/1.1" in err
    assert "ghapp's own debug line" in err


def _access_line(method: str, path: str, status: int) -> None:
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", method, path, "1.1", status
    )


def test_the_access_log_leaves_out_accepted_deliveries_only(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """Issue 17: no access line for a webhook POST answered 2xx (the worker logs the
    delivery); refusals, other methods and other paths keep theirs, without queries."""
    configure_logging("info", "json", webhook_path="/api/github/webhooks")
    _access_line("POST", "/api/github/webhooks", 202)
    _access_line("POST", "/api/github/webhooks?delivery=quiet-query", 200)
    _access_line("POST", "/api/github/webhooks", 401)
    _access_line("POST", "/api/github/webhooks", 413)
    _access_line("GET", "/api/github/webhooks", 200)
    _access_line("POST", "/settings/switches", 204)
    err = capsys.readouterr().err
    lines = [json.loads(line)["msg"] for line in err.splitlines()]
    assert lines == [
        '127.0.0.1:5000 - "POST /api/github/webhooks HTTP/1.1" 401',
        '127.0.0.1:5000 - "POST /api/github/webhooks HTTP/1.1" 413',
        '127.0.0.1:5000 - "GET /api/github/webhooks HTTP/1.1" 200',
        '127.0.0.1:5000 - "POST /settings/switches HTTP/1.1" 204',
    ]


def test_without_a_webhook_path_every_access_line_stays(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("info", "json", webhook_path="/hooks")
    configure_logging("info", "json")  # configured again: the earlier filter is replaced
    _access_line("POST", "/hooks", 202)
    lines = [json.loads(line)["msg"] for line in capsys.readouterr().err.splitlines()]
    assert lines == ['127.0.0.1:5000 - "POST /hooks HTTP/1.1" 202']
