"""Secrets never reach logs, responses or pages: the whole flow at LOG_LEVEL=debug.

`ghapp run` as a real process against the fake GitHub: deliveries handled by the example
skill and mention-reply (installation tokens minted, expired and minted again, GitHub
failing once), a forged delivery, a settings-page sign-in through the OAuth web flow
(client secret, user token, refresh token), the pages and `/metrics`. Then every log
line and every body the App answered is searched for each secret the test knows or the
fake GitHub issued.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ghapp.testing import WEBHOOK_SECRET, test_key_pair
from tests.support.fake_github import FakeGitHub, Fault, run_fake_github
from tests.support.ghapp_process import GhappProcess, wait_for
from tests.support.payloads import issue_comment_created, issues_event

pytestmark = pytest.mark.slow
CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fakeclientsecret"
SESSION_SECRET = "session-secret-for-the-secrets-test-0123456789"
REPO = "octo-org/hello"


def key_fragments(pem: str) -> list[str]:
    """The key's base64 lines, and the raw key bytes in other encodings a log might use."""
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    raw = base64.b64decode("".join(lines))
    return [*lines, raw.hex()[:64], base64.urlsafe_b64encode(raw).decode()[:64]]


def test_no_secret_appears_in_any_log_line_response_or_page(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake = fake_github
    fake.add_user("owner", org_roles={"octo-org": "admin"})
    private, _ = test_key_pair()
    bodies: list[str] = []

    with run_fake_github(fake) as github_url:
        app = GhappProcess(
            tmp_path,
            github_url,
            LOG_LEVEL="debug",
            GITHUB_CLIENT_ID=CLIENT_ID,
            GITHUB_CLIENT_SECRET=CLIENT_SECRET,
            SESSION_SECRET=SESSION_SECRET,
        ).start()
        try:
            first = fake.add_issue(REPO, "First", user="mona").number
            bodies.append(app.send("issues", issues_event("opened", number=first)).text)
            wait_for(lambda: len(fake.requests_to("POST", rf"/issues/{first}/comments$")) == 1)

            # The token expires early and GitHub fails once: both paths log at debug.
            fake.expire_all_tokens()
            fake.faults.append(Fault("POST", r"/comments$", 502, times=1))
            second = fake.add_issue(REPO, "Second", user="mona").number
            comment = fake.add_comment(REPO, second, "@ghapp-test help", user="mona")
            mention = issue_comment_created(
                "@ghapp-test help", login="mona", issue_number=second, comment_id=comment
            )
            bodies.append(app.send("issue_comment", mention).text)
            bodies.append(app.send("issues", issues_event("opened"), secret="forged").text)
            wait_for(
                lambda: any(
                    r.status == 201 for r in fake.requests_to("POST", rf"/{second}/comments$")
                ),
                timeout=90,
            )

            with httpx.Client(base_url=app.url, timeout=10) as browser:
                fake.browser_user = "owner"
                start = browser.get("/settings/login", follow_redirects=False)
                authorize = httpx.get(start.headers["location"], follow_redirects=False)
                back = urlsplit(authorize.headers["location"])
                done = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
                assert done.status_code == 303, done.text
                for path in ("/settings", "/settings/installations/1", "/metrics", "/readyz"):
                    page = browser.get(path, params={"repo": REPO} if "install" in path else None)
                    assert page.status_code == 200, (path, page.text)
                    bodies.append(page.text)
                bodies.append(str(browser.cookies.jar))
                bodies.append(
                    browser.get("/settings/auth/callback", params={"code": "x", "state": "y"}).text
                )
        finally:
            app.stop()
    logs = app.logs()

    assert fake.tokens_issued[1] >= 2  # a second token was minted after the expiry
    assert fake.user_tokens  # the sign-in really happened
    assert "github request" in logs  # debug logging was on
    secrets = {
        "webhook secret": [WEBHOOK_SECRET],
        "client secret": [CLIENT_SECRET],
        "session secret": [SESSION_SECRET],
        "private key": key_fragments(private),
        "installation token": list(fake.installation_tokens),
        "user token": list(fake.user_tokens),
        "refresh token": [t.refresh_token for t in fake.user_tokens.values()],
    }
    leaks = {
        (name, value[:12] + "…", where)
        for name, values in secrets.items()
        for value in values
        for where, text in (("log", logs), *(("response", b) for b in bodies))
        if value and value in text
    }
    assert leaks == set()
