"""The fake GitHub behaves like GitHub for a real githubkit client.

Every route is called through githubkit (app JWT -> installation token -> call) over
`httpx.ASGITransport`, and `.parsed_data` is read so githubkit's pydantic models validate each
answer. Auth rejections, conditional requests, faults and the loopback server are checked too.
"""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from githubkit import AppAuthStrategy, GitHub, OAuthAppAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RequestFailed

from tests.support.fake_github import (
    FakeGitHub,
    Fault,
    generate_test_key,
    other_test_key,
    run_fake_github,
)

PRIVATE_PEM, PUBLIC_PEM = generate_test_key()
BASE = "http://fake"
API = f"{BASE}/api/v3"
REPO = "acme/widgets"


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub(public_key_pem=PUBLIC_PEM)
    fake.add_installation(11, "acme", repositories=[REPO, "acme/gadgets"])
    fake.add_installation(22, "other", repositories=["other/thing"])
    return fake


def github(fake: FakeGitHub, auth: Any = None) -> GitHub[Any]:
    return GitHub(
        auth,
        base_url=API,
        async_transport=httpx.ASGITransport(app=fake.app),
        http_cache=False,
        cache_strategy=MemCacheStrategy(),  # a fresh token cache per client: no test coupling
        auto_retry=False,
    )


def app_client(fake: FakeGitHub, private_pem: bytes = PRIVATE_PEM) -> GitHub[Any]:
    return github(fake, AppAuthStrategy(app_id=1, private_key=private_pem.decode()))


def installation_client(fake: FakeGitHub, installation_id: int = 11) -> GitHub[Any]:
    app = app_client(fake)
    return app.with_auth(app.auth.as_installation(installation_id))


@pytest.fixture
async def raw(fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url=BASE
    ) as client:
        yield client


def make_jwt(
    private_pem: bytes = PRIVATE_PEM, *, iss: str = "1", iat_ago: int = 60, life: int = 600
) -> str:
    issued = int(time.time()) - iat_ago
    return jwt.encode({"iss": iss, "iat": issued, "exp": issued + life}, private_pem, "RS256")


async def status_of(call: Any) -> int:
    with pytest.raises(RequestFailed) as failure:
        await call
    return failure.value.response.status_code


# ------------------------------------------------------------------------------ app


async def test_app_routes_answer_githubkit_models(fake: FakeGitHub) -> None:
    gh = app_client(fake)
    app = (await gh.rest.apps.async_get_authenticated()).parsed_data
    assert app is not None and app.id == 1 and app.slug == "ghapp-test"

    first = await gh.rest.apps.async_list_installations(per_page=1)
    assert [i.id for i in first.parsed_data] == [11]
    assert 'rel="next"' in first.headers["link"]
    every = [i.id async for i in gh.rest.paginate(gh.rest.apps.async_list_installations)]
    assert every == [11, 22]

    inst = (await gh.rest.apps.async_get_installation(22)).parsed_data
    assert inst.account is not None and getattr(inst.account, "login", None) == "other"
    repo_inst = (await gh.rest.apps.async_get_repo_installation("acme", "widgets")).parsed_data
    assert repo_inst.id == 11
    assert await status_of(gh.rest.apps.async_get_installation(99)) == 404
    assert all(r.token_kind == "jwt" for r in fake.requests)


async def test_installation_tokens_are_minted_counted_and_expire(fake: FakeGitHub) -> None:
    gh = installation_client(fake)
    repo = (await gh.rest.repos.async_get("acme", "widgets")).parsed_data
    await gh.rest.repos.async_get("acme", "gadgets")
    assert repo.full_name == REPO and repo.default_branch == "main"
    assert fake.tokens_issued == {11: 1}  # cached by githubkit: one mint for two calls

    mint = fake.requests_to("POST", r"^/app/installations/11/access_tokens$")[0]
    assert mint.token_kind == "jwt"
    token = next(iter(fake.installation_tokens.values()))
    assert token.expires_at - datetime.now(UTC) > timedelta(minutes=59)

    fake.expire_all_tokens()
    assert await status_of(gh.rest.repos.async_get("acme", "widgets")) == 401
    assert fake.requests[-1].token_kind == "installation"


