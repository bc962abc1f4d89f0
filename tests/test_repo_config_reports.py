"""What the config check says on a commit, tried as an attacker would (issue 15 item 11):
nothing read from a file other than the repository's own — an `_extends` base, possibly
private, or the owner's `.github` file — reaches the check run, which people who cannot
read that file may see. Such a file is named by its path only. Also: a missing base is
reported and the rest applies (issue 22), and a section that is not a mapping is invalid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghapp.bus import load_skills
from ghapp.testing import SkillTestApp, outcomes
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issue_comment_created, push_event

REPO = "octo-org/hello"
FILE = ".github/ghapp.yml"
PRIVATE = "octo-org/private-repo"
SECRETS = ("aws_secret_access_key", "AKIAEXAMPLE0SECRET", "internal.corp", "SECRET7")
# A file the attacker cannot read, full of things that must stay in it: an unknown
# top-level key with a secret value, a responder URL, a bad value in a known section.
PRIVATE_FILE = """\
aws_secret_access_key: AKIAEXAMPLE0SECRET
mention-reply:
  responder: http://internal.corp:8080/hook
label-sync:
  labels:
    - name: SECRET7
      color: SECRET7
"""


@pytest.fixture
async def app(tmp_path: Path, fake_github: FakeGitHub) -> AsyncIterator[SkillTestApp]:
    fake_github.add_repo(PRIVATE, installation_id=1, private=True)
    async with SkillTestApp(
        tmp_path, github_app=fake_github.app, skills=list(load_skills().values())
    ) as app:
        yield app


async def check_run_for(app: SkillTestApp, fake: FakeGitHub, text: str) -> dict[str, Any]:
    """Commit `text` as the repository's file and return the check run ghapp posts."""
    fake.set_file(REPO, FILE, text)
    head = fake.add_commit(REPO, "change the config")
    push = push_event("refs/heads/main", files_changed=[FILE])
    push["after"] = head
    push["repository"]["default_branch"] = "main"
    await app.dispatch("push", push)
    posted = fake.requests_to("POST", rf"/repos/{REPO}/check-runs$")
    assert posted, "no check run"
    body = posted[-1].json
    assert isinstance(body, dict) and body["head_sha"] == head
    return body


def shown(body: dict[str, Any]) -> str:
    return body["output"]["title"] + "\n" + body["output"]["summary"]


