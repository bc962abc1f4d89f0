"""Trust (issue 15, items 2, 3 and 9): setup mode belongs to whoever started the server.

Each test performs an attack from the issue against setup mode and fails if it works:
a client without the setup token registering its own App, a malicious page posting the
operator's form (CSRF), a `state` finished by another browser, and unauthenticated
clients filling the pending registrations. The operator's own flow keeps working
(tests/test_setup_mode.py, tests/test_setup_mode_browser.py).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit.cache import MemCacheStrategy

from ghapp.config import load_settings
from ghapp.runtime import RuntimeOptions
from ghapp.web.app import create_app
from ghapp.web.setup.access import SETUP_COOKIE
from ghapp.web.setup.registrations import MAX_PENDING, MAX_PER_BROWSER, PendingRegistrations
from tests.support.fake_github import FakeGitHub, generate_test_key, run_fake_github
from tests.support.ghapp_process import GhappProcess

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PUBLIC = "https://bot.example.org"
EVIL = "https://evil.example"


@pytest.fixture
def fake() -> FakeGitHub:
    _private, public = generate_test_key()
    return FakeGitHub(public_key_pem=public)


@pytest.fixture
def github_root(fake: FakeGitHub) -> Iterator[str]:
    with run_fake_github(fake) as root:
        yield root


@pytest.fixture
def app(tmp_path: Path, github_root: str):  # type: ignore[no-untyped-def]
    settings = load_settings(
        {
            "GITHUB_URL": github_root,
            "GITHUB_API_URL": github_root + "/api/v3",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ghapp.db'}",
            "GITHUB_PACING": "off",
            "LOG_FORMAT": "json",
        },
        env_file=tmp_path / ".env",
        workdir=tmp_path,
    )
    return create_app(settings, RuntimeOptions(cache_strategy=MemCacheStrategy()))


def token_of(app) -> str:  # type: ignore[no-untyped-def]
    return app.state.setup_services.token


def pending_of(app) -> PendingRegistrations:  # type: ignore[no-untyped-def]
    return app.state.setup_services.pending


@pytest.fixture
def operator(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The operator's browser: it opened the setup URL."""
    with TestClient(app, base_url=PUBLIC) as client:
        assert client.get(f"/setup?token={token_of(app)}").status_code == 200
        yield client


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/setup").text)
    assert found
    return found.group(1)


def post_form(
    client: TestClient, *, csrf: str | None, origin: str | None, base_url: str = PUBLIC
) -> httpx.Response:
    data = {"base_url": base_url, "target": "account"}
    if csrf is not None:
        data["csrf_token"] = csrf
    headers = {"origin": origin} if origin is not None else {}
    return client.post("/setup/register", data=data, headers=headers)


def approve(page: str) -> str:
    """GitHub's side of the manifest flow: the callback URL it sends the browser to."""
    action = re.search(r'<form id="to-github" method="post" action="([^"]+)"', page)
    manifest = re.search(r'name="manifest" value="([^"]+)"', page)
    assert action and manifest
    import html

    response = httpx.post(
        html.unescape(action.group(1)), data={"manifest": html.unescape(manifest.group(1))}
    )
    location = urlsplit(response.headers["location"])
    return f"{location.path}?{location.query}"


def nothing_written(tmp_path: Path, app, fake: FakeGitHub) -> bool:  # type: ignore[no-untyped-def]
    return not (tmp_path / ".env").exists() and len(pending_of(app)) == 0 and not fake.manifests