async def test_installation_token_cannot_touch_another_installations_repo(
    fake: FakeGitHub,
) -> None:
    gh = installation_client(fake, 11)
    assert await status_of(gh.rest.repos.async_get("other", "thing")) == 404
    fake.set_file("other/thing", "README.md", "hi")
    assert await status_of(gh.rest.repos.async_get_content("other", "thing", "README.md")) == 404


async def test_down_scoped_token_only_reaches_named_repositories(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    minted = await raw.post(
        "/api/v3/app/installations/11/access_tokens",
        json={"repositories": ["gadgets"]},
        headers={"Authorization": f"Bearer {make_jwt()}"},
    )
    assert minted.status_code == 201
    assert [r["name"] for r in minted.json()["repositories"]] == ["gadgets"]
    headers = {"Authorization": f"token {minted.json()['token']}"}
    assert (await raw.get("/api/v3/repos/acme/gadgets", headers=headers)).status_code == 200
    assert (await raw.get("/api/v3/repos/acme/widgets", headers=headers)).status_code == 404


@pytest.mark.parametrize(
    ("token", "expected_message"),
    [
        pytest.param(lambda: make_jwt(other_test_key()[0]), "could not be decoded", id="wrong-key"),
        pytest.param(lambda: make_jwt(iat_ago=1200), "Expiration time", id="expired"),
        pytest.param(lambda: make_jwt(life=1200, iat_ago=0), "too far", id="too-long"),
        pytest.param(lambda: make_jwt(iss="999"), "Integration not found", id="other-app"),
        pytest.param(lambda: "ghs_notatoken", "Bad credentials", id="unknown-token"),
    ],
)
async def test_bad_jwts_are_rejected(
    raw: httpx.AsyncClient, token: Any, expected_message: str
) -> None:
    answer = await raw.get("/api/v3/app", headers={"Authorization": f"Bearer {token()}"})
    assert answer.status_code == 401
    assert expected_message in answer.json()["message"]
    assert answer.json()["documentation_url"].startswith("https://docs.github.com")


async def test_jwt_by_client_id_is_accepted_but_not_on_repo_routes(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {make_jwt(iss='Iv1.fakeclientid')}"}
    assert (await raw.get("/api/v3/app", headers=headers)).status_code == 200
    assert (await raw.get("/api/v3/repos/acme/widgets", headers=headers)).status_code == 403
    installation_token = fake.mint_installation_token(11).token
    as_installation = {"Authorization": f"token {installation_token}"}
    assert (await raw.get("/api/v3/app", headers=as_installation)).status_code == 401
    anonymous = await raw.get("/api/v3/repos/acme/widgets")
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Bad credentials"


# ------------------------------------------------------------------------- contents


async def test_contents_with_ref_etag_and_404(fake: FakeGitHub, raw: httpx.AsyncClient) -> None:
    fake.set_file(REPO, ".github/ghapp.yml", "skills: [label-sync]\n")
    fake.set_file(REPO, ".github/ghapp.yml", "skills: []\n", ref="release")
    fake.set_file(REPO, ".github/labels.yml", "- name: bug\n")
    gh = installation_client(fake)

    got = await gh.rest.repos.async_get_content("acme", "widgets", ".github/ghapp.yml")
    content = got.parsed_data
    assert getattr(content, "type", None) == "file"
    assert base64.b64decode(getattr(content, "content", "")).decode() == "skills: [label-sync]\n"
    released = await gh.rest.repos.async_get_content(
        "acme", "widgets", ".github/ghapp.yml", ref="release"
    )
    assert base64.b64decode(getattr(released.parsed_data, "content", "")) == b"skills: []\n"
    listing = (await gh.rest.repos.async_get_content("acme", "widgets", ".github")).parsed_data
    assert isinstance(listing, list)
    assert [e.name for e in listing] == ["ghapp.yml", "labels.yml"]

    assert await status_of(gh.rest.repos.async_get_content("acme", "widgets", "nope.yml")) == 404
    missing_ref = gh.rest.repos.async_get_content("acme", "widgets", "x", ref="nosuchref")
    assert await status_of(missing_ref) == 404

    token = next(iter(fake.installation_tokens))
    headers = {"Authorization": f"token {token}"}
    url = "/api/v3/repos/acme/widgets/contents/.github/ghapp.yml"
    first = await raw.get(url, headers=headers)
    etag = first.headers["etag"]
    again = await raw.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"])
    fake.set_file(REPO, ".github/ghapp.yml", "skills: [changed]\n")
    changed = await raw.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


# --------------------------------------------------------------------------- issues


async def test_issue_comments_labels_and_reactions(fake: FakeGitHub) -> None:
    ms = fake.add_milestone(REPO, "v1")
    issue = fake.add_issue(REPO, "Broken", body="it broke", labels=["bug"], milestone=ms.number)
    first_comment = fake.add_comment(REPO, issue.number, "me too", user="alice")
    gh = installation_client(fake)
    issues = gh.rest.issues

    got = (await issues.async_get("acme", "widgets", issue.number)).parsed_data
    assert got.title == "Broken" and got.milestone is not None and got.milestone.open_issues == 1
    patched = await issues.async_update("acme", "widgets", issue.number, state="closed")
    assert patched.parsed_data.state == "closed" and patched.parsed_data.closed_at is not None
    assert fake.repo(REPO).milestones[ms.number] and issue.state == "closed"

    created = await issues.async_create_comment("acme", "widgets", issue.number, body="Thanks!")
    assert created.status_code == 201
    assert created.parsed_data.user is not None
    assert created.parsed_data.user.login == "ghapp-test[bot]"
    listed = (await issues.async_list_comments("acme", "widgets", issue.number)).parsed_data
    assert [c.body for c in listed] == ["me too", "Thanks!"]
    one = (await issues.async_get_comment("acme", "widgets", first_comment)).parsed_data
    assert one.body == "me too"
    edited = await issues.async_update_comment("acme", "widgets", first_comment, body="edited")
    assert edited.parsed_data.body == "edited"

    added = await issues.async_add_labels("acme", "widgets", issue.number, labels=["triage"])
    assert [lb.name for lb in added.parsed_data] == ["bug", "triage"]
    on_issue = await issues.async_list_labels_on_issue("acme", "widgets", issue.number)
    assert [lb.name for lb in on_issue.parsed_data] == ["bug", "triage"]
    replaced = await issues.async_set_labels("acme", "widgets", issue.number, labels=["docs"])
    assert [lb.name for lb in replaced.parsed_data] == ["docs"]
    removed = await issues.async_remove_label("acme", "widgets", issue.number, "DOCS")
    assert removed.parsed_data == []
    gone = issues.async_remove_label("acme", "widgets", issue.number, "docs")
    assert await status_of(gone) == 404
    await issues.async_add_labels("acme", "widgets", issue.number, labels=["bug"])
    cleared = await issues.async_remove_all_labels("acme", "widgets", issue.number)
    assert cleared.status_code == 204 and issue.label_ids == []

    reactions = gh.rest.reactions
    new = await reactions.async_create_for_issue_comment(
        "acme", "widgets", first_comment, content="eyes"
    )
    assert new.status_code == 201 and new.parsed_data.content == "eyes"
    same = await reactions.async_create_for_issue_comment(
        "acme", "widgets", first_comment, content="eyes"
    )
    assert same.status_code == 200 and same.parsed_data.id == new.parsed_data.id
    on_issue_reaction = await reactions.async_create_for_issue(
        "acme", "widgets", issue.number, content="+1"
    )
    assert on_issue_reaction.status_code == 201
    pull = fake.add_pull(REPO, "Fix", files=[{"filename": "a.py"}])
    review_comment = fake.add_review_comment(REPO, pull.number, "why?")
    on_review = await reactions.async_create_for_pull_request_review_comment(
        "acme", "widgets", review_comment, content="rocket"
    )
    assert on_review.status_code == 201
    counted = (await issues.async_get_comment("acme", "widgets", first_comment)).parsed_data
    assert getattr(counted.reactions, "eyes", None) == 1
    assert await status_of(issues.async_get("acme", "widgets", 999)) == 404

    deleted = await issues.async_delete_comment("acme", "widgets", first_comment)
    assert deleted.status_code == 204
    remaining = (await issues.async_list_comments("acme", "widgets", issue.number)).parsed_data
    assert [c.body for c in remaining] == ["Thanks!"]


async def test_bad_input_answers_as_github_does(fake: FakeGitHub, raw: httpx.AsyncClient) -> None:
    issue = fake.add_issue(REPO, "x")
    gh = installation_client(fake)
    await gh.rest.repos.async_get("acme", "widgets")
    headers = {"Authorization": f"token {next(iter(fake.installation_tokens))}"}
    base = f"/api/v3/repos/acme/widgets/issues/{issue.number}"
    no_body = await raw.post(f"{base}/comments", json={}, headers=headers)
    assert no_body.status_code == 422
    assert no_body.json() == {
        "message": 'Invalid request.\n\n"body" wasn\'t supplied.',
        "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        "status": "422",
    }
    bad_reaction = await raw.post(f"{base}/reactions", json={"content": "meh"}, headers=headers)
    assert bad_reaction.status_code == 422
    assert "'meh' is not one of" in bad_reaction.json()["message"]
    not_an_object = await raw.patch(base, content=b"[1]", headers=headers)
    assert not_an_object.status_code == 422
    not_json = await raw.patch(base, content=b"{oops", headers=headers)
    assert (not_json.status_code, not_json.json()["message"]) == (400, "Problems parsing JSON")
    # Nothing reached a handler: the issue has no comment and no reaction.
    assert fake.repo(REPO).comments == {} and issue.reactions == []
    assert [(v.kind, v.status) for v in fake.take_violations()] == [
        ("bad-body", 422),
        ("bad-body", 422),
        ("bad-body", 422),
        ("bad-body", 400),
    ]


# ---------------------------------------------------------------------------- pulls


async def test_pulls_list_filters_files_and_replies(fake: FakeGitHub) -> None:
    files = [{"filename": f"f{n}.py", "additions": n, "deletions": 1} for n in range(35)]
    first = fake.add_pull(REPO, "First", head="one", files=files)
    second = fake.add_pull(REPO, "Second", head="two", base="dev")
    fake.add_pull(REPO, "Old", head="three", state="closed", merged=True)
    gh = installation_client(fake)
    pulls = gh.rest.pulls

    open_pulls = (await pulls.async_list("acme", "widgets")).parsed_data
    assert [p.number for p in open_pulls] == [second.number, first.number]
    ascending = await pulls.async_list("acme", "widgets", state="all", direction="asc")
    assert [p.title for p in ascending.parsed_data] == ["First", "Second", "Old"]
    on_dev = (await pulls.async_list("acme", "widgets", base="dev")).parsed_data
    assert [p.number for p in on_dev] == [second.number]
    closed = (await pulls.async_list("acme", "widgets", state="closed")).parsed_data
    assert [p.title for p in closed] == ["Old"]

    got = (await pulls.async_get("acme", "widgets", first.number)).parsed_data
    assert got.changed_files == 35 and got.head.ref == "one" and got.merged is False
    page_one = await pulls.async_list_files("acme", "widgets", first.number)
    assert len(page_one.parsed_data) == 30 and 'rel="next"' in page_one.headers["link"]
    every = [
        f.filename
        async for f in gh.rest.paginate(
            pulls.async_list_files, owner="acme", repo="widgets", pull_number=first.number
        )
    ]
    assert every == [f"f{n}.py" for n in range(35)]

    parent = fake.add_review_comment(REPO, first.number, "Why this?", user="bob", path="f1.py")
    reply = await pulls.async_create_reply_for_review_comment(
        "acme", "widgets", first.number, parent, body="Because."
    )
    assert reply.status_code == 201
    assert reply.parsed_data.in_reply_to_id == parent and reply.parsed_data.path == "f1.py"
    wrong_pull = pulls.async_create_reply_for_review_comment(
        "acme", "widgets", second.number, parent, body="x"
    )
    assert await status_of(wrong_pull) == 404


# --------------------------------------------------------------------------- labels


async def test_label_crud_pagination_and_rename(fake: FakeGitHub) -> None:
    for n in range(120):
        fake.add_label(REPO, f"label-{n:03}")
    issue = fake.add_issue(REPO, "x", labels=["label-007"])
    gh = installation_client(fake)
    issues = gh.rest.issues

    page = await issues.async_list_labels_for_repo("acme", "widgets", per_page=100)
    assert len(page.parsed_data) == 100 and 'rel="last"' in page.headers["link"]
    every = [
        lb.name
        async for lb in gh.rest.paginate(
            issues.async_list_labels_for_repo, owner="acme", repo="widgets", per_page=100
        )
    ]
    assert len(every) == 120

    created = await issues.async_create_label("acme", "widgets", name="Bug", color="d73a4a")
    assert created.status_code == 201 and created.parsed_data.color == "d73a4a"
    duplicate = issues.async_create_label("acme", "widgets", name="bug")
    with pytest.raises(RequestFailed) as failure:
        await duplicate
    assert failure.value.response.status_code == 422
    assert failure.value.response.json()["errors"][0]["code"] == "already_exists"

    assert (await issues.async_get_label("acme", "widgets", "BUG")).parsed_data.name == "Bug"
    renamed = await issues.async_update_label(
        "acme", "widgets", "label-007", new_name="kind: bug", color="00ff00"
    )
    assert renamed.parsed_data.name == "kind: bug"
    on_issue = (await issues.async_get("acme", "widgets", issue.number)).parsed_data
    assert [getattr(lb, "name", lb) for lb in on_issue.labels] == ["kind: bug"]

    deleted = await issues.async_delete_label("acme", "widgets", "kind: bug")
    assert deleted.status_code == 204 and issue.label_ids == []
    assert await status_of(issues.async_get_label("acme", "widgets", "kind: bug")) == 404


async def test_milestones_count_issues_and_filter_state(fake: FakeGitHub) -> None:
    v1 = fake.add_milestone(REPO, "v1")
    fake.add_milestone(REPO, "v0", state="closed")
    fake.add_issue(REPO, "a", milestone=v1.number)
    fake.add_issue(REPO, "b", milestone=v1.number, state="closed")
    gh = installation_client(fake)
    issues = gh.rest.issues

    open_ones = (await issues.async_list_milestones("acme", "widgets")).parsed_data
    assert [m.title for m in open_ones] == ["v1"]
    assert (open_ones[0].open_issues, open_ones[0].closed_issues) == (1, 1)
    every = (await issues.async_list_milestones("acme", "widgets", state="all")).parsed_data
    assert sorted(m.title for m in every) == ["v0", "v1"]
    got = (await issues.async_get_milestone("acme", "widgets", v1.number)).parsed_data
    assert got.number == v1.number
    closed = await issues.async_update_milestone("acme", "widgets", v1.number, state="closed")
    assert closed.parsed_data.state == "closed" and closed.parsed_data.closed_at is not None


async def test_collaborator_permission_maps_roles_like_github(fake: FakeGitHub) -> None:
    fake.set_permission(REPO, "mia", "maintain")
    fake.set_permission(REPO, "tom", "triage")
    fake.add_user("olga", org_roles={"acme": "admin"})
    gh = installation_client(fake)
    repos = gh.rest.repos

    mia = await repos.async_get_collaborator_permission_level("acme", "widgets", "mia")
    assert (mia.parsed_data.permission, mia.parsed_data.role_name) == ("write", "maintain")
    tom = await repos.async_get_collaborator_permission_level("acme", "widgets", "tom")
    assert (tom.parsed_data.permission, tom.parsed_data.role_name) == ("read", "triage")
    olga = await repos.async_get_collaborator_permission_level("acme", "widgets", "olga")
    assert olga.parsed_data.role_name == "admin"
    fake.set_permission(REPO, "ned", "none")
    ned = await repos.async_get_collaborator_permission_level("acme", "widgets", "ned")
    assert ned.parsed_data.permission == "none"


# ------------------------------------------------------------------------- releases


async def test_releases_drafts_latest_tags_and_assets(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    fake.add_release(REPO, "v1.0.0", name="One")
    fake.add_release(REPO, "v1.1.0-rc.1", prerelease=True)
    gh = installation_client(fake)
    repos = gh.rest.repos

    draft = await repos.async_create_release("acme", "widgets", tag_name="v1.1.0", draft=True)
    assert draft.status_code == 201 and draft.parsed_data.draft
    listed = (await repos.async_list_releases("acme", "widgets")).parsed_data
    assert [r.tag_name for r in listed] == ["v1.1.0", "v1.1.0-rc.1", "v1.0.0"]
    latest = (await repos.async_get_latest_release("acme", "widgets")).parsed_data
    assert latest.tag_name == "v1.0.0"
    by_tag = (await repos.async_get_release_by_tag("acme", "widgets", "v1.0.0")).parsed_data
    assert by_tag.name == "One"
    assert await status_of(repos.async_get_release_by_tag("acme", "widgets", "v1.1.0")) == 404
    duplicate = repos.async_create_release("acme", "widgets", tag_name="v1.0.0")
    assert await status_of(duplicate) == 422

    release_id = draft.parsed_data.id
    uploaded = await repos.async_upload_release_asset(
        "acme", "widgets", release_id, name="notes.txt", data=b"hello"
    )
    assert uploaded.status_code == 201 and uploaded.parsed_data.size == 5
    upload_url = draft.parsed_data.upload_url.split("{", 1)[0]
    assert upload_url.startswith(f"{BASE}/api/uploads/repos/acme/widgets/releases/")
    token = next(iter(fake.installation_tokens))
    via_upload_host = await raw.post(
        upload_url,
        params={"name": "app.tar.gz"},
        content=b"\x1f\x8b",
        headers={"Authorization": f"token {token}", "Content-Type": "application/gzip"},
    )
    assert via_upload_host.status_code == 201
    assert fake.repo(REPO).assets[via_upload_host.json()["id"]].content_type == "application/gzip"
    assets = (await repos.async_list_release_assets("acme", "widgets", release_id)).parsed_data
    assert [a.name for a in assets] == ["notes.txt", "app.tar.gz"]
    deleted = await repos.async_delete_release_asset("acme", "widgets", assets[0].id)
    assert deleted.status_code == 204

    published = await repos.async_update_release("acme", "widgets", release_id, draft=False)
    assert published.parsed_data.published_at is not None
    latest = (await repos.async_get_latest_release("acme", "widgets")).parsed_data
    assert latest.tag_name == "v1.1.0" and [a.name for a in latest.assets] == ["app.tar.gz"]
    download = await raw.get(latest.assets[0].browser_download_url)
    assert download.content == b"\x1f\x8b"
    assert (await repos.async_delete_release("acme", "widgets", release_id)).status_code == 204
    assert await status_of(repos.async_get_release("acme", "widgets", release_id)) == 404


# ----------------------------------------------------------------- commits, checks, actions


async def test_compare_check_runs_and_commit_comments(fake: FakeGitHub) -> None:
    fake.add_tag(REPO, "v1.0.0")
    fake.add_commit(REPO, "feat: add widgets", author_login="alice")
    head = fake.add_commit(REPO, "fix: stop crash\n\nCloses #1", author_login=None)
    gh = installation_client(fake)

    compared = await gh.rest.repos.async_compare_commits("acme", "widgets", "v1.0.0...main")
    data = compared.parsed_data
    assert (data.status, data.ahead_by, data.total_commits) == ("ahead", 2, 2)
    assert [c.commit.message.splitlines()[0] for c in data.commits] == [
        "feat: add widgets",
        "fix: stop crash",
    ]
    assert data.commits[0].author is not None and data.commits[1].author is None
    assert await status_of(gh.rest.repos.async_compare_commits("acme", "widgets", "x...main"))

    created = await gh.rest.checks.async_create(
        "acme", "widgets", name="ghapp", head_sha=head, status="in_progress"
    )
    assert created.status_code == 201 and created.parsed_data.status == "in_progress"
    updated = await gh.rest.checks.async_update(
        "acme",
        "widgets",
        created.parsed_data.id,
        conclusion="success",
        output={"title": "ok", "summary": "all good"},
    )
    assert updated.parsed_data.status == "completed"
    assert updated.parsed_data.output.summary == "all good"

    comment = await gh.rest.repos.async_create_commit_comment(
        "acme", "widgets", head[:7], body="Released in v1.1.0"
    )
    assert comment.status_code == 201 and comment.parsed_data.commit_id == head


async def test_dispatch_artifacts_and_zip_download(fake: FakeGitHub) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.json", "{}")
    run_id = fake.add_workflow_run(REPO, {"report": buffer.getvalue()})
    gh = installation_client(fake)

    sent = await gh.rest.repos.async_create_dispatch_event(
        "acme", "widgets", event_type="ghapp", client_payload={"n": 1}
    )
    assert sent.status_code == 204
    assert fake.repo(REPO).dispatches == [{"event_type": "ghapp", "client_payload": {"n": 1}}]

    listed = await gh.rest.actions.async_list_workflow_run_artifacts("acme", "widgets", run_id)
    assert listed.parsed_data.total_count == 1
    artifact = listed.parsed_data.artifacts[0]
    downloaded = await gh.rest.actions.async_download_artifact(
        "acme", "widgets", artifact.id, "zip"
    )
    assert downloaded.status_code == 200 and downloaded.content == buffer.getvalue()
    assert fake.requests_to("GET", r"/actions/artifacts/\d+/zip$")[0].status == 302
    missing = gh.rest.actions.async_list_workflow_run_artifacts("acme", "widgets", 1)
    assert await status_of(missing) == 404


async def test_hook_deliveries_cursor_pagination_and_redelivery(fake: FakeGitHub) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(5):
        fake.add_hook_delivery(f"guid-{n}", "issues", "opened", 200 if n else 502, start)
    gh = app_client(fake)
    apps = gh.rest.apps

    first = await apps.async_list_webhook_deliveries(per_page=2)
    assert [d.guid for d in first.parsed_data] == ["guid-4", "guid-3"]
    next_url = first.headers["link"].split(";")[0].strip("<>")
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    second = await apps.async_list_webhook_deliveries(per_page=2, cursor=cursor)
    assert [d.guid for d in second.parsed_data] == ["guid-2", "guid-1"]
    every = [d.guid async for d in gh.rest.paginate(apps.async_list_webhook_deliveries)]
    assert len(every) == 5

    all_deliveries = (await apps.async_list_webhook_deliveries()).parsed_data
    failed = next(d for d in all_deliveries if d.guid == "guid-0")
    assert failed.status_code == 502
    detail = (await apps.async_get_webhook_delivery(failed.id)).parsed_data
    assert detail.request.headers is not None
    again = await apps.async_redeliver_webhook_delivery(failed.id)
    assert again.status_code == 202 and fake.redelivery_requests == [failed.id]
    newest = (await apps.async_list_webhook_deliveries(per_page=1)).parsed_data[0]
    assert (newest.guid, newest.redelivery) == ("guid-0", True)


# --------------------------------------------------------------------- users and OAuth


async def test_oauth_web_flow_user_routes_and_org_membership(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    fake.add_user("olga", org_roles={"acme": "admin"})
    fake.add_user("max", org_roles={"acme": "member"})
    fake.browser_user = "olga"
    authorize = await raw.get(
        "/login/oauth/authorize",
        params={"client_id": "Iv1.fakeclientid", "redirect_uri": "http://app/cb", "state": "s1"},
    )
    assert authorize.status_code == 302
    query = parse_qs(urlsplit(authorize.headers["location"]).query)
    assert query["state"] == ["s1"]

    bad = await raw.post(
        "/login/oauth/access_token",
        json={"client_id": "Iv1.fakeclientid", "client_secret": "wrong", "code": "x"},
        headers={"Accept": "application/json"},
    )
    assert bad.json()["error"] == "incorrect_client_credentials"

    oauth_app = OAuthAppAuthStrategy("Iv1.fakeclientid", "fakeclientsecret")
    user_gh = github(fake, oauth_app.as_web_user(query["code"][0]))
    me = (await user_gh.rest.users.async_get_authenticated()).parsed_data
    assert me.login == "olga"
    installs = await user_gh.rest.apps.async_list_installations_for_authenticated_user()
    assert [i.id for i in installs.parsed_data.installations] == [11]
    repos = await user_gh.rest.apps.async_list_installation_repos_for_authenticated_user(11)
    assert sorted(r.full_name for r in repos.parsed_data.repositories) == [
        "acme/gadgets",
        REPO,
    ]
    other = user_gh.rest.apps.async_list_installation_repos_for_authenticated_user(22)
    assert await status_of(other) == 404
    member = (await user_gh.rest.orgs.async_get_membership_for_user("acme", "max")).parsed_data
    assert (member.role, member.state) == ("member", "active")
    assert await status_of(user_gh.rest.orgs.async_get_membership_for_user("acme", "zed")) == 404
    assert fake.requests_to("GET", "^/user$")[0].token_kind == "user"

    # An installation token may read memberships but is not a user.
    gh = installation_client(fake)
    admin = (await gh.rest.orgs.async_get_membership_for_user("acme", "olga")).parsed_data
    assert admin.role == "admin"
    assert await status_of(gh.rest.users.async_get_authenticated()) == 403


async def test_manifest_flow_registers_a_working_app(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    manifest = {
        "name": "My ghapp",
        "url": "http://app",
        "hook_attributes": {"url": "http://app/webhook"},
        "redirect_url": "http://app/setup/done",
        "default_events": ["issues"],
    }
    created = await raw.post(
        "/organizations/acme/settings/apps/new?state=xyz",
        data={"manifest": json.dumps(manifest)},
    )
    assert created.status_code == 302
    target = urlsplit(created.headers["location"])
    assert target.path == "/setup/done"
    code = parse_qs(target.query)["code"][0]
    assert parse_qs(target.query)["state"] == ["xyz"]
    invalid = await raw.post("/settings/apps/new", data={"manifest": json.dumps({"name": "x"})})
    assert invalid.status_code == 422

    unauthenticated = github(fake)  # keep a reference: `.rest` holds its client weakly
    converted = await unauthenticated.rest.apps.async_create_from_manifest(code)
    app = converted.parsed_data
    assert converted.status_code == 201 and app.slug == "my-ghapp" and app.events == ["issues"]
    assert app.pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert await status_of(unauthenticated.rest.apps.async_create_from_manifest(code)) == 404
    new_jwt = make_jwt(app.pem.encode(), iss=str(app.id))
    whoami = await raw.get("/api/v3/app", headers={"Authorization": f"Bearer {new_jwt}"})
    assert whoami.json()["slug"] == "my-ghapp"
    page = await raw.get("/apps/my-ghapp/installations/new")
    assert page.status_code == 200 and "My ghapp" in page.text


async def test_graphql_discussion_reply_and_reaction(fake: FakeGitHub) -> None:
    top = fake.add_discussion_comment("D_kwDOdisc", "How do I …?", "alice")
    gh = installation_client(fake)
    reply = await gh.async_graphql(
        "mutation($input: AddDiscussionCommentInput!) {"
        " addDiscussionComment(input: $input) { comment { id url } } }",
        {"input": {"discussionId": "D_kwDOdisc", "replyToId": top.node_id, "body": "Like so."}},
    )
    new_id = reply["addDiscussionComment"]["comment"]["id"]
    assert fake.discussion_comments[new_id].reply_to_id == top.node_id
    assert fake.discussion_comments[new_id].user == "ghapp-test[bot]"
    reacted = await gh.async_graphql(
        f'mutation {{ addReaction(input: {{subjectId: "{top.node_id}", content: EYES}})'
        " { reaction { content } } }"
    )
    assert reacted["addReaction"]["reaction"]["content"] == "EYES"
    assert fake.graphql_reactions == [
        {"subject_id": top.node_id, "content": "EYES", "by": "ghapp-test[bot]"}
    ]
    assert [r.path for r in fake.requests_to("POST", "graphql")] == ["/graphql", "/graphql"]


# ---------------------------------------------------------------------- cross-cutting


async def test_faults_apply_once_with_delay_and_headers(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    fake.faults.append(
        Fault(
            method="GET",
            path_regex=r"^/repos/acme/widgets$",
            status=502,
            headers={"retry-after": "1"},
            body={"message": "Server Error"},
            delay=0.05,
        )
    )
    gh = installation_client(fake)
    started = time.monotonic()
    assert await status_of(gh.rest.repos.async_get("acme", "widgets")) == 502
    assert time.monotonic() - started >= 0.05
    assert fake.requests[-1].status == 502
    again = await gh.rest.repos.async_get("acme", "widgets")
    assert again.status_code == 200 and fake.faults[0].times == 0
    for name in ("limit", "remaining", "reset", "used", "resource"):
        assert f"x-ratelimit-{name}" in again.headers


async def test_unknown_routes_are_404_and_recorded(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.get("/api/v3/repos/acme/widgets/teleport")
    assert answer.status_code == 404 and answer.json()["message"] == "Not Found"
    assert [r.path for r in fake.unrouted_requests()] == ["/repos/acme/widgets/teleport"]
    [violation] = fake.take_violations()
    assert (violation.kind, violation.path) == ("unknown-route", "/repos/acme/widgets/teleport")


async def test_latency_delays_every_answer(fake: FakeGitHub, raw: httpx.AsyncClient) -> None:
    fake.latency = 0.05
    started = time.monotonic()
    await raw.get("/api/v3/app")
    assert time.monotonic() - started >= 0.05


def test_run_fake_github_serves_over_loopback(fake: FakeGitHub) -> None:
    with run_fake_github(fake) as root:
        assert root.startswith("http://127.0.0.1:")
        answer = httpx.get(f"{root}/api/v3/app", headers={"Authorization": f"Bearer {make_jwt()}"})
        assert answer.status_code == 200
        assert answer.json()["html_url"] == f"{root}/apps/ghapp-test"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{root}/api/v3/app", timeout=1)
