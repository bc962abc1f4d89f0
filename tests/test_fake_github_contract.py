"""The fake GitHub says no where GitHub would, and the test that caused it fails.

Each refusal is checked three ways: the answer (status and GitHub's error body), the
violation the fake writes down, and that nothing reached a handler. The last tests run a
small test file in a pytest subprocess to prove the plugin fails a test that provoked a
refusal without taking it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml

from ghapp.bus import load_skills
from ghapp.manifest import build_manifest
from tests.support.fake_github import FakeGitHub, generate_test_key
from tests.support.fake_github.contract import rest_contract
from tests.support.fake_github.core import ROUTES
from tests.support.fake_github.permissions import (
    NO_INSTALLATION_PERMISSION,
    REQUIRED,
    missing_permission,
)

PRIVATE_PEM, PUBLIC_PEM = generate_test_key()
REPO = "acme/widgets"
R = f"/api/v3/repos/{REPO}"
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub(public_key_pem=PUBLIC_PEM)
    fake.add_installation(11, "acme", repositories=[REPO])
    return fake


@pytest.fixture
async def raw(fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url="http://fake"
    ) as client:
        yield client


def token(fake: FakeGitHub, installation_id: int = 11, **kwargs: Any) -> dict[str, str]:
    minted = fake.mint_installation_token(installation_id, **kwargs)
    return {"Authorization": f"token {minted.token}"}


def kinds(fake: FakeGitHub) -> list[tuple[str, int]]:
    return [(v.kind, v.status) for v in fake.take_violations()]


# ------------------------------------------------------------------- routes and methods


async def test_a_route_github_does_not_have_is_404(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.get(f"{R}/teleport", headers=token(fake))
    assert answer.status_code == 404
    assert answer.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
    [violation] = fake.take_violations()
    assert str(violation) == (
        "GET /repos/acme/widgets/teleport -> 404 [unknown-route] no such route in the REST API"
    )


async def test_a_wrong_method_is_404_even_where_the_fake_has_a_handler(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    issue = fake.add_issue(REPO, "x")
    # PUT on the comments of an issue: GitHub has GET and POST there.
    answer = await raw.put(
        f"{R}/issues/{issue.number}/comments", json={"body": "hi"}, headers=token(fake)
    )
    assert (answer.status_code, answer.json()["message"]) == (404, "Not Found")
    [violation] = fake.take_violations()
    assert violation.kind == "wrong-method"
    assert "GET, POST" in violation.detail
    assert fake.repo(REPO).comments == {}


async def test_a_path_parameter_of_the_wrong_type_is_404(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.get(f"{R}/issues/first", headers=token(fake))
    assert answer.status_code == 404
    assert kinds(fake) == [("bad-path-parameter", 404)]


async def test_a_route_github_has_but_the_fake_lacks_is_reported_as_the_fakes_gap(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.get(f"{R}/branches", headers=token(fake))
    assert answer.status_code == 404
    [violation] = fake.take_violations()
    assert (violation.kind, violation.detail) == (
        "fake-lacks-route",
        "repos/list-branches is not implemented",
    )


async def test_errors_link_the_operations_page_as_github_does(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    missing = await raw.get(f"{R}/issues/999", headers=token(fake))
    assert missing.status_code == 404
    assert missing.json()["documentation_url"] == (
        "https://docs.github.com/rest/issues/issues#get-an-issue"
    )
    unauthenticated = await raw.get(f"{R}/issues/999")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["documentation_url"] == "https://docs.github.com/rest"
    assert fake.take_violations() == []  # a record that does not exist is no contract breach


# --------------------------------------------------------------------- query parameters


async def test_a_missing_required_query_parameter_is_422(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    release = fake.add_release(REPO, "v1", draft=True)
    upload = f"/api/uploads/repos/{REPO}/releases/{release.id}/assets"
    answer = await raw.post(upload, content=b"data", headers=token(fake))
    assert answer.status_code == 422
    assert answer.json()["message"] == 'Invalid request.\n\n"name" wasn\'t supplied.'
    assert answer.json()["documentation_url"].endswith("#upload-a-release-asset")
    assert kinds(fake) == [("bad-query", 422)]
    assert fake.repo(REPO).assets == {}


async def test_a_query_value_outside_its_enum_is_422(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.get(f"{R}/issues", params={"state": "bogus"}, headers=token(fake))
    assert answer.status_code == 422
    assert (
        "For 'state', 'bogus' is not one of ['open', 'closed', 'all']" in answer.json()["message"]
    )
    assert kinds(fake) == [("bad-query", 422)]


# --------------------------------------------------------------------------- request bodies


async def test_a_missing_required_body_field_is_422_and_reaches_no_handler(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.post(
        f"{R}/labels", json={"color": "ffffff", "description": "no name"}, headers=token(fake)
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "message": 'Invalid request.\n\n"name" wasn\'t supplied.',
        "documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label",
        "status": "422",
    }
    assert fake.repo(REPO).labels == {}
    assert kinds(fake) == [("bad-body", 422)]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param({"body": 5}, "For 'properties/body', 5 is not of type 'string'", id="type"),
        pytest.param({"state": "shut"}, "'shut' is not one of ['open', 'closed']", id="enum"),
        pytest.param({"labels": "bug"}, "For 'properties/labels', 'bug' is not of type", id="list"),
    ],
)
async def test_a_body_that_breaks_the_schema_is_422(
    fake: FakeGitHub, raw: httpx.AsyncClient, body: dict[str, Any], says: str
) -> None:
    issue = fake.add_issue(REPO, "x")
    answer = await raw.patch(f"{R}/issues/{issue.number}", json=body, headers=token(fake))
    assert answer.status_code == 422
    assert says in answer.json()["message"]
    assert issue.state == "open" and issue.body is None
    assert kinds(fake) == [("bad-body", 422)]


async def test_description_quirks_are_accepted(fake: FakeGitHub, raw: httpx.AsyncClient) -> None:
    ms = fake.add_milestone(REPO, "v1")
    issue = fake.add_issue(REPO, "x", milestone=ms.number)
    fake.set_file(REPO, ".github/deep/dir/ghapp.yml", "x: 1\n")
    fake.add_commit(REPO, "two", branch="feature/x")
    headers = token(fake)
    # `nullable: true` beside `oneOf`: GitHub takes null to clear the milestone.
    cleared = await raw.patch(
        f"{R}/issues/{issue.number}", json={"milestone": None}, headers=headers
    )
    assert cleared.status_code == 200 and issue.milestone is None
    # Parameters that hold slashes: a file path, a branch name in `base...head`.
    deep = await raw.get(f"{R}/contents/.github/deep/dir/ghapp.yml", headers=headers)
    assert deep.status_code == 200
    compared = await raw.get(f"{R}/compare/main...feature/x", headers=headers)
    assert compared.status_code == 200
    # HEAD is GET's.
    assert (await raw.head(R, headers=headers)).status_code == 200
    # Web routes are not REST: the OAuth code exchange is a form post at the root.
    oauth = await raw.post("/login/oauth/access_token", data={"client_id": "nope"})
    assert oauth.status_code == 200
    assert fake.take_violations() == []


async def test_the_uploads_host_serves_only_uploads(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    answer = await raw.get(f"/api/uploads/repos/{REPO}", headers=token(fake))
    assert answer.status_code == 404
    [violation] = fake.take_violations()
    assert violation.kind == "unknown-route" and "uploads host" in violation.detail


# ---------------------------------------------------------------------------- permissions


def test_the_app_asks_for_what_the_skills_manifest_declares(fake: FakeGitHub) -> None:
    declared = build_manifest(load_skills().values())["default_permissions"]
    assert fake.app_identity.permissions == declared
    committed = yaml.safe_load((REPO_ROOT / "manifest" / "app.yml").read_text())
    assert fake.app_identity.permissions == committed["default_permissions"]
    assert fake.installation_permissions(11) == declared


async def test_a_write_without_the_permission_is_403_and_reads_still_work(
    raw: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    fake.add_installation(
        12, "narrow", repositories=["narrow/repo"], permissions={"issues": "read"}
    )
    issue = fake.add_issue("narrow/repo", "x")
    headers = token(fake, 12)
    listed = await raw.get(f"/api/v3/repos/narrow/repo/issues/{issue.number}", headers=headers)
    assert listed.status_code == 200
    written = await raw.post(
        f"/api/v3/repos/narrow/repo/issues/{issue.number}/comments",
        json={"body": "hi"},
        headers=headers,
    )
    assert written.status_code == 403
    assert written.json() == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        "status": "403",
    }
    assert fake.repo("narrow/repo").comments == {}
    [violation] = fake.take_violations()
    assert violation.kind == "no-permission"
    assert violation.detail == ("issues/create-comment needs issues: write or pull_requests: write")


async def test_one_of_several_documented_permissions_is_enough(
    raw: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    fake.add_installation(
        13, "prs", repositories=["prs/repo"], permissions={"pull_requests": "write"}
    )
    issue = fake.add_issue("prs/repo", "x")
    commented = await raw.post(
        f"/api/v3/repos/prs/repo/issues/{issue.number}/comments",
        json={"body": "hi"},
        headers=token(fake, 13),
    )
    assert commented.status_code == 201
    assert fake.take_violations() == []


async def test_a_down_scoped_token_is_held_to_its_own_permissions(
    raw: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    jwt_headers = {"Authorization": f"Bearer {_app_jwt()}"}
    minted = await raw.post(
        "/api/v3/app/installations/11/access_tokens",
        json={"permissions": {"issues": "read"}},
        headers=jwt_headers,
    )
    assert minted.status_code == 201 and minted.json()["permissions"] == {"issues": "read"}
    headers = {"Authorization": f"token {minted.json()['token']}"}
    labelled = await raw.post(f"{R}/labels", json={"name": "bug"}, headers=headers)
    assert labelled.status_code == 403
    assert kinds(fake) == [("no-permission", 403)]
    # More than the installation has is refused when the token is minted.
    fake.installations[11].permissions = {"issues": "read"}
    greedy = await raw.post(
        "/api/v3/app/installations/11/access_tokens",
        json={"permissions": {"issues": "write"}},
        headers=jwt_headers,
    )
    assert greedy.status_code == 422
    assert "not granted to this installation" in greedy.json()["message"]


async def test_a_user_token_is_held_to_the_installations_permissions(
    raw: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    fake.add_user("olga", org_roles={"acme": "admin"})
    headers = {"Authorization": f"token {fake.mint_user_token('olga', app_id=1).token}"}
    fake.installations[11].permissions = {"metadata": "read"}
    refused = await raw.get("/api/v3/orgs/acme/memberships/olga", headers=headers)
    assert refused.status_code == 403
    [violation] = fake.take_violations()
    assert violation.detail == "orgs/get-membership-for-user needs members: read"
    fake.installations[11].permissions = None  # back to what the App asks for
    allowed = await raw.get("/api/v3/orgs/acme/memberships/olga", headers=headers)
    assert allowed.status_code == 200 and allowed.json()["role"] == "admin"


def _app_jwt() -> str:
    now = int(time.time()) - 30
    return jwt.encode({"iss": "1", "iat": now, "exp": now + 540}, PRIVATE_PEM, "RS256")


def test_every_route_the_fake_serves_to_a_token_has_a_permission_row() -> None:
    contract = rest_contract()
    examples = {"path": "a/b", "basehead": "a...b", "archive_format": "zip"}
    unknown: list[str] = []
    for route in ROUTES.routes:
        if route.area == "web" or route.template == "/graphql":
            continue
        path = route.template.replace("+}", "}")
        for name in ("owner", "repo", "org", "username", "tag", "name", "sha", "code"):
            path = path.replace("{" + name + "}", "x")
        for name, value in examples.items():
            path = path.replace("{" + name + "}", value)
        path = re.sub(r"\{\w+\}", "1", path)
        found = contract.route(route.method, path)
        assert found is not None, f"{route.method} {route.template} is not in GitHub's API"
        operation_id = found[0].operation_id
        if operation_id not in REQUIRED and operation_id not in NO_INSTALLATION_PERMISSION:
            unknown.append(operation_id)
    assert unknown == []
    # Every row names a real operation (GraphQL rows aside): no typo silently grants nothing.
    rest_rows = [op for op in [*REQUIRED, *NO_INSTALLATION_PERMISSION] if "/" in op]
    assert [
        op for op in rest_rows if not op.startswith("graphql/") and op not in contract.operations
    ] == []


def test_missing_permission_reads_alternatives_and_levels() -> None:
    assert missing_permission("issues/update", {"pull_requests": "write"}) is None
    assert missing_permission("issues/get", {"issues": "write"}) is None  # write includes read
    assert missing_permission("issues/update", {"issues": "read"}) == (
        "issues: write or pull_requests: write"
    )
    assert missing_permission("repos/list-branches", {"contents": "write"}) == (
        "no permission row for repos/list-branches in the fake's table"
    )


# -------------------------------------------------------------------------------- GraphQL


async def _graphql(raw: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any):
    answer = await raw.post(
        "/api/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert answer.status_code == 200  # GitHub answers GraphQL errors with 200
    return answer.json()


ADD_COMMENT = (
    "mutation($d: ID!, $r: ID, $b: String!) { addDiscussionComment(input: "
    "{discussionId: $d, replyToId: $r, body: $b}) { comment { id body replyTo { id } } } }"
)


async def test_graphql_runs_what_ghapp_sends_with_only_the_selected_fields(
    fake: FakeGitHub, raw: httpx.AsyncClient
) -> None:
    top = fake.add_discussion_comment("D_1", "Question?", "alice")
    for n in range(3):
        fake.add_discussion_comment("D_1", f"reply {n}", "bob", reply_to_id=top.node_id)
    headers = token(fake)
    added = await _graphql(raw, headers, ADD_COMMENT, d="D_1", r=top.node_id, b="Answer.")
    comment = added["data"]["addDiscussionComment"]["comment"]
    assert set(comment) == {"id", "body", "replyTo"}
    assert comment["replyTo"] == {"id": top.node_id}
    thread = await _graphql(
        raw,
        headers,
        "query($id: ID!) { node(id: $id) { ... on Discussion { comments(last: 5) { nodes {"
        " body author { login } replies(last: 2) { nodes { body } } } } } } }",
        id="D_1",
    )
    [only] = thread["data"]["node"]["comments"]["nodes"]
    assert only["author"] == {"login": "alice"}
    assert [r["body"] for r in only["replies"]["nodes"]] == ["reply 2", "Answer."]
    # A node that does not exist is GitHub's NOT_FOUND, not a breach of the contract.
    orphan = await _graphql(raw, headers, ADD_COMMENT, d="D_1", r="DC_nope", b="Lost.")
    assert orphan["data"] == {"addDiscussionComment": None}
    assert orphan["errors"][0]["type"] == "NOT_FOUND"
    assert "DC_nope" in orphan["errors"][0]["message"]
    assert fake.take_violations() == []


@pytest.mark.parametrize(
    ("query", "variables", "kind", "says"),
    [
        pytest.param(
            'mutation { addDiscussionComent(input: {discussionId: "D", body: "x"})'
            " { clientMutationId } }",
            {},
            "graphql-invalid",
            "Cannot query field 'addDiscussionComent' on type 'Mutation'",
            id="unknown-field",
        ),
        pytest.param(
            'mutation { addDiscussionComment(input: {discussionId: "D"}) { clientMutationId } }',
            {},
            "graphql-invalid",
            "AddDiscussionCommentInput.body' of required type 'String!' was not provided",
            id="missing-input-field",
        ),
        pytest.param(
            ADD_COMMENT,
            {"d": None, "b": "x"},
            "graphql-invalid",
            "must not be null",
            id="null-variable",
        ),
        pytest.param("mutation {", {}, "graphql-invalid", "Syntax Error", id="syntax"),
        pytest.param(
            "query { viewer { login } }",
            {},
            "graphql-not-allowed",
            "does not implement query field 'viewer'",
            id="not-ghapps",
        ),
    ],
)
async def test_graphql_github_would_refuse_is_an_error(
    fake: FakeGitHub,
    raw: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    kind: str,
    says: str,
) -> None:
    answer = await _graphql(raw, token(fake), query, **variables)
    assert "data" not in answer
    assert says in answer["errors"][0]["message"]
    assert fake.discussion_comments == {}
    [violation] = fake.take_violations()
    assert violation.kind == kind and says in violation.detail


async def test_graphql_without_the_discussions_permission_is_forbidden(
    raw: httpx.AsyncClient, fake: FakeGitHub
) -> None:
    fake.installations[11].permissions = {"issues": "write", "metadata": "read"}
    answer = await _graphql(raw, token(fake), ADD_COMMENT, d="D_1", b="hi")
    assert answer["data"] == {"addDiscussionComment": None}
    assert answer["errors"][0]["type"] == "FORBIDDEN"
    assert answer["errors"][0]["message"] == "Resource not accessible by integration"
    assert fake.discussion_comments == {}
    assert kinds(fake) == [("no-permission", 200)]


# ------------------------------------------------------------------------ the pytest plugin

_INNER_TESTS = """
import httpx
import pytest

