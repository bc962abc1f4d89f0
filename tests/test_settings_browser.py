"""The settings page in a real browser (Debian's Chromium through Playwright), against the
app served by uvicorn as `ghapp run` serves it and the fake GitHub, both on loopback.

One installation with 200 repositories (and one private repository a plain member cannot
read), deliveries that failed in each way ghapp knows (GitHub refused reading the config
file, an invalid option, a skill refused a permission, a long 422), an org owner and a
member, at 1280 and 390 px. Screenshots of the main states go to test-artifacts/.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from githubkit.cache import MemCacheStrategy

from ghapp import Context, Skill
from ghapp.github import RetryPolicy
from ghapp.runtime import RuntimeOptions
from ghapp.testing import signature_for, test_key_pair, test_settings
from ghapp.web.app import create_app
from tests import browser
from tests.support.fake_github import FakeGitHub, Fault, run_fake_github, shapes
from tests.support.payloads import issues_event

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

chromium_browser = browser.chromium_browser  # the shared fixture, under its own name

CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fakeclientsecret"
ORG = "octo-org"
REPOS = [f"{ORG}/repo-{n:03d}" for n in range(200)]
PRIVATE = f"{ORG}/secret-vault"
LONG_MESSAGE = "Validation Failed: " + "the label name is not acceptable here " * 8
pytestmark = pytest.mark.browser

# A skill that comments on the issue, so GitHub can refuse it the way it refuses skills.
probe = Skill("probe", "comments on labeled issues")


@probe.on("issues.labeled")
async def comment(ctx: Context) -> None:
    repo = ctx.require_repo()
    if repo.name in ("repo-003", "repo-004", "secret-vault"):
        await ctx.github.rest.issues.async_create_comment(
            repo.owner, repo.name, ctx.issue_number or 0, body="seen"
        )


@dataclass
class Servers:
    fake: FakeGitHub
    app_url: str
    github_url: str
    deliveries: dict[str, str]  # what each seeded delivery shows → its id


def send_delivery(app_url: str, repo: str, number: int = 1) -> str:
    """A signed `issues.labeled` webhook for `repo`, as GitHub would post it."""
    delivery_id = str(uuid.uuid4())
    payload = issues_event("labeled", label="bug", labels=["bug"], repo=repo, number=number)
    body = json.dumps(payload).encode()
    answer = httpx.post(
        app_url + "/api/github/webhooks",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": signature_for(body),
        },
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    return delivery_id


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    tmp_path = tmp_path_factory.mktemp("settings-browser")
    _private, public = test_key_pair()
    fake = FakeGitHub(
        app_id=1,
        app_slug="ghapp-test",
        public_key_pem=public.encode(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    fake.add_installation(1, ORG, repositories=REPOS)
    fake.add_repo(PRIVATE, installation_id=1, private=True)
    fake.add_user("owner", org_roles={ORG: "admin"})
    fake.add_user("member", org_roles={ORG: "member"})
    for repo in (*REPOS[:6], PRIVATE):
        fake.add_issue(repo, "Labels are wrong")
    forbidden = shapes.error(403, "Resource not accessible by integration")
    config = r"/repos/octo-org/repo-001/contents/\.github/ghapp\.yml"
    fake.faults += [
        Fault("GET", config, 403, body=forbidden, times=1000),
        Fault("POST", r"/repos/octo-org/repo-003/issues/1/comments$", 403, body=forbidden),
        Fault(
            "POST",
            r"/repos/octo-org/repo-004/issues/1/comments$",
            422,
            body=shapes.error(422, LONG_MESSAGE),
        ),
        Fault("POST", r"/repos/octo-org/secret-vault/issues/1/comments$", 403, body=forbidden),
    ]
    fake.set_file(
        REPOS[2], ".github/ghapp.yml", "# labels\n\nlabel-sync:\n  exclusive_scopes: nope\n"
    )
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
            extra_skills=[probe],
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
            github_timeout=5.0,
        )
        with browser.serve_app(create_app(settings, options), port=port) as app_url:
            seeded = {
                name: send_delivery(app_url, repo)
                for name, repo in [
                    ("ok", REPOS[0]),
                    ("config-403", REPOS[1]),
                    ("invalid-option", REPOS[2]),
                    ("skill-403", REPOS[3]),
                    ("long-422", REPOS[4]),
                    ("private", PRIVATE),
                ]
            }
            wait_until_finished(app_url, fake)
            yield Servers(fake, app_url, github_url, seeded)


def wait_until_finished(app_url: str, fake: FakeGitHub) -> None:
    """Until no delivery is queued or running (the worker runs inside the app)."""
    deadline = time.monotonic() + 90
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            metrics = client.get(app_url + "/metrics").text
            depth = [line for line in metrics.splitlines() if line.startswith("ghapp_queue_depth")]
            if depth and float(depth[0].split()[-1]) == 0:
                return
            time.sleep(0.3)
    raise AssertionError("the seeded deliveries did not finish")


def new_page(
    chromium: Browser, *, width: int = 1280, javascript: bool = True
) -> tuple[BrowserContext, Page]:
    # bypass_csp: only so that axe-core can be injected; the page's own CSP is tested apart.
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript, bypass_csp=True
    )
    return context, context.new_page()


def sign_in(page: Page, servers: Servers, login: str) -> None:
    servers.fake.browser_user = login
    page.goto(servers.app_url + "/settings")
    page.get_by_role("link", name="Sign in with GitHub").click()
    page.wait_for_url(servers.app_url + "/settings")
    assert page.get_by_text(f"Signed in as {login}").is_visible()


def installation_url(servers: Servers, query: str = "") -> str:
    return servers.app_url + "/settings/installations/1" + (f"?{query}" if query else "")


def row(page: Page, servers: Servers, name: str) -> Any:
    return page.locator(f'tr[data-delivery="{servers.deliveries[name]}"]')


def no_horizontal_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page is {width} px wide in a {viewport} px window"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations (contrast included) on the page as it stands."""
    page.add_script_tag(content=browser.axe_source())
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']}))"
        ".violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return list(result)


