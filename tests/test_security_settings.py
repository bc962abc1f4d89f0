# ruff: noqa: F811 - the `site` fixture is imported from test_settings_page and used by name
"""Settings-page attacks not covered in test_settings_page.py: session fixation, a CSRF
token taken from another session, state changes by GET, and the post-install redirect
fed hostile values. (Member and repository-admin 403s, missing CSRF tokens and `next=`
open redirects are proven there.)"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_settings_page import (  # the same signed-in site fixture
    Site,
    site,  # noqa: F401
)


def fresh_browser(site: Site) -> httpx.Cookies:
    """Switch the site's client to an empty cookie jar; returns the previous browser's."""
    previous = httpx.Cookies(site.client.cookies)
    site.client.cookies = httpx.Cookies()
    return previous


def test_a_planted_session_cookie_does_not_survive_the_victims_sign_in(site: Site) -> None:
    """Session fixation: an attacker signs in, plants their cookie in the victim's browser;
    the victim's sign-in issues a new session id and ends the planted one, so the
    attacker's cookie never becomes the owner's session."""
    site.sign_in("member")
    attacker = httpx.Cookies(site.client.cookies)
    planted = attacker["ghapp_session"]
    fresh_browser(site)
    site.client.cookies = httpx.Cookies(attacker)  # the victim's browser, cookie planted
    site.sign_in("owner")
    assert site.client.cookies["ghapp_session"] != planted
    assert "owner" in site.client.get("/settings").text
    site.client.cookies = attacker
    attacker_view = site.client.get("/settings", follow_redirects=False)
    assert "owner" not in attacker_view.text and "member" not in attacker_view.text
    assert site.switch(1, "label-sync", "off", csrf="x").status_code == 403
    assert site.stored_switches() == []


def test_a_csrf_token_from_another_session_is_refused(site: Site) -> None:
    """Two sessions of the same owner: one's token does not authorise the other's form."""
    site.sign_in("owner")
    mine = site.csrf()
    fresh_browser(site)
    site.sign_in("owner")
    assert site.switch(1, "label-sync", "off", csrf=mine).status_code == 403
    assert site.stored_switches() == []
    assert site.switch(1, "label-sync", "off").status_code == 303


def test_no_state_changes_by_get(site: Site) -> None:
    site.sign_in("owner")
    for path in ("/settings/installations/1/switches", "/settings/logout"):
        answer = site.client.get(
            path, params={"skill": "label-sync", "value": "off"}, follow_redirects=False
        )
        assert answer.status_code == 405, path
    assert site.stored_switches() == []
    assert site.client.get("/settings").status_code == 200
    assert "ghapp_session" in site.client.cookies


@pytest.mark.parametrize(
    "installation_id", ["//evil.example", "1/../../x", "https://evil.example", "1\r\nX: y", ""]
)
def test_the_post_install_landing_never_redirects_off_site(
    site: Site, installation_id: str
) -> None:
    answer = site.client.get(
        "/settings/installed",
        params={"installation_id": installation_id, "setup_action": "install"},
        follow_redirects=False,
    )
    assert answer.status_code < 500
    location = answer.headers.get("location", "/")
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil.example" not in location


FORM_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["label-sync", "hello", "on", "off", "inherit", "octo-org/hello", "alice/notes", ""]
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(["skill", "value", "repository", "extra", "csrf_token"]), FORM_TEXT
    ),
    installation=st.sampled_from([1, 2, 999, 0]),
)
def test_random_switch_forms_are_refused_or_applied_never_a_server_error(
    site: Site, fields: dict[str, str], installation: int
) -> None:
    """Settings forms, property-based: whatever the fields, an owner's post is applied
    (303) or refused with a 4xx; never a 5xx."""
    if "ghapp_session" not in site.client.cookies:
        site.sign_in("owner")
    form = {"csrf_token": site.csrf(), **fields} if "csrf_token" not in fields else fields
    answer = site.client.post(
        f"/settings/installations/{installation}/switches", data=form, follow_redirects=False
    )
    assert answer.status_code in (303, 400, 403, 404), (answer.status_code, answer.text[:300])
