"""The settings page against the fake GitHub on loopback: sign-in, sessions, CSRF, and who
may switch what (org owner, repository admin, member, user installation)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit.cache import MemCacheStrategy
from markupsafe import escape
from starlette.testclient import TestClient

from ghapp.config import Settings
from ghapp.github import RetryPolicy
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.store import Delivery
from ghapp.store.database import utcnow
from ghapp.testing import test_key_pair, test_settings
from ghapp.web.app import create_app
from ghapp.web.sessions import safe_next
from tests.support.fake_github import FakeGitHub, Fault, run_fake_github

CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fakeclientsecret"
ORG_INSTALLATION = 1
USER_INSTALLATION = 2


def make_fake() -> FakeGitHub:
    """octo-org (hello, other) and alice's own account, with people in every role."""
    _private, public = test_key_pair()
    fake = FakeGitHub(
        app_id=1,
        app_slug="ghapp-test",
        public_key_pem=public.encode(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    fake.add_installation(
        ORG_INSTALLATION, "octo-org", repositories=["octo-org/hello", "octo-org/other"]
    )
    fake.add_installation(
        USER_INSTALLATION, "alice", account_type="User", repositories=["alice/notes"]
    )
    fake.add_user("owner", org_roles={"octo-org": "admin"})
    fake.add_user("member", org_roles={"octo-org": "member"})
    fake.add_user("repoadmin", org_roles={"octo-org": "member"})
    fake.set_permission("octo-org/hello", "repoadmin", "admin")
    fake.set_permission("octo-org/hello", "member", "write")
    fake.add_user("alice")
    return fake


@dataclass
class Site:
    fake: FakeGitHub
    github_url: str
    client: TestClient
    db_path: Path

    @property
    def runtime(self) -> Runtime:
        runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        assert runtime is not None
        return runtime

    def sign_in(self, login: str, next_path: str | None = None) -> httpx.Response:
        """The whole OAuth round trip, with the fake GitHub signing `login` in."""
        self.fake.browser_user = login
        params = {"next": next_path} if next_path is not None else {}
        start = self.client.get("/settings/login", params=params, follow_redirects=False)
        assert start.status_code == 302, start.text
        authorize = httpx.get(start.headers["location"], follow_redirects=False)
        assert authorize.status_code == 302
        back = urlsplit(authorize.headers["location"])
        assert back.path == "/settings/auth/callback"
        return self.client.get(f"{back.path}?{back.query}", follow_redirects=False)

    def csrf(self, path: str = "/settings") -> str:
        page = self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def switch(
        self,
        installation_id: int,
        skill: str,
        value: str,
        repository: str = "",
        csrf: str | None = None,
    ) -> httpx.Response:
        token = self.csrf() if csrf is None else csrf
        return self.client.post(
            f"/settings/installations/{installation_id}/switches",
            data={"csrf_token": token, "skill": skill, "value": value, "repository": repository},
            follow_redirects=False,
        )

    def stored_switches(self) -> list[tuple[int, str, str, bool]]:
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute(
                "SELECT installation_id, repository, skill, enabled FROM skill_switches"
            ).fetchall()
        return sorted((int(i), r, s, bool(e)) for i, r, s, e in rows)


def settings_for(tmp_path: Path, github_url: str, **env: str) -> Settings:
    """A configured App with the settings page's OAuth credentials, against the fake."""
    return test_settings(
        tmp_path,
        api_url=f"{github_url}/api/v3",
        env={
            "GITHUB_URL": github_url,
            "GITHUB_CLIENT_ID": CLIENT_ID,
            "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            **env,
        },
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    fake = make_fake()
    with run_fake_github(fake) as github_url:
        settings = settings_for(tmp_path, github_url)
        options = RuntimeOptions(
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
            github_timeout=5.0,
        )
        app = create_app(settings, options, run_workers=False)
        with TestClient(app) as client:
            yield Site(fake, github_url, client, tmp_path / "ghapp-test.db")


# -- sign-in -----------------------------------------------------------------------------


def test_signed_out_visitor_gets_the_sign_in_page(site: Site) -> None:
    page = site.client.get("/settings")
    assert page.status_code == 200
    assert "Sign in with GitHub" in page.text
    assert 'href="/settings/login?next=%2Fsettings"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_login_sends_the_person_to_github_with_a_state_bound_to_their_browser(
    site: Site,
) -> None:
    start = site.client.get("/settings/login", follow_redirects=False)
    location = urlsplit(start.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == site.github_url
    assert location.path == "/login/oauth/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/settings/auth/callback"]
    assert len(query["state"][0]) >= 24
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("ghapp_oauth=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/settings" in cookie
    assert query["state"][0] not in cookie  # signed and encoded, not a bare copy


def test_sign_in_keeps_the_token_on_the_server(site: Site) -> None:
    done = site.sign_in("owner")
    assert done.status_code == 303
    assert done.headers["location"] == "/settings"
    cookie = next(
        v for k, v in done.headers.multi_items() if k == "set-cookie" and "ghapp_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in this test; https gets Secure (below)
    tokens = list(site.fake.user_tokens)
    assert tokens and not any(t in cookie for t in tokens)
    with sqlite3.connect(site.db_path) as conn:
        stored = conn.execute("SELECT id_hash, user_login, token FROM web_sessions").fetchall()
    assert len(stored) == 1
    assert stored[0][1] == "owner"
    assert stored[0][2] not in tokens and not any(t in stored[0][2] for t in tokens)
    assert stored[0][0] not in cookie  # only a hash of the session id is kept

    page = site.client.get("/settings")
    assert "Signed in as <strong>owner</strong>" in page.text
    assert 'href="/settings/installations/1"' in page.text
    assert "/settings/installations/2" not in page.text  # alice's, not owner's


def test_a_new_sign_in_replaces_the_previous_session(site: Site) -> None:
    site.sign_in("owner")
    first = site.client.cookies["ghapp_session"]
    site.sign_in("owner")
    assert site.client.cookies["ghapp_session"] != first
    with sqlite3.connect(site.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM web_sessions").fetchone() == (1,)


def test_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    fake = make_fake()
    with run_fake_github(fake) as github_url:
        settings = settings_for(tmp_path, github_url, BASE_URL="https://ghapp.example.com")
        app = create_app(settings, RuntimeOptions(cache_strategy=MemCacheStrategy()))
        with TestClient(app, base_url="https://ghapp.example.com") as client:
            start = client.get("/settings/login", follow_redirects=False)
    assert "Secure" in start.headers["set-cookie"]
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == ["https://ghapp.example.com/settings/auth/callback"]


def test_a_callback_whose_state_does_not_match_is_refused(site: Site) -> None:
    site.fake.browser_user = "owner"
    start = site.client.get("/settings/login", follow_redirects=False)
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    query = parse_qs(urlsplit(authorize.headers["location"]).query)
    forged = site.client.get(
        "/settings/auth/callback",
        params={"code": query["code"][0], "state": "not-the-state"},
        follow_redirects=False,
    )
    assert forged.status_code == 400
    assert "could not be verified" in forged.text
    site.client.cookies.clear()  # a callback from another browser: no pending sign-in
    stray = site.client.get(
        "/settings/auth/callback",
        params={"code": query["code"][0], "state": query["state"][0]},
        follow_redirects=False,
    )
    assert stray.status_code == 400
    assert "ghapp_session" not in site.client.cookies


def test_a_refused_code_is_advice_not_a_crash(site: Site) -> None:
    site.fake.browser_user = "owner"
    start = site.client.get("/settings/login", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = site.client.get(
        "/settings/auth/callback", params={"code": "used-or-expired", "state": state}
    )
    assert answer.status_code == 400
    assert "refused the sign-in code" in answer.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/settings",
        "/\\evil.example",
        "javascript:alert(1)",
        "/settings\r\nSet-Cookie: x=1",
    ],
)
def test_sign_in_never_redirects_off_site(site: Site, target: str) -> None:
    done = site.sign_in("owner", next_path=target)
    assert done.status_code == 303
    assert done.headers["location"] == "/settings"


def test_sign_in_returns_to_the_local_page_it_started_from(site: Site) -> None:
    done = site.sign_in("owner", next_path="/settings/installations/1?repo=octo-org/hello")
    assert done.headers["location"] == "/settings/installations/1?repo=octo-org/hello"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/settings/installations/3", "/settings/installations/3"),
        ("", "/settings"),
        (None, "/settings"),
        ("settings", "/settings"),
        ("https://github.com", "/settings"),
        ("///evil.example", "/settings"),
        ("/\\/evil.example", "/settings"),
        ("/ok\\..\\x", "/settings"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_setup_url_lands_on_the_installation_after_sign_in(site: Site) -> None:
    landing = site.client.get(
        "/settings/installed",
        params={"installation_id": "1", "setup_action": "install"},
        follow_redirects=False,
    )
    assert landing.status_code == 303
    assert landing.headers["location"] == "/settings/login?next=%2Fsettings%2Finstallations%2F1"
    site.fake.browser_user = "owner"
    start = site.client.get(landing.headers["location"], follow_redirects=False)
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(authorize.headers["location"])
    done = site.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.headers["location"] == "/settings/installations/1"
    page = site.client.get(done.headers["location"])
    assert page.status_code == 200
    assert "<h1>octo-org</h1>" in page.text

    again = site.client.get(
        "/settings/installed",
        params={"installation_id": "1", "setup_action": "update"},
        follow_redirects=False,
    )
    assert again.headers["location"] == "/settings/installations/1"
    odd = site.client.get(
        "/settings/installed", params={"installation_id": "1/../../x"}, follow_redirects=False
    )
    assert odd.status_code == 400  # a malformed id is refused, not guessed at
    for bad in ("²", "\u0661", "-1", "99999999999999999999", " 1"):
        answer = site.client.get(
            "/settings/installed", params={"installation_id": bad}, follow_redirects=False
        )
        assert answer.status_code == 400, bad
    assert "installation_id must be a number" in answer.text


def test_sign_out_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    site.sign_in("owner")
    refused = site.client.post("/settings/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    token = site.csrf()
    done = site.client.post("/settings/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    with sqlite3.connect(site.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM web_sessions").fetchone() == (0,)
    page = site.client.get("/settings?notice=signed-out")
    assert "You are signed out." in page.text and "Sign in with GitHub" in page.text


# -- sessions ----------------------------------------------------------------------------


def test_a_tampered_session_cookie_signs_nobody_in(site: Site) -> None:
    site.sign_in("owner")
    token = site.csrf()
    value = site.client.cookies["ghapp_session"]
    session_id, _, signature = value.partition(".")
    forged = ("A" if session_id[0] != "A" else "B") + session_id[1:] + "." + signature
    site.client.cookies.set("ghapp_session", forged, path="/settings")
    page = site.client.get("/settings")
    assert "Sign in with GitHub" in page.text and "Signed in as" not in page.text
    site.client.cookies.set("ghapp_session", forged, path="/settings")
    refused = site.switch(ORG_INSTALLATION, "label-sync", "off", csrf=token)
    assert refused.status_code == 403
    assert site.stored_switches() == []


def test_an_expired_session_asks_to_sign_in_again(site: Site) -> None:
    site.sign_in("owner")
    token = site.csrf()
    with sqlite3.connect(site.db_path) as conn:
        conn.execute("UPDATE web_sessions SET expires_at = '2000-01-01 00:00:00.000000'")
    page = site.client.get("/settings/installations/1")
    assert "Your session ended" in page.text
    assert "Signed in as" not in page.text
    refused = site.switch(ORG_INSTALLATION, "label-sync", "off", csrf=token)
    assert refused.status_code == 403
    assert site.stored_switches() == []


def test_a_revoked_token_asks_to_sign_in_again_instead_of_failing(site: Site) -> None:
    site.sign_in("owner")
    for token in list(site.fake.user_tokens):
        site.fake.expire_token(token)
    page = site.client.get("/settings")
    assert page.status_code == 401
    assert "Sign in again" in page.text
    assert "ghapp_session" not in site.client.cookies  # the dead session is gone too


def test_github_down_is_explained_not_a_500(site: Site) -> None:
    site.sign_in("owner")
    site.fake.faults.append(Fault("GET", r"/user/installations", 503, times=10))
    page = site.client.get("/settings/installations/1")
    assert page.status_code == 502
    assert "GitHub did not answer" in page.text


# -- who may change what -----------------------------------------------------------------


def test_an_org_owner_switches_a_skill_for_the_installation_and_it_is_audited(
    site: Site,
) -> None:
    site.sign_in("owner")
    page = site.client.get("/settings/installations/1")
    assert 'aria-label="label-sync for the whole installation"' in page.text
    assert 'value="off"' in _switch_form(page.text, "label-sync", "")
    done = site.switch(ORG_INSTALLATION, "label-sync", "off")
    assert done.status_code == 303
    assert done.headers["location"].startswith("/settings/installations/1?notice=saved")
    assert site.stored_switches() == [(1, "", "label-sync", False)]
    page = site.client.get(done.headers["location"])
    assert "Saved. It applies from the next event" in page.text
    audit = page.text.split('id="audit"')[1]
    assert "owner" in audit
    assert (
        str(escape("label-sync for the whole installation: now off (was the skill's default)"))
        in audit
    )


def test_an_org_owner_may_also_override_any_repository(site: Site) -> None:
    site.sign_in("owner")
    done = site.switch(ORG_INSTALLATION, "mention-reply", "off", repository="octo-org/other")
    assert done.status_code == 303
    assert site.stored_switches() == [(1, "octo-org/other", "mention-reply", False)]
    back = site.switch(ORG_INSTALLATION, "mention-reply", "inherit", repository="octo-org/other")
    assert back.status_code == 303
    assert site.stored_switches() == []


def test_a_member_sees_read_only_controls_and_a_forged_change_is_refused(site: Site) -> None:
    site.sign_in("member")
    page = site.client.get("/settings/installations/1?repo=octo-org/hello")
    assert page.status_code == 200
    assert "You can look, not change" in page.text
    # States in words, no controls: nothing to press that would be refused.
    assert 'class="switch"' not in page.text
    assert str(escape("On — the skill's default")) in page.text
    assert "On — inherited from the installation" in page.text
    assert site.switch(ORG_INSTALLATION, "label-sync", "off").status_code == 403
    refused = site.switch(ORG_INSTALLATION, "label-sync", "off", repository="octo-org/hello")
    assert refused.status_code == 403
    assert site.stored_switches() == []


def test_a_repository_admin_may_override_only_their_repository(site: Site) -> None:
    site.sign_in("repoadmin")
    page = site.client.get("/settings/installations/1?repo=octo-org/hello")
    with pytest.raises(AssertionError):
        _switch_form(page.text, "label-sync", "")  # the installation's: not theirs
    assert 'value="inherit"' in _switch_form(page.text, "label-sync", "octo-org/hello")
    assert site.switch(ORG_INSTALLATION, "label-sync", "off").status_code == 403
    ok = site.switch(ORG_INSTALLATION, "label-sync", "off", repository="octo-org/hello")
    assert ok.status_code == 303
    other = site.switch(ORG_INSTALLATION, "label-sync", "off", repository="octo-org/other")
    assert other.status_code == 403
    assert site.stored_switches() == [(1, "octo-org/hello", "label-sync", False)]


def test_the_account_itself_manages_a_user_installation(site: Site) -> None:
    site.sign_in("alice")
    assert site.switch(USER_INSTALLATION, "release-publish", "off").status_code == 303
    assert site.stored_switches() == [(2, "", "release-publish", False)]
    site.sign_in("owner")  # an org owner elsewhere: cannot even see alice's installation
    assert site.switch(USER_INSTALLATION, "release-publish", "on").status_code == 403
    assert site.client.get("/settings/installations/2").status_code == 404
    assert site.stored_switches() == [(2, "", "release-publish", False)]


INSTALLATION_WIDE_ONLY = "Only organization owners (or the account itself) may change this switch."


@pytest.mark.parametrize(
    ("who", "installation", "repository", "csrf", "why"),
    [
        ("owner", ORG_INSTALLATION, "alice/notes", None,
         "That repository is not part of this installation."),
        ("owner", ORG_INSTALLATION, "", "", "The form was missing its security token."),
        ("owner", ORG_INSTALLATION, "", "wrong-token", "The form was missing its security token."),
        (None, ORG_INSTALLATION, "", "anything", "Sign in before changing settings."),
        ("owner", USER_INSTALLATION, "", None, "You cannot see this installation."),
        ("member", ORG_INSTALLATION, "", None, INSTALLATION_WIDE_ONLY),
        ("repoadmin", ORG_INSTALLATION, "", None, INSTALLATION_WIDE_ONLY),
        ("repoadmin", ORG_INSTALLATION, "octo-org/other", None,
         "Only repository admins and organization owners may change this switch."),
    ],
    ids=[
        "repository-elsewhere", "no-csrf", "wrong-csrf", "no-session", "invisible-installation",
        "member", "repoadmin-installation-wide", "repoadmin-other-repository",
    ],
)  # fmt: skip
def test_a_refused_change_says_why_and_stores_nothing(
    site: Site, who: str | None, installation: int, repository: str, csrf: str | None, why: str
) -> None:
    if who is not None:
        site.sign_in(who)
    refused = site.switch(installation, "label-sync", "off", repository=repository, csrf=csrf)
    assert refused.status_code == 403
    # Refused for this reason, not for another check failing first.
    assert str(escape(why)) in refused.text
    assert site.stored_switches() == []


def test_unknown_skills_and_values_are_rejected(site: Site) -> None:
    site.sign_in("owner")
    assert site.switch(ORG_INSTALLATION, "no-such-skill", "off").status_code == 400
    assert site.switch(ORG_INSTALLATION, "label-sync", "maybe").status_code == 400
    assert site.switch(ORG_INSTALLATION, "label-sync", "inherit").status_code == 400
    assert site.stored_switches() == []


# -- what the page shows -----------------------------------------------------------------


def record_delivery(
    site: Site, ident: str, repository: str, *, status: str = "failed", error: str | None = None
) -> None:
    """An `issues.opened` delivery of the organization's installation, stored as run."""
    delivery = Delivery(
        id=ident,
        event="issues",
        action="opened",
        installation_id=ORG_INSTALLATION,
        repository=repository,
        ordering_key=None,
        received_at=utcnow(),
        status=status,
        attempts=1,
        payload=b"{}",
        error=error,
    )
    assert site.client.portal is not None
    site.client.portal.call(site.runtime.deliveries.record, delivery)


def test_the_page_shows_skills_options_for_a_repository_and_deliveries(site: Site) -> None:
    site.fake.set_file(
        "octo-org/hello",
        ".github/ghapp.yml",
        "label-sync:\n  delete-undeclared: true\n  exclusive-scopes: [priority]\n"
        "mention-reply:\n  responder: agent\n",
    )
    record_delivery(site, "d-failed-1", "octo-org/hello", error="boom")
    site.sign_in("owner")
    page = site.client.get("/settings/installations/1?repo=octo-org/hello")
    assert page.status_code == 200
    for skill in ("label-sync", "mention-reply", "milestone-progress", "release-publish"):
        assert f'id="skill-{skill}"' in page.text
        assert str(escape(site.runtime.skills[skill].description)) in page.text
    assert "issues: write" in page.text  # a required permission
    repo_section = page.text.split('id="repository"')[1].split('id="deliveries"')[0]
    assert "delete_undeclared: true" in repo_section
    assert "- priority" in repo_section
    assert "from .github/ghapp.yml with defaults" in repo_section
    # The repository's own choice of responder, said in words where the skills are.
    assert "answered by the built-in AI agent in octo-org/hello" in page.text
    deliveries = page.text.split('id="deliveries"')[1]
    assert "issues.opened" in deliveries and ">Redeliver</button>" in deliveries

    requeue = site.client.post(
        "/settings/installations/1/deliveries/d-failed-1/redeliver",
        data={"csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert requeue.status_code == 303
    stored = site.client.portal.call(site.runtime.deliveries.get, "d-failed-1")
    assert stored is not None and stored.status == "queued"


def test_only_admins_may_redeliver(site: Site) -> None:
    record_delivery(site, "d-failed-2", "octo-org/other")
    site.sign_in("repoadmin")  # admin of hello, not of other
    refused = site.client.post(
        "/settings/installations/1/deliveries/d-failed-2/redeliver",
        data={"csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    stored = site.client.portal.call(site.runtime.deliveries.get, "d-failed-2")
    assert stored is not None and stored.status == "failed"


@pytest.mark.parametrize(
    ("who", "installation", "status", "expected"),
    [
        # alice manages her own installation, and names octo-org's delivery under it.
        ("alice", USER_INSTALLATION, "failed", 404),
        # A delivery that finished is not run again: its effects happened.
        ("owner", ORG_INSTALLATION, "ok", 409),
    ],
    ids=["delivery-of-another-installation", "delivery-not-failed"],
)
def test_a_redelivery_that_is_not_for_this_page_changes_nothing(
    site: Site, who: str, installation: int, status: str, expected: int
) -> None:
    record_delivery(site, "d-other-1", "octo-org/hello", status=status)
    site.sign_in(who)
    refused = site.client.post(
        f"/settings/installations/{installation}/deliveries/d-other-1/redeliver",
        data={"csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert refused.status_code == expected
    stored = site.client.portal.call(site.runtime.deliveries.get, "d-other-1")
    assert stored is not None and stored.status == status


def _switch_form(html: str, skill: str, repository: str) -> str:
    """The switch form of one skill at one level, to look at its buttons."""
    for form in re.findall(r"<form[^>]*class=\"switch\".*?</form>", html, flags=re.S):
        if f'name="skill" value="{skill}"' in form and (
            f'name="repository" value="{repository}"' in form
        ):
            return form
    raise AssertionError(f"no switch form for {skill} at {repository!r}")


# -- the session secret and setup mode ---------------------------------------------------


def test_the_session_secret_is_generated_once_and_kept_out_of_the_database(site: Site) -> None:
    site.sign_in("owner")
    secret = site.client.app.state.settings_session_keys.secret  # type: ignore[attr-defined]
    assert len(secret) >= 32
    assert secret not in site.client.get("/settings").text
    # Kept beside .env, never in the database (tests/test_trust_session_secret.py).
    with sqlite3.connect(site.db_path) as conn:
        rows = conn.execute("SELECT count(*) FROM app_values WHERE name = 'session_secret'")
        assert rows.fetchone() == (0,)


def test_session_secret_from_the_environment_is_used(tmp_path: Path) -> None:
    fake = make_fake()
    with run_fake_github(fake) as github_url:
        settings = settings_for(
            tmp_path, github_url, SESSION_SECRET="a-session-secret-from-the-environment"
        )
        app = create_app(settings, RuntimeOptions(cache_strategy=MemCacheStrategy()))
        with TestClient(app) as client:
            start = client.get("/settings/login", follow_redirects=False)
            assert start.status_code == 302
    with sqlite3.connect(tmp_path / "ghapp-test.db") as conn:
        rows = conn.execute("SELECT count(*) FROM app_values WHERE name = 'session_secret'")
        assert rows.fetchone() == (0,)


def test_before_setup_the_settings_page_points_to_setup(tmp_path: Path) -> None:
    settings = test_settings(tmp_path, api_url="http://127.0.0.1:9/api/v3", env={"APP_ID": ""})
    assert not settings.configured
    with TestClient(create_app(settings)) as client:
        page = client.get("/settings")
        assert page.status_code == 503
        assert "not registered yet" in page.text
        refused = client.post("/settings/installations/1/switches", data={"skill": "x"})
        assert refused.status_code == 503


def test_a_feature_has_its_own_switch_under_its_skill(tmp_path: Path) -> None:
    from ghapp import Skill

    skill = Skill("featured", "has a feature")
    skill.feature("extra", "Does a little more")
    fake = make_fake()
    with run_fake_github(fake) as github_url:
        options = RuntimeOptions(
            extra_skills=[skill],
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
            github_timeout=5.0,
        )
        app = create_app(settings_for(tmp_path, github_url), options, run_workers=False)
        with TestClient(app) as client:
            site = Site(fake, github_url, client, tmp_path / "ghapp-test.db")
            site.sign_in("owner")
            page = site.client.get("/settings/installations/1?repo=octo-org/hello")
            assert 'id="skill-featured-extra"' in page.text
            assert "Does a little more" in page.text
            assert 'value="off"' in _switch_form(page.text, "featured/extra", "")
            assert site.switch(ORG_INSTALLATION, "featured/extra", "off").status_code == 303
            over = site.switch(
                ORG_INSTALLATION, "featured/extra", "on", repository="octo-org/hello"
            )
            assert over.status_code == 303
            assert site.switch(ORG_INSTALLATION, "featured/nope", "off").status_code == 400
            assert site.stored_switches() == [
                (1, "", "featured/extra", False),
                (1, "octo-org/hello", "featured/extra", True),
            ]
            enabled = site.client.portal.call(
                site.runtime.options_resolver.enabled, 1, "octo-org/hello"
            )
            assert enabled["featured/extra"] is True
            assert enabled["featured"] is True


# -- malformed addresses are answered 4xx, never 500 -------------------------------------

TRICKY = [
    "",
    "²",
    "\u0661",
    "-1",
    "0",
    "1e3",
    "99999999999999999999999",
    "9223372036854775808",
    "octo-org/hello",
    "octo-org/../x",
    "octo-org/secret",
    "../../etc/passwd",
    "%00",
    "\x00",
    "<script>",
    "issues.opened",
    "failed",
    "a" * 500,
]


def test_any_query_of_the_installation_page_is_answered_without_a_500(site: Site) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    site.sign_in("member")
    names = ["repo", "q", "outcome", "event", "rpage", "opage", "dpage", "cpage", "changed"]
    values = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30))

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(names), values, max_size=4))
    def ask(params: dict[str, str]) -> None:
        answer = site.client.get("/settings/installations/1", params=params)
        assert answer.status_code in (200, 400), (params, answer.status_code)
        if answer.status_code == 400:
            assert "Bad request" in answer.text

    ask()
    for path in (
        "/settings/installations/99999999999999999999999",
        "/settings/installations/9223372036854775808",
        "/settings/installations/1/deliveries/" + "x" * 300,
        "/settings/installations/1/deliveries/%C2%B2",
        "/settings/installations/99999999999999999999999/deliveries/x",
    ):
        assert site.client.get(path).status_code == 404, path
    for bad in ("²", "x", "99999999999999999999999"):
        answer = site.client.get("/settings/installations/1", params={"dpage": bad})
        assert answer.status_code == 400
        assert "dpage must be a number" in answer.text
    forged = site.client.post(
        "/settings/installations/99999999999999999999999/switches",
        data={"csrf_token": site.csrf(), "skill": "label-sync", "value": "off"},
    )
    assert forged.status_code == 403


def test_a_person_sees_nothing_of_a_repository_they_cannot_read(site: Site) -> None:
    """PRODUCT.md §6: overrides, deliveries and changes of a repository GitHub does not
    show the person are left out, not even named."""
    site.fake.add_repo("octo-org/private-plans", installation_id=ORG_INSTALLATION, private=True)
    assert site.client.portal is not None
    for delivery_id, repository in (("d-private", "octo-org/private-plans"), ("d-app", None)):
        site.client.portal.call(
            site.runtime.deliveries.record,
            Delivery(
                id=delivery_id,
                event="issues" if repository else "installation",
                action="opened" if repository else "created",
                installation_id=ORG_INSTALLATION,
                repository=repository,
                ordering_key=None,
                received_at=utcnow(),
                status="failed",
                attempts=1,
                payload=b"{}",
            ),
        )
    site.sign_in("owner")
    assert (
        site.switch(1, "label-sync", "off", repository="octo-org/private-plans").status_code == 303
    )
    owner_page = site.client.get("/settings/installations/1").text
    assert owner_page.count("private-plans") >= 3  # override, delivery, change
    assert 'data-delivery="d-app"' in owner_page  # no repository: the installation's own

    site.client.cookies.clear()
    site.sign_in("member")
    for query in ("", "?outcome=failed", "?repo=octo-org/private-plans", "?q=private"):
        page = site.client.get("/settings/installations/1" + query)
        assert page.status_code == 200
        text = page.text.replace("No repository named “octo-org/private-plans”", "")
        assert "private-plans" not in text, query
        assert 'data-delivery="d-app"' not in text  # only for those who manage it
    assert site.client.get("/settings/installations/1/deliveries/d-private").status_code == 404
    assert site.client.get("/settings/installations/1/deliveries/d-app").status_code == 404


def test_the_installation_list_says_where_one_may_change_or_only_look(site: Site) -> None:
    site.sign_in("owner")
    assert "You can change its skills." in site.client.get("/settings").text
    site.client.cookies.clear()
    site.sign_in("member")
    page = site.client.get("/settings").text
    assert "You can change its skills." not in page
    assert "You can look; changes are made by the owners of octo-org" in page


def test_before_setup_the_settings_page_links_the_setup_page(tmp_path: Path) -> None:
    from ghapp.config import load_settings

    unconfigured = load_settings({}, env_file=None, workdir=tmp_path)
    with TestClient(create_app(unconfigured, run_workers=False)) as client:
        page = client.get("/settings")
    assert page.status_code == 503
    assert '<a href="/">Open the setup page</a>' in page.text
    assert "Back to" not in page.text  # no link back to the page that says this


def test_a_skill_row_says_which_option_is_invalid_and_links_its_line(site: Site) -> None:
    site.fake.set_file(
        "octo-org/hello",
        ".github/ghapp.yml",
        "mention-reply:\n  responder: agent\nlabel-sync:\n  delete-undeclared: maybe\n",
    )
    site.sign_in("owner")
    page = site.client.get("/settings/installations/1?repo=octo-org/hello")
    assert page.status_code == 200
    row = page.text.split('id="repo-skill-label-sync"')[1].split("</tr>")[0]
    assert "label-sync.delete_undeclared: Input should be a valid boolean" in row
    assert "(line 4)" in row
    assert "Fix line 4 of .github/ghapp.yml; the next event uses it." in row
    link = f"{site.github_url}/octo-org/hello/blob/HEAD/.github/ghapp.yml#L4"
    assert f'<a href="{link}">Open line 4 of .github/ghapp.yml</a>' in row
    # The other skills' rows are untouched: their sections are valid.
    other = page.text.split('id="repo-skill-mention-reply"')[1].split("</tr>")[0]
    assert "Fix line" not in other and "from .github/ghapp.yml with defaults" in other


def test_an_invalid_option_from_an_extends_base_is_named_by_its_path_only(site: Site) -> None:
    site.fake.set_file(
        "octo-org/hello",
        ".github/ghapp.yml",
        "_extends: other\nlabel-sync:\n  delete-undeclared: true\n",
    )
    site.fake.set_file(
        "octo-org/other", ".github/ghapp.yml", "# base\nlabel-sync:\n  exclusive-scopes: hush-42\n"
    )
    site.sign_in("repoadmin")  # may see octo-org/hello, not the base's repository
    page = site.client.get("/settings/installations/1?repo=octo-org/hello")
    assert page.status_code == 200
    row = page.text.split('id="repo-skill-label-sync"')[1].split("</tr>")[0]
    base = "`octo-org/other:.github/ghapp.yml`"
    assert f"{base} is not a valid ghapp config (its `label-sync` section)" in row
    assert f"Fix line 3 of {base}; the next event uses it." in row
    # The base's keys and values are never shown, on the row or anywhere on the page.
    assert "hush-42" not in page.text and "exclusive" not in row