def test_an_owner_reads_why_each_delivery_failed_and_what_to_do(
    chromium_browser: Browser, servers: Servers
) -> None:
    context, page = new_page(chromium_browser)
    sign_in(page, servers, "owner")
    page.goto(installation_url(servers, "outcome=failed"))
    on_github = page.get_by_role("link", name="installation on GitHub").get_attribute("href")
    assert on_github and on_github.endswith("/settings/installations/1")

    # GitHub refused reading .github/ghapp.yml: no skill ran, the delivery says why.
    config = row(page, servers, "config-403")
    assert "GitHub refused" in config.inner_text()
    assert "GitHub said: “Resource not accessible by integration”" in config.inner_text()
    permissions = config.get_by_role("link", name="Review the installation's permissions")
    assert permissions.get_attribute("href") == on_github
    config.get_by_text("Details").click()
    assert "GET /repos/octo-org/repo-001/contents/.github/ghapp.yml" in config.inner_text()

    # A skill refused a permission: the request, GitHub's words, the next step.
    skill = row(page, servers, "skill-403")
    assert "probe: failed" in skill.inner_text()
    assert "the App lacks a permission" in skill.inner_text()
    assert skill.get_by_role("link", name="Review the installation's permissions").count() == 1
    issue = skill.locator("a", has_text="#1 ")  # the issue it came from
    sent = issues_event("labeled", label="bug", labels=["bug"], repo=REPOS[3])
    assert issue.get_attribute("href") == sent["issue"]["html_url"]

    # The long 422 folds and wraps.
    long = row(page, servers, "long-422")
    assert "GitHub rejected" in long.inner_text()
    for width in (1280, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        no_horizontal_overflow(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(browser.screenshot_path("owner-failed-1280.png")), full_page=True)

    # An invalid option: skipped, which option and why, the line to fix and a link to it.
    page.goto(installation_url(servers, "repo=octo-org/repo-002"))
    invalid = row(page, servers, "invalid-option")
    assert "label-sync: skipped" in invalid.inner_text()
    assert (
        "label-sync.exclusive_scopes: Input should be a valid list (line 4)" in invalid.inner_text()
    )
    assert "Next: Fix line 4 of .github/ghapp.yml" in invalid.inner_text()
    file_link = invalid.get_by_role("link", name="Open line 4 of .github/ghapp.yml")
    assert file_link.get_attribute("href") == (
        f"{servers.github_url}/octo-org/repo-002/blob/HEAD/.github/ghapp.yml#L4"
    )
    # Choosing a repository filters the deliveries to it.
    rows = page.locator("tr.delivery")
    assert rows.count() == 1
    # The skill's row for that repository says the same: the option, why, the line.
    skill_row = page.locator("#repo-skill-label-sync")
    assert "label-sync.exclusive_scopes: Input should be a valid list (line 4)" in (
        skill_row.inner_text()
    )
    assert "Next: Fix line 4 of .github/ghapp.yml" in skill_row.inner_text()
    line_link = skill_row.get_by_role("link", name="Open line 4 of .github/ghapp.yml")
    assert line_link.get_attribute("href") == file_link.get_attribute("href")
    page.set_viewport_size({"width": 390, "height": 900})
    no_horizontal_overflow(page)
    assert skill_row.get_by_role("link", name="Open line 4 of .github/ghapp.yml").is_visible()
    page.screenshot(path=str(browser.screenshot_path("owner-invalid-row-390.png")), full_page=True)
    context.close()


def test_an_owner_finds_one_repository_among_200_and_switches_a_skill_without_javascript(
    chromium_browser: Browser, servers: Servers
) -> None:
    context, page = new_page(chromium_browser, javascript=False)
    sign_in(page, servers, "owner")
    page.goto(installation_url(servers))
    assert page.locator(".repo-list li").count() == 20  # paged, not 200 at once
    page.get_by_role("link", name="More →").first.click()
    assert "octo-org/repo-020" in page.locator(".repo-list").inner_text()

    page.get_by_label("Find a repository").fill("repo-150")
    page.get_by_role("button", name="Search").click()
    assert page.locator(".repo-list li").count() == 1
    page.get_by_role("link", name="octo-org/repo-150").click()
    state = page.locator('#repository .state[data-skill="label-sync"]')
    assert state.inner_text() == "On — inherited from the installation"

    group = page.get_by_role("radiogroup", name="label-sync in octo-org/repo-150")
    group.get_by_label("Off").check()
    page.get_by_role("button", name="Save label-sync in octo-org/repo-150").click()
    form_row = page.locator("#repo-skill-label-sync")
    # The confirmation sits next to the control that caused it.
    assert "Saved. It applies from the next event" in form_row.locator(".confirm").inner_text()
    assert page.locator("main > .notice").count() == 0
    assert state.inner_text() == "Off — set for this repository"
    assert "label-sync in octo-org/repo-150: now off (was inherited from the installation)" in (
        page.locator("#audit").inner_text()
    )

    # The whole installation off: another repository shows it off by inheritance.
    page.get_by_role("radiogroup", name="label-sync for the whole installation").get_by_label(
        "Off"
    ).check()
    page.get_by_role("button", name="Save label-sync for the whole installation").click()
    assert "Saved" in page.locator("#skill-label-sync .confirm").inner_text()
    page.goto(installation_url(servers, "repo=octo-org/repo-151"))
    assert state.inner_text() == "Off — inherited from the installation"
    page.screenshot(path=str(browser.screenshot_path("owner-repository-1280.png")), full_page=True)

    # Put it back for the other tests.
    page.get_by_role("radiogroup", name="label-sync for the whole installation").get_by_label(
        "On"
    ).check()
    page.get_by_role("button", name="Save label-sync for the whole installation").click()
    context.close()


def test_a_member_sees_states_in_words_who_to_ask_and_nothing_of_a_private_repository(
    chromium_browser: Browser, servers: Servers
) -> None:
    # The owner overrides a skill on the private repository: an audit entry, an override.
    context, page = new_page(chromium_browser, javascript=False)
    sign_in(page, servers, "owner")
    page.goto(installation_url(servers, "repo=octo-org/secret-vault"))
    assert page.locator(f'tr[data-delivery="{servers.deliveries["private"]}"]').count() == 1
    page.get_by_role("radiogroup", name=f"probe in {PRIVATE}").get_by_label("Off").check()
    page.get_by_role("button", name=f"Save probe in {PRIVATE}").click()
    context.close()

    for width in (1280, 390):
        context, page = new_page(chromium_browser, width=width)
        sign_in(page, servers, "member")
        for query in ("", "outcome=failed", "repo=octo-org/secret-vault", "q=secret"):
            page.goto(installation_url(servers, query))
            assert page.locator("h1").inner_text() == ORG
            assert "secret-vault" not in page.content().replace(
                "No repository named “octo-org/secret-vault”", ""
            ), query
        page.goto(installation_url(servers))
        assert "You can look, not change" in page.locator(".role").inner_text()
        ask = page.get_by_role("link", name=f"an owner of {ORG}")
        assert "people?query=role%3Aowner" in (ask.get_attribute("href") or "")
        assert page.locator("form.switch").count() == 0  # no faded buttons: words
        assert page.locator("#skill-label-sync .state").inner_text().startswith("On — ")
        no_horizontal_overflow(page)
        page.screenshot(path=str(browser.screenshot_path(f"member-{width}.png")), full_page=True)
        # The private repository's delivery row is not served either.
        fragment = context.request.get(
            installation_url(servers) + f"/deliveries/{servers.deliveries['private']}"
        )
        assert fragment.status == 404
        context.close()


def test_a_redelivered_row_updates_without_a_reload(
    chromium_browser: Browser, servers: Servers
) -> None:
    context, page = new_page(chromium_browser)
    sign_in(page, servers, "owner")
    page.goto(installation_url(servers, "outcome=failed"))
    failed = row(page, servers, "skill-403")
    assert failed.locator(".status").inner_text() == "failed"
    page.evaluate("window.notReloaded = true")
    # The permission is back: the redelivery succeeds.
    failed.get_by_role("button", name="Redeliver").click()
    page.wait_for_function(
        "id => document.querySelector(`tr[data-delivery='${id}'] .status`)?.textContent === 'done'",
        arg=servers.deliveries["skill-403"],
        timeout=60_000,
    )
    assert page.evaluate("window.notReloaded") is True
    assert "Finished: done" in row(page, servers, "skill-403").locator(".confirm").inner_text()
    context.close()


def test_filters_and_pages_of_deliveries(chromium_browser: Browser, servers: Servers) -> None:
    context, page = new_page(chromium_browser, javascript=False)
    sign_in(page, servers, "owner")
    page.goto(installation_url(servers, "#deliveries"))
    page.get_by_label("Outcome").select_option("done")
    page.get_by_role("button", name="Filter").click()
    statuses = page.locator("tr.delivery .status").all_inner_texts()
    assert statuses and set(statuses) == {"done"}
    page.get_by_label("Event").fill("pull_request")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tr.delivery").count() == 0
    assert "No deliveries match" in page.locator("#deliveries").inner_text()
    # A relative time, the exact one on hover.
    page.goto(installation_url(servers))
    first = page.locator("tr.delivery time").first
    assert first.inner_text() in ("just now",) or first.inner_text().endswith("ago")
    assert (first.get_attribute("title") or "").endswith(" UTC")
    context.close()


def tab_presses_to(page: Page, skill: str, repository: str) -> int:
    """Tab presses from the top of the page to the radio group of `skill` in `repository`."""
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    page.goto(page.url.split("#")[0])
    for presses in range(1, 80):
        page.keyboard.press("Tab")
        found = page.evaluate(
            """([skill, repo]) => {
                const e = document.activeElement, form = e && e.closest('form.switch');
                return !!form && e.type === 'radio'
                    && form.querySelector('input[name=skill]').value === skill
                    && form.querySelector('input[name=repository]').value === repo;
            }""",
            [skill, repository],
        )
        if found:
            return presses
    raise AssertionError(f"Tab never reached {skill} in {repository}")


def test_keyboard_skip_link_focus_and_accessibility(
    chromium_browser: Browser, servers: Servers
) -> None:
    for login in ("owner", "member"):
        for width in (1280, 390):
            context, page = new_page(chromium_browser, width=width)
            sign_in(page, servers, login)
            page.goto(installation_url(servers, "repo=octo-org/repo-003"))
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.textContent")
            assert focused == "Skip to content"
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none"
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main"
            if login == "owner":
                # One repository's skill is a few Tab stops away (each radio group is one).
                presses = tab_presses_to(page, "label-sync", "octo-org/repo-003")
                assert presses <= 16, presses
            violations = axe_violations(page)
            assert violations == [], f"{login} at {width}: {violations}"
            no_horizontal_overflow(page)
            shot = browser.screenshot_path(f"{login}-repository-{width}.png")
            page.screenshot(path=str(shot), full_page=True)
            context.close()
