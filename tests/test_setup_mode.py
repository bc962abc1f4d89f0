"""Setup mode without a browser: the pages, `state`, the code exchange, `.env`, activation.

A fake GitHub runs on loopback; ghapp runs in Starlette's TestClient (with its lifespan),
so the code exchange and the configured App's first requests are real HTTP.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from githubkit.cache import MemCacheStrategy

from ghapp.config import Settings, load_settings
from ghapp.logs import SecretScrubber
from ghapp.runtime import RuntimeOptions
from ghapp.testing import signature_for
from ghapp.web.app import create_app
from ghapp.web.setup.registrations import PendingRegistrations
from tests.support.fake_github import FakeGitHub, generate_test_key, run_fake_github

with warnings.catch_warnings():  # Starlette's TestClient nags about httpx at import
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ENV_NAMES = ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")


@pytest.fixture
def fake() -> FakeGitHub:
    _private, public = generate_test_key()
    return FakeGitHub(public_key_pem=public)


@pytest.fixture
def github_root(fake: FakeGitHub) -> Iterator[str]:
    with run_fake_github(fake) as root:
        yield root


def setup_settings(tmp_path: Path, github_root: str, **extra: str) -> Settings:
    """Unconfigured settings (no APP_ID) whose `.env` is `tmp_path/.env`."""
    values = {
        "GITHUB_URL": github_root,
        "GITHUB_API_URL": github_root + "/api/v3",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ghapp.db'}",
        "GITHUB_PACING": "off",
        "LOG_FORMAT": "json",
        **extra,
    }
    return load_settings(values, env_file=tmp_path / ".env", workdir=tmp_path)


PUBLIC = "https://bot.example.org"


def open_setup(client: TestClient) -> TestClient:
    """What the operator does first: open the setup URL `ghapp run` printed."""
    token = client.app.state.setup_services.token  # type: ignore[attr-defined]
    opened = client.get(f"/setup?token={token}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/setup"
    return client


@pytest.fixture
def client(tmp_path: Path, github_root: str) -> Iterator[TestClient]:
    """A browser at the public URL that opened the setup URL (it has the cookie)."""
    app = create_app(
        setup_settings(tmp_path, github_root),
        RuntimeOptions(cache_strategy=MemCacheStrategy(), scheduler_tick=3600),
    )
    with TestClient(app, base_url=PUBLIC) as test_client:
        yield open_setup(test_client)


def form_post(client: TestClient, data: dict[str, str]) -> httpx.Response:
    """Post the registration form as the browser does: its CSRF token, its own Origin."""
    page = client.get("/setup").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return client.post(
        "/setup/register",
        data={"csrf_token": found.group(1), **data},
        headers={"origin": str(client.base_url).rstrip("/")},
    )


def github_form(page: str) -> tuple[str, dict[str, Any]]:
    """The action URL and the manifest of the form that goes to GitHub."""
    action = re.search(r'<form id="to-github" method="post" action="([^"]+)"', page)
    manifest = re.search(r'name="manifest" value="([^"]+)"', page)
    assert action and manifest, page
    return html.unescape(action.group(1)), json.loads(html.unescape(manifest.group(1)))


def register(client: TestClient, **fields: str) -> tuple[str, dict[str, Any]]:
    data = {"base_url": PUBLIC, "target": "account", **fields}
    response = form_post(client, data)
    assert response.status_code == 200, response.text
    return github_form(response.text)


def approve_on_github(action: str, manifest: dict[str, Any]) -> str:
    """What the browser does on GitHub: post the manifest, follow back (returns the URL)."""
    response = httpx.post(action, data={"manifest": json.dumps(manifest)})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def callback_path(location: str) -> str:
    parts = httpx.URL(location)
    assert parts.path == "/setup/callback"
    return f"{parts.path}?{parts.query.decode()}"


def signed_post(client: TestClient, secret: str, event: str = "star") -> httpx.Response:
    body = json.dumps({"action": "created", "installation": {"id": 1}}).encode()
    return client.post(
        "/api/github/webhooks",
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": event,
            "x-github-delivery": f"d-{secret[:6]}",
            "x-hub-signature-256": signature_for(body, secret),
        },
    )


# -- the first page -------------------------------------------------------------------------


def test_index_explains_and_offers_both_registrations(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert "Register for my account" in page
    assert "Register for an organization" in page
    assert 'name="organization"' in page
    # No BASE_URL: the request's own base is the default public URL.
    assert f'name="base_url" value="{PUBLIC}"' in page
    # What the App will ask for is shown before anyone goes to GitHub.
    assert "<td>metadata</td><td>read</td>" in page
    assert response.headers["cache-control"] == "no-store"


def test_index_defaults_to_base_url(tmp_path: Path, github_root: str) -> None:
    settings = setup_settings(tmp_path, github_root, BASE_URL="https://public.example.net/")
    with TestClient(create_app(settings)) as test_client:
        page = open_setup(test_client).get("/").text
    assert 'name="base_url" value="https://public.example.net"' in page


# -- registering ----------------------------------------------------------------------------


def test_register_for_account_posts_manifest_with_state(
    client: TestClient, github_root: str
) -> None:
    action, manifest = register(client, app_name="my-bot")
    url = httpx.URL(action)
    assert str(url.copy_with(query=None)) == f"{github_root}/settings/apps/new"
    assert len(url.params["state"]) >= 32
    assert manifest["name"] == "my-bot"
    assert manifest["hook_attributes"]["url"] == "https://bot.example.org/api/github/webhooks"
    assert manifest["redirect_url"] == "https://bot.example.org/setup/callback"
    assert manifest["callback_urls"] == ["https://bot.example.org/settings/auth/callback"]
    assert manifest["setup_url"] == "https://bot.example.org/settings/installed"
    assert manifest["public"] is False
    # Every registration gets its own state.
    other, _ = register(client)
    assert httpx.URL(other).params["state"] != url.params["state"]


def test_register_for_organization_posts_to_its_url(client: TestClient, github_root: str) -> None:
    action, _ = register(client, target="organization", organization="octo-org")
    assert action.startswith(f"{github_root}/organizations/octo-org/settings/apps/new?state=")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"base_url": "ftp://bot.example.org"}, "must be an http"),
        ({"base_url": "not a url"}, "must be an http"),
        ({"target": "organization", "organization": ""}, "organization"),
        ({"target": "organization", "organization": "bad/org"}, "organization"),
        ({"target": "organization", "organization": "-dash"}, "organization"),
    ],
)
def test_register_refuses_bad_input(
    client: TestClient, fields: dict[str, str], problem: str
) -> None:
    data = {"base_url": PUBLIC, "target": "account", **fields}
    response = form_post(client, data)
    assert response.status_code == 400
    assert problem in response.text
    assert "to-github" not in response.text


# -- the callback ---------------------------------------------------------------------------


def test_whole_flow_writes_env_and_serves_at_once(
    client: TestClient, fake: FakeGitHub, tmp_path: Path, github_root: str
) -> None:
    env = tmp_path / ".env"
    assert signed_post(client, "anything").status_code == 503  # setup mode: not served yet
    action, manifest = register(client, target="organization", organization="octo-org")
    location = approve_on_github(action, manifest)
    assert location.startswith("https://bot.example.org/setup/callback?")
    scrubber = SecretScrubber()
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(scrubber)
    logging.getLogger().addHandler(handler)
    try:
        response = client.get(callback_path(location))
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 200, response.text

    (identity,) = [a for a in fake.apps.values() if a.slug == "ghapp"]
    assert identity.owner == "octo-org"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    saved = load_settings({}, env_file=env, workdir=tmp_path)
    assert saved.app_id == identity.app_id
    assert [s.get_secret_value() for s in saved.webhook_secrets] == [identity.webhook_secret]
    assert saved.client_id == identity.client_id
    assert saved.client_secret and saved.client_secret.get_secret_value() == identity.client_secret
    assert saved.private_key and "PRIVATE KEY" in saved.private_key.get_secret_value()
    text = env.read_text()
    assert all(re.search(rf"^{name}=", text, re.M) for name in ENV_NAMES)

    page = response.text
    assert f"{github_root}/apps/ghapp/installations/new" in page
    for secret in (
        identity.webhook_secret,
        identity.client_secret,
        saved.private_key.get_secret_value(),
    ):
        assert secret and secret.strip() not in page
        assert secret in scrubber.secrets  # the log scrubber now knows the new secrets
    assert "BEGIN" not in page

    # Configured in place: the new secret is accepted, any other refused, setup is gone.
    assert identity.webhook_secret
    assert signed_post(client, identity.webhook_secret).status_code == 202
    assert signed_post(client, "some-other-secret").status_code == 401
    assert client.get("/").status_code == 404
    assert client.get(callback_path(location)).status_code == 404
    assert client.post("/setup/register", data={"base_url": "https://x.org"}).status_code == 404
    assert client.get("/readyz").json() == {"status": "ready"}


def test_wrong_or_reused_state_is_refused(
    client: TestClient, fake: FakeGitHub, tmp_path: Path
) -> None:
    action, manifest = register(client)
    location = approve_on_github(action, manifest)
    code = httpx.URL(location).params["code"]
    for query in (f"code={code}&state=forged", f"code={code}"):
        response = client.get(f"/setup/callback?{query}")
        assert response.status_code == 400
        assert "not valid" in response.text
    assert not (tmp_path / ".env").exists()
    assert fake.manifests  # the code was not exchanged
    # The right state works once; a replay of the same link is refused.
    assert client.get(callback_path(location)).status_code == 200


def test_state_is_used_once_and_expires() -> None:
    now = [1000.0]
    pending = PendingRegistrations(ttl=60, clock=lambda: now[0])
    first = pending.start("https://a.example", None, replace=False)
    second = pending.start("https://b.example", "octo-org", replace=False)
    assert first != second
    found = pending.take(first)
    assert found is not None and found.base_url == "https://a.example"
    assert pending.take(first) is None
    now[0] += 61
    assert pending.take(second) is None


def test_code_github_refuses_shows_error_and_writes_nothing(
    client: TestClient, fake: FakeGitHub, tmp_path: Path
) -> None:
    action, manifest = register(client)
    location = approve_on_github(action, manifest)
    fake.manifests.clear()  # the code expired on GitHub's side
    response = client.get(callback_path(location))
    assert response.status_code == 502
    assert "did not accept" in response.text
    assert not (tmp_path / ".env").exists()
    assert client.get("/").status_code == 200  # still in setup mode: try again


def test_existing_app_is_replaced_only_when_confirmed(
    client: TestClient, fake: FakeGitHub, tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    # Written after start (another setup, or by hand): this process is still in setup mode.
    env.write_text("# mine\nAPP_ID=99\nLOG_LEVEL=debug\n")
    page = client.get("/").text
    assert "already names App 99" in page
    refused = form_post(client, {"base_url": PUBLIC, "target": "account"})
    assert refused.status_code == 409
    assert "to-github" not in refused.text

    action, manifest = register(client, replace="yes")
    response = client.get(callback_path(approve_on_github(action, manifest)))
    assert response.status_code == 200, response.text
    text = env.read_text()
    assert "APP_ID=99" not in text
    assert text.startswith("# mine\nLOG_LEVEL=debug\n")
    assert load_settings({}, env_file=env, workdir=tmp_path).log_level == "debug"


def test_app_written_during_the_round_trip_is_not_overwritten(
    client: TestClient, fake: FakeGitHub, tmp_path: Path
) -> None:
    action, manifest = register(client)
    location = approve_on_github(action, manifest)
    (tmp_path / ".env").write_text("APP_ID=77\n")
    response = client.get(callback_path(location))
    assert response.status_code == 409
    assert (tmp_path / ".env").read_text() == "APP_ID=77\n"
    assert fake.manifests  # not exchanged: the code stays usable for a confirmed retry


def test_configured_server_has_no_setup_routes(tmp_path: Path, github_root: str) -> None:
    private, _public = generate_test_key()
    settings = setup_settings(
        tmp_path, github_root, APP_ID="1", PRIVATE_KEY=private.decode(), WEBHOOK_SECRET="s3cret"
    )
    with TestClient(create_app(settings, RuntimeOptions(cache_strategy=MemCacheStrategy()))) as c:
        assert c.get("/").status_code == 404
        assert c.get("/setup").status_code == 404
        assert c.get("/setup/callback?code=x&state=y").status_code == 404
        assert c.post("/setup/register", data={}).status_code == 404
