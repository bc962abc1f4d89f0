"""The whole setup flow in a real browser: Debian's chromium through Playwright.

ghapp (setup mode) and a fake GitHub both run under uvicorn on 127.0.0.1. The browser opens
`/`, clicks register, lands on the fake GitHub, which redirects back with a code; then
ghapp must answer webhooks signed with the new secret, with no restart.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from githubkit.cache import MemCacheStrategy
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ghapp.config import load_settings
from ghapp.runtime import RuntimeOptions
from ghapp.testing import signature_for
from ghapp.web.app import create_app
from tests import browser
from tests.support.fake_github import FakeGitHub, generate_test_key, run_fake_github

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
chromium_browser = browser.chromium_browser  # the shared fixture, under its own name


@pytest.fixture
def fake() -> FakeGitHub:
    _private, public = generate_test_key()
    fake = FakeGitHub(public_key_pem=public)
    fake.browser_user = "mona"
    return fake


@pytest.fixture
def servers(tmp_path: Path, fake: FakeGitHub) -> Iterator[tuple[str, str, str]]:
    """(ghapp URL, fake GitHub URL, setup URL), ghapp in setup mode writing `tmp_path/.env`;
    the setup URL is the one `ghapp run` prints, with this start's token."""
    with run_fake_github(fake) as github:
        settings = load_settings(
            {
                "GITHUB_URL": github,
                "GITHUB_API_URL": github + "/api/v3",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'ghapp.db'}",
                "GITHUB_PACING": "off",
                "LOG_FORMAT": "json",
            },
            env_file=tmp_path / ".env",
            workdir=tmp_path,
        )
        app = create_app(settings, RuntimeOptions(cache_strategy=MemCacheStrategy()))
        with browser.serve_app(app) as ghapp:
            yield ghapp, github, f"{ghapp}/setup?token={app.state.setup_services.token}"


def post_webhook(base: str, secret: str) -> int:
    body = json.dumps({"action": "created", "installation": {"id": 1}}).encode()
    response = httpx.post(
        base + "/api/github/webhooks",
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "star",
            "x-github-delivery": f"browser-{secret[:8]}-{time.monotonic_ns()}",
            "x-hub-signature-256": signature_for(body, secret),
        },
    )
    return response.status_code


def test_register_in_browser_then_webhooks_use_new_secret(
    chromium_browser: Browser, servers: tuple[str, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    ghapp, github, setup_url = servers
    assert post_webhook(ghapp, "not-configured-yet") == 503
    page = chromium_browser.new_page()
    page.goto(setup_url)
    assert page.url == ghapp + "/setup"  # the token left the address bar
    assert page.locator("h1").inner_text() == "Register ghapp as a GitHub App"
    # The request's own base is offered as the public URL: GitHub must call back here.
    assert page.locator("#base_url").input_value() == ghapp
    page.fill("#app_name", "ghapp-browser")
    page.screenshot(path=str(browser.screenshot_path("setup-mode.png")), full_page=True)

    # Register → the JS auto-submits the manifest to the fake GitHub → 302 back with a code.
    with page.expect_navigation(url="**/setup/callback?**", timeout=20_000):
        page.click("text=Register for my account")
    page.wait_for_load_state()
    assert "is registered" in page.locator("h1").inner_text()
    page.screenshot(path=str(browser.screenshot_path("setup-done.png")), full_page=True)

    (identity,) = [a for a in fake.apps.values() if a.slug == "ghapp-browser"]
    assert identity.owner == "mona"
    install = page.locator("a", has_text="Install ghapp-browser")
    assert install.get_attribute("href") == f"{github}/apps/ghapp-browser/installations/new"
    content = page.content()
    assert identity.webhook_secret and identity.webhook_secret not in content
    assert identity.client_secret not in content

    env = tmp_path / ".env"
    assert stat.S_IMODE(os.stat(env).st_mode) == 0o600
    saved = load_settings({}, env_file=env, workdir=tmp_path)
    assert saved.app_id == identity.app_id
    assert [s.get_secret_value() for s in saved.webhook_secrets] == [identity.webhook_secret]
    assert saved.client_secret is not None
    assert (saved.client_id, saved.client_secret.get_secret_value()) == (
        identity.client_id,
        identity.client_secret,
    )

    # Same server, no restart: the new secret is accepted, another one refused.
    assert post_webhook(ghapp, identity.webhook_secret) == 202
    assert post_webhook(ghapp, "another-secret") == 401
    assert httpx.get(ghapp + "/").status_code == 404

    install_page = chromium_browser.new_page()
    install_page.goto(install.get_attribute("href"))
    assert install_page.locator("h1").inner_text() == "Install ghapp-browser"


def test_organization_registration_without_javascript(
    chromium_browser: Browser, servers: tuple[str, str, str], fake: FakeGitHub
) -> None:
    _ghapp, github, setup_url = servers
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(setup_url)
    page.fill("#organization", "octo-org")
    page.click("text=Register for an organization")
    # Without JavaScript the hand-over page waits for a click.
    form = page.locator("form#to-github")
    assert form.get_attribute("action").startswith(
        f"{github}/organizations/octo-org/settings/apps/new?state="
    )
    with page.expect_navigation(url="**/setup/callback?**"):
        page.click("text=Continue to GitHub")
    assert "is registered" in page.locator("h1").inner_text()
    (identity,) = [a for a in fake.apps.values() if a.slug == "ghapp"]
    assert identity.owner == "octo-org"
    (request,) = fake.requests_to("POST", r"/organizations/octo-org/settings/apps/new")
    assert request is not None
    context.close()


def test_forged_state_is_refused_in_browser(
    chromium_browser: Browser, servers: tuple[str, str, str], tmp_path: Path
) -> None:
    ghapp, _github, setup_url = servers
    page = chromium_browser.new_page()
    # Without the setup URL's cookie: locked.
    response = page.goto(ghapp + "/setup/callback?code=abc123&state=forged")
    assert response is not None and response.status == 403
    assert "locked" in page.locator("h1").inner_text()
    # With it, a state this browser never started is still refused.
    page.goto(setup_url)
    response = page.goto(ghapp + "/setup/callback?code=abc123&state=forged")
    assert response is not None and response.status == 400
    assert "not valid" in page.locator("h1").inner_text()
    assert not (tmp_path / ".env").exists()


def test_a_page_on_another_site_cannot_register_through_the_operators_browser(
    chromium_browser: Browser, servers: tuple[str, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    """Setup CSRF (issue 15, item 3): the operator opened the setup URL; a malicious page
    on another origin auto-posts the registration form with its own public URL."""
    ghapp, _github, setup_url = servers
    context = chromium_browser.new_context()
    page = context.new_page()
    page.goto(setup_url)
    # Another origin (another port: same site, so the Lax cookie does go along).
    form = f"""<form id="f" method="post" action="{ghapp}/setup/register">
      <input name="base_url" value="https://evil.example">
      <input name="target" value="account"></form>
      <script>document.getElementById("f").submit()</script>"""

    async def evil_page(_request: Any) -> HTMLResponse:
        return HTMLResponse(form)

    with browser.serve_app(Starlette(routes=[Route("/", evil_page)])) as evil_url:
        with page.expect_navigation(url=f"{ghapp}/setup/register"):
            page.goto(evil_url)
        assert "locked" in page.locator("h1").inner_text()
    assert not fake.manifests and not (tmp_path / ".env").exists()
    assert len(page.context.cookies()) == 1  # the operator's cookie was there all along
    context.close()