from tests.support.fake_github import FakeGitHub, generate_test_key


@pytest.fixture
def fake():
    fake = FakeGitHub(public_key_pem=generate_test_key()[1])
    fake.add_installation(1, "acme", repositories=["acme/widgets"])
    return fake


async def post_label(fake, body):
    token = fake.mint_installation_token(1).token
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        answer = await client.post(
            "/api/v3/repos/acme/widgets/labels",
            json=body,
            headers={"Authorization": f"token {token}"},
        )
    return answer.status_code


async def test_swallows_the_refusal(fake):
    try:
        assert await post_label(fake, {"color": "ffffff"}) == 201
    except AssertionError:
        pass  # code under test that swallows an error


async def test_takes_the_refusal(fake):
    assert await post_label(fake, {"color": "ffffff"}) == 422
    assert [v.kind for v in fake.take_violations()] == ["bad-body"]


async def test_sends_a_valid_request(fake):
    assert await post_label(fake, {"name": "bug"}) == 201


@pytest.fixture
async def refused_at_teardown(fake):
    yield fake
    await post_label(fake, {})


async def test_refused_while_tearing_down(refused_at_teardown):
    pass
"""


def test_the_plugin_fails_a_test_that_swallowed_a_refusal(tmp_path: Path) -> None:
    inner = tmp_path / "test_inner.py"
    inner.write_text(textwrap.dedent(_INNER_TESTS))
    conftest = tmp_path / "conftest.py"
    conftest.write_text('pytest_plugins = ("tests.support.fake_github.pytest_plugin",)\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rA",
            "-o",
            "asyncio_mode=auto",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "--rootdir",
            str(tmp_path),
            str(inner),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    assert "FAILED test_inner.py::test_swallows_the_refusal" in out, out
    assert "POST /repos/acme/widgets/labels -> 422 [bad-body]" in out, out
    assert "PASSED test_inner.py::test_takes_the_refusal" in out, out
    assert "PASSED test_inner.py::test_sends_a_valid_request" in out, out
    assert "ERROR test_inner.py::test_refused_while_tearing_down" in out, out
    assert "1 failed, 3 passed, 1 error" in out, out