def test_without_the_setup_token_every_page_and_form_is_refused(
    app,
    fake: FakeGitHub,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    # The attacker reaches the server (0.0.0.0, a tunnel) but never saw the printed URL.
    with TestClient(app, base_url=PUBLIC) as attacker:
        for path in ("/", "/setup", "/setup?token=guess", "/setup?token="):
            response = attacker.get(path, follow_redirects=False)
            assert response.status_code == 403, path
            assert "ghapp run" in response.text and SETUP_COOKIE not in str(response.headers)
        # Registering its own App, with every header a same-site page would send.
        refused = post_form(attacker, csrf="anything", origin=PUBLIC, base_url=EVIL)
        assert refused.status_code == 403 and "to-github" not in refused.text
        callback = attacker.get("/setup/callback?code=abc&state=xyz")
        assert callback.status_code == 403
        # A cookie it made up, or one signed with another start's token.
        attacker.cookies.set(SETUP_COOKIE, "browser.0123abcd", domain="bot.example.org")
        assert attacker.get("/setup").status_code == 403
    assert nothing_written(tmp_path, app, fake)


def test_a_cross_site_page_cannot_post_the_operators_form(
    operator: TestClient,
    app,
    fake: FakeGitHub,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    csrf = csrf_of(operator)
    # The operator's browser carries the cookie; the malicious page has no CSRF token,
    # or a foreign Origin, or none at all.
    for token, origin in ((None, EVIL), (None, PUBLIC), ("forged", PUBLIC), (csrf, EVIL)):
        response = post_form(operator, csrf=token, origin=origin, base_url=EVIL)
        assert response.status_code == 403, (token, origin)
    assert post_form(operator, csrf=csrf, origin=None).status_code == 403
    assert post_form(operator, csrf=csrf, origin="null").status_code == 403
    assert nothing_written(tmp_path, app, fake)
    # The operator's own post (CSRF token and own Origin) goes to GitHub.
    assert "to-github" in post_form(operator, csrf=csrf, origin=PUBLIC).text


def test_a_state_only_finishes_in_the_browser_that_started_it(
    operator: TestClient,
    app,
    fake: FakeGitHub,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    page = post_form(operator, csrf=csrf_of(operator), origin=PUBLIC).text
    callback = approve(page)
    with TestClient(app, base_url=PUBLIC) as stranger:
        assert stranger.get(callback).status_code == 403  # no cookie at all
        # Even a second browser that opened the setup URL cannot finish it.
        stranger.get(f"/setup?token={token_of(app)}")
        refused = stranger.get(callback)
        assert refused.status_code == 400 and "another browser" in refused.text
    assert not (tmp_path / ".env").exists()
    assert fake.manifests  # the code was not exchanged
    done = operator.get(callback)
    assert done.status_code == 200 and "is registered" in done.text


def test_unauthenticated_clients_cannot_fill_or_evict_pending_registrations(
    operator: TestClient,
    app,  # type: ignore[no-untyped-def]
) -> None:
    page = post_form(operator, csrf=csrf_of(operator), origin=PUBLIC).text
    state = parse_qs(urlsplit(re.search(r'action="([^"]+)"', page).group(1)).query)["state"]
    with TestClient(app, base_url=PUBLIC) as attacker:
        for _ in range(MAX_PENDING + 20):
            post_form(attacker, csrf="x", origin=PUBLIC)
    assert len(pending_of(app)) == 1
    # A browser that has the token fills only its own share: its oldest go first, and
    # past the global bound new registrations are refused, never someone else's evicted.
    pending = pending_of(app)
    for n in range(MAX_PER_BROWSER * 3):
        pending.start(PUBLIC, None, False, browser="busy")
    assert sum(1 for p in pending._pending.values() if p.browser == "busy") == MAX_PER_BROWSER
    for n in range(MAX_PENDING):
        pending.start(PUBLIC, None, False, browser=f"b{n}")
    assert len(pending) == MAX_PENDING
    assert pending.start(PUBLIC, None, False, browser="late") is None
    operator_browser = next(p.browser for s, p in pending._pending.items() if s == state[0])
    assert pending.take(state[0], operator_browser) is not None


def test_a_public_url_on_another_host_continues_there(app) -> None:  # type: ignore[no-untyped-def]
    # Opened on localhost, registering a tunnel: the cookie would not reach the callback.
    with TestClient(app, base_url="http://localhost:3000") as local:
        local.get(f"/setup?token={token_of(app)}")
        response = post_form(
            local, csrf=csrf_of(local), origin="http://localhost:3000", base_url=PUBLIC
        )
    assert response.status_code == 409 and "to-github" not in response.text
    link = re.search(r'id="continue-at"|href="([^"]+)" id="continue-at"', response.text)
    assert link and f'href="{PUBLIC}/setup?token={token_of(app)}"' in response.text
    assert len(pending_of(app)) == 0


@pytest.mark.slow
def test_ghapp_run_prints_a_fresh_setup_url_once(tmp_path: Path, github_root: str) -> None:
    tokens = []
    for start in range(2):
        workdir = tmp_path / f"start-{start}"
        workdir.mkdir()
        process = GhappProcess(workdir, github_root, APP_ID="", LOG_LEVEL="debug").start()
        try:
            lines = [line for line in process.logs().splitlines() if "setup URL" in line]
            assert len(lines) == 1, process.logs()
            found = re.fullmatch(
                rf"setup URL: http://127\.0\.0\.1:{process.port}/setup\?token=([A-Za-z0-9_-]+)",
                lines[0],
            )
            assert found and len(found.group(1)) >= 32
            token = found.group(1)
            with httpx.Client(base_url=process.url, follow_redirects=True) as browser:
                assert browser.get("/").status_code == 403
                opened = browser.get(f"/setup?token={token}")
                assert opened.status_code == 200 and "Register" in opened.text
        finally:
            process.stop()
        assert process.logs().count(token) == 1  # printed once, never logged
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_a_webhook_secret_with_a_comma_from_github_is_not_saved_split(
    operator: TestClient, fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WEBHOOK_SECRET reads a comma as a separator: a secret GitHub returned with one is
    refused with advice, not written to `.env` to come back as two weaker secrets."""
    from tests.support.fake_github import server

    original = server.make_app_from_manifest

    def with_comma(*args, **kwargs):  # type: ignore[no-untyped-def]
        identity, pem = original(*args, **kwargs)
        identity.webhook_secret = "first-half,second-half"
        return identity, pem

    monkeypatch.setattr(server, "make_app_from_manifest", with_comma)
    page = post_form(operator, csrf=csrf_of(operator), origin=PUBLIC).text
    response = operator.get(approve(page))
    assert response.status_code == 502
    assert "comma" in response.text and "first-half" not in response.text
    assert not (tmp_path / ".env").exists()
