"""The settings page in a real browser (Debian's Chromium through Playwright), against the
app served by uvicorn as `ghapp run` serves it and the fake GitHub, both on loopback.

An org owner signs in, switches label-sync off for one repository, reloads and still sees
it off; the next delivery for that repository records label-sync as skipped ("switched
off") while the same event on another repository runs it. A member sees the same page
read-only, and a change they forge anyway is refused.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from githubkit.cache import MemCacheStrategy

from ghapp.github import RetryPolicy
from ghapp.runtime import RuntimeOptions
from ghapp.testing import signature_for, test_key_pair, test_settings
from ghapp.web.app import create_app
from tests import browser
from tests.support.fake_github import FakeGitHub, run_fake_github
from tests.support.payloads import issues_event

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

chromium_browser = browser.chromium_browser  # the shared fixture, under its own name

CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fakeclientsecret"
pytestmark = pytest.mark.browser


@dataclass
class Servers:
    fake: FakeGitHub
    app_url: str


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    _private, public = test_key_pair()
    fake = FakeGitHub(
        app_id=1,
        app_slug="ghapp-test",
        public_key_pem=public.encode(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    fake.add_installation(1, "octo-org", repositories=["octo-org/hello", "octo-org/other"])
    fake.add_user("owner", org_roles={"octo-org": "admin"})
    fake.add_user("member", org_roles={"octo-org": "member"})
    port = browser.free_port()
    with run_fake_github(fake) as github_url:
        settings = test_settings(
            tmp_path,
            api_url=f"{github_url}/api/v3",
            env={
                "GITHUB_URL": github_url,
                "GITHUB_CLIENT_ID": CLIENT_ID,
                "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
                "BASE_URL": f"http://127.0.0.1:{port}",
            },
        )
        options = RuntimeOptions(
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
            github_timeout=5.0,
        )
        with browser.serve_app(create_app(settings, options), port=port) as app_url:
            yield Servers(fake, app_url)


def sign_in(page: Page, servers: Servers, login: str) -> None:
    servers.fake.browser_user = login
    page.goto(servers.app_url + "/settings")
    page.get_by_role("link", name="Sign in with GitHub").click()
    page.wait_for_url(servers.app_url + "/settings")
    assert page.get_by_text(f"Signed in as {login}").is_visible()


def send_delivery(app_url: str, repo: str) -> str:
    """A signed `issues.labeled` webhook for `repo`, as GitHub would post it."""
    delivery_id = str(uuid.uuid4())
    body = json.dumps(issues_event("labeled", label="bug", labels=["bug"], repo=repo)).encode()
    answer = httpx.post(
        app_url + "/api/github/webhooks",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": signature_for(body),
        },
        timeout=30,  # generous: shared CI machines can be slow
    )
    assert answer.status_code == 202, answer.text
    return delivery_id


def delivery_row_text(page: Page, url: str, delivery_id: str) -> str:
    """The delivery's row once every skill has an outcome (the worker runs in the app)."""
    deadline = time.monotonic() + 60
    while True:
        page.goto(url)
        row = page.locator(f'tr[data-delivery="{delivery_id}"]')
        if row.count() and "queued" not in row.inner_text() and "running" not in row.inner_text():
            return row.inner_text()
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery {delivery_id} not finished on the page")
        time.sleep(0.3)


def test_an_owner_switches_a_skill_off_for_one_repository_and_the_next_event_skips_it(
    chromium_browser: Browser, servers: Servers
) -> None:
    # JavaScript off: every control must work as a plain form.
    context = chromium_browser.new_context(
        viewport={"width": 1100, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    sign_in(page, servers, "owner")
    page.get_by_role("link", name="octo-org").click()
    page.wait_for_url(servers.app_url + "/settings/installations/1")
    page.select_option("#repo", "octo-org/hello")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/settings/installations/1?repo=octo-org%2Fhello*")

    state = page.locator('#repository .state[data-skill="label-sync"]')
    assert state.inner_text() == "on"
    page.get_by_role("button", name="label-sync off in octo-org/hello", exact=True).click()
    page.wait_for_url("**notice=saved**")
    assert page.get_by_text("Saved. It applies from the next event").is_visible()
    assert state.inner_text() == "off"

    page.reload()
    assert state.inner_text() == "off"
    off = page.get_by_role("button", name="label-sync off in octo-org/hello", exact=True)
    assert off.get_attribute("aria-pressed") == "true"
    installation_wide = page.get_by_role("button", name="label-sync on", exact=True)
    assert installation_wide.get_attribute("aria-pressed") == "true"  # only the repo changed
    assert "label-sync: inherit → off" in page.locator("#audit").inner_text()

    hello = send_delivery(servers.app_url, "octo-org/hello")
    other = send_delivery(servers.app_url, "octo-org/other")
    url = servers.app_url + "/settings/installations/1?repo=octo-org%2Fhello"
    hello_row = delivery_row_text(page, url, hello)
    other_row = delivery_row_text(page, url, other)
    assert "label-sync: skipped (switched off)" in hello_row
    assert "label-sync:" in other_row and "switched off" not in other_row

    page.screenshot(path=str(browser.screenshot_path("settings-installation.png")), full_page=True)
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(url)
    phone.screenshot(path=str(browser.screenshot_path("settings-phone.png")), full_page=True)
    context.close()


def test_a_member_sees_read_only_controls_and_a_forged_change_is_refused(
    chromium_browser: Browser, servers: Servers
) -> None:
    context = chromium_browser.new_context()
    page = context.new_page()
    sign_in(page, servers, "member")
    page.goto(servers.app_url + "/settings/installations/1?repo=octo-org/hello")
    assert page.get_by_text("You can look, not change").is_visible()
    for name in ("label-sync off", "label-sync on", "label-sync off in octo-org/hello"):
        assert page.get_by_role("button", name=name, exact=True).is_disabled()

    csrf = page.locator('form.signout input[name="csrf_token"]').get_attribute("value")
    assert csrf
    switches = servers.app_url + "/settings/installations/1/switches"
    forged: dict[str, str | float | bool] = {
        "skill": "label-sync",
        "value": "off",
        "repository": "",
    }
    answer = context.request.post(switches, form={**forged, "csrf_token": csrf})
    assert answer.status == 403
    answer = context.request.post(
        switches, form={**forged, "repository": "octo-org/hello", "csrf_token": csrf}
    )
    assert answer.status == 403
    assert context.request.post(switches, form=forged).status == 403  # and no CSRF token

    page.reload()
    assert page.locator('#repository .state[data-skill="label-sync"]').inner_text() == "on"
    assert "No changes yet" in page.locator("#audit").inner_text()
    page.screenshot(path=str(browser.screenshot_path("settings-read-only.png")), full_page=True)
    context.close()