async def test_an_extended_private_file_is_named_by_its_path_only(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(PRIVATE, "any/path.yml", PRIVATE_FILE)
    body = await check_run_for(
        app, fake_github, f"_extends: {PRIVATE}:any/path.yml\nhello:\n  greeting: Hi\n"
    )
    assert body["conclusion"] == "failure"
    text = shown(body)
    assert f"`{PRIVATE}:any/path.yml` is not a valid ghapp config" in text
    assert [s for s in SECRETS if s in text] == []


async def test_the_same_keys_in_the_repositorys_own_file_are_shown_to_its_author(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    """The control: the check does say what is wrong, when the file is the author's own."""
    body = await check_run_for(app, fake_github, PRIVATE_FILE)
    text = shown(body)
    assert body["conclusion"] == "failure"
    assert "aws_secret_access_key: no such skill" in text
    assert "label-sync.labels.0.color" in text


async def test_a_base_that_is_not_yaml_or_chains_on_is_named_by_its_path_only(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(PRIVATE, "broken.yml", "token: [AKIAEXAMPLE0SECRET\n")
    body = await check_run_for(app, fake_github, f"_extends: {PRIVATE}:broken.yml\n")
    # Its line, and the line on GitHub: nothing of its content.
    assert shown(body).splitlines()[1:] == [
        f"- `{PRIVATE}:broken.yml` is not a valid ghapp config (line 2)",
        "",
        f"**Next:** Fix line 2 of `{PRIVATE}:broken.yml`; the next event uses it. "
        f"[Open line 2 of broken.yml](https://github.com/{PRIVATE}/blob/HEAD/broken.yml#L2)",
    ]
    # A base whose own `_extends` names something secret, missing or looping.
    fake_github.set_file(PRIVATE, "chain.yml", "_extends: secret-org/SECRET7-plans\n")
    body = await check_run_for(app, fake_github, f"_extends: {PRIVATE}:chain.yml\n")
    assert body["conclusion"] == "neutral"
    assert "SECRET7" not in shown(body) and f"{PRIVATE}:chain.yml extends a file" in shown(body)
    fake_github.set_file(PRIVATE, "loop.yml", f"_extends: {REPO.split('/')[1]}:SECRET7.yml\n")
    fake_github.set_file(REPO, "SECRET7.yml", f"_extends: {PRIVATE}:loop.yml\n")
    body = await check_run_for(app, fake_github, f"_extends: {PRIVATE}:loop.yml\n")
    assert body["conclusion"] == "failure" and "SECRET7" not in shown(body)
    assert "loops back" in shown(body)


async def test_a_missing_base_is_reported_and_the_rest_of_the_file_applies(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    body = await check_run_for(
        app, fake_github, "_extends: renamed-base\nhello:\n  greeting: Still here\n"
    )
    assert body["conclusion"] == "neutral"
    assert shown(body).splitlines() == [
        "Configuration applies, with warnings",
        f"- {REPO}:{FILE} extends `octo-org/renamed-base:{FILE}`, which does not exist or "
        "which the App cannot read: the rest of the configuration applies",
    ]
    # And it does apply: the repository's own greeting answers.
    fake_github.add_issue(REPO, "Hi")
    comment = fake_github.add_comment(REPO, 1, "@ghapp-test hello", user="mona")
    delivery = await app.dispatch(
        "issue_comment",
        issue_comment_created(
            "@ghapp-test hello", login="mona", issue_number=1, comment_id=comment
        ),
    )
    assert outcomes(delivery)["mention-reply"] == "ok"
    replies = fake_github.requests_to("POST", rf"/repos/{REPO}/issues/1/comments$")
    assert [r.json["body"].split("\n")[0] for r in replies] == ["Still here mona!"]  # type: ignore[index]


@pytest.mark.parametrize("section", ["off", "malformed yaml", "true", "[a, b]", "0755"])
async def test_a_section_that_is_not_a_mapping_is_invalid_not_configured(
    app: SkillTestApp, fake_github: FakeGitHub, section: str
) -> None:
    body = await check_run_for(app, fake_github, f"label-sync: {section}\n")
    assert body["conclusion"] == "failure"
    assert "label-sync: must be a mapping of options" in shown(body)
    config = await app.runtime.options_resolver.load_config(
        await app.runtime.clients.installation(1), app_repo()
    )
    skill = app.runtime.skills["label-sync"]
    assert await app.runtime.options_resolver.options_for(skill, config, app_repo()) is None


def app_repo() -> Any:
    from ghapp.context import RepoRef

    return RepoRef.parse(REPO)


async def test_a_syntax_error_in_the_own_file_names_its_line_and_links_it(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    body = await check_run_for(app, fake_github, "hello:\n  greeting: Hi\n  bad: [1, 2\n")
    assert body["conclusion"] == "failure"
    lines = shown(body).splitlines()
    assert lines[1].startswith(f"- {REPO}:{FILE}: ") and "at line 4, column 1" in lines[1]
    assert lines[3] == (
        f"**Next:** Fix line 4 of {FILE}; the next event uses it. [Open line 4 of {FILE}]"
        f"(https://github.com/{REPO}/blob/main/{FILE}#L4)"
    )


async def test_an_invalid_option_of_an_extends_base_links_the_base_s_line(
    app: SkillTestApp, fake_github: FakeGitHub
) -> None:
    fake_github.set_file(PRIVATE, "base.yml", "# shared\nlabel-sync:\n  labels: SECRET7\n")
    body = await check_run_for(app, fake_github, f"_extends: {PRIVATE}:base.yml\n")
    text = shown(body)
    assert (
        f"- `{PRIVATE}:base.yml` is not a valid ghapp config (its `label-sync` section) (line 3)"
        in text
    )
    assert f"[Open line 3 of base.yml](https://github.com/{PRIVATE}/blob/HEAD/base.yml#L3)" in text
    assert [s for s in SECRETS if s in text] == []
