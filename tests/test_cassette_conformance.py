"""Every recorded GitHub response must fit GitHub's REST description and githubkit's model.

A cassette is only worth replaying if GitHub could really have sent it. Each cassette under
`tests/cassettes/` is checked interaction by interaction (see `check_cassette`); the
self-tests below prove the checker rejects a made-up shape and accepts GitHub's own example,
so this file means something even before any cassette is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from tests.support.cassettes import (
    VCR_CONFIG,
    all_cassettes,
    cassette_dir,
    check_cassette,
    match_route,
    scrub_body,
)
from tests.support.octokit import openapi_response_example

_CASSETTES = all_cassettes()


@pytest.mark.parametrize(
    "cassette",
    _CASSETTES,
    ids=[str(p.relative_to(cassette_dir())) for p in _CASSETTES],
)
def test_recorded_responses_fit_githubkit_models(cassette: Path) -> None:
    problems = check_cassette(cassette)
    assert not problems, "\n\n".join(problems)


# ------------------------------------------------------------------------------- self-tests

_API = "https://api.github.com"
_LABEL_TEMPLATE = "/repos/{owner}/{repo}/labels/{name}"
_MILESTONE_TEMPLATE = "/repos/{owner}/{repo}/milestones/{milestone_number}"
_TOKEN_TEMPLATE = "/app/installations/{installation_id}/access_tokens"


def _write_cassette(
    path: Path, interactions: list[tuple[str, str, int, Any]], *, content_type: str = "json"
) -> Path:
    """A cassette in vcrpy's own YAML format, written by vcrpy's serializer."""
    requests: list[Request] = []
    responses: list[dict[str, Any]] = []
    for method, url, status, body in interactions:
        requests.append(Request(method, url, None, {"Accept": "application/vnd.github+json"}))
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": ["application/json; charset=utf-8"]} if content_type else {}
        responses.append(
            {
                "status": {"code": status, "message": "x"},
                "headers": headers,
                "body": {"string": raw},
            }
        )
    path.write_text(
        serialize({"requests": requests, "responses": responses}, yamlserializer), "utf-8"
    )
    return path


def test_checker_accepts_githubs_own_examples(tmp_path: Path) -> None:
    # GitHub's label example is not used here: githubkit 0.16.1 requires `archived_at` and
    # `archived_by`, which @octokit/openapi's label example (and schema) do not have.
    milestone = openapi_response_example("get", _MILESTONE_TEMPLATE)
    token = openapi_response_example("post", _TOKEN_TEMPLATE, "201")
    cassette = _write_cassette(
        tmp_path / "ok.yaml",
        [
            ("GET", f"{_API}/repos/octo-org/hello/milestones/1", 200, milestone),
            # GHES serves the same routes under /api/v3.
            ("GET", "https://ghe.example/api/v3/repos/o/r/milestones/1", 200, milestone),
            ("POST", f"{_API}/app/installations/1/access_tokens", 201, token),
            ("DELETE", f"{_API}/repos/octo-org/hello/labels/bug", 204, None),
            ("GET", f"{_API}/repos/o/r/labels/nope", 404, {"message": "Not Found"}),
        ],
    )
    assert check_cassette(cassette) == []


def test_checker_rejects_a_label_without_color(tmp_path: Path) -> None:
    label = openapi_response_example("get", _LABEL_TEMPLATE)
    label.update(archived_at=None, archived_by=None)  # what githubkit 0.16.1 requires
    missing_color = {k: v for k, v in label.items() if k != "color"}
    cassette = _write_cassette(
        tmp_path / "bad.yaml",
        [
            ("GET", f"{_API}/repos/o/r/labels/ok", 200, label),
            ("GET", f"{_API}/repos/o/r/labels/bug", 200, missing_color),
        ],
    )
    problems = check_cassette(cassette)
    assert len(problems) == 1, problems
    problem = problems[0]
    # The message must let a reader find the file, the interaction, the route and the field.
    assert str(cassette) in problem
    assert "interaction #1" in problem
    assert "issues/get-label" in problem
    assert _LABEL_TEMPLATE in problem
    assert "color: Field required" in problem


def test_checker_rejects_a_milestone_with_a_wrong_type(tmp_path: Path) -> None:
    milestone = openapi_response_example("get", _MILESTONE_TEMPLATE)
    milestone["number"] = "one"
    cassette = _write_cassette(
        tmp_path / "bad.yaml", [("GET", f"{_API}/repos/o/r/milestones/1", 200, milestone)]
    )
    [problem] = check_cassette(cassette)
    assert "number" in problem


def test_checker_rejects_a_body_on_204(tmp_path: Path) -> None:
    cassette = _write_cassette(
        tmp_path / "204.yaml", [("DELETE", f"{_API}/repos/o/r/labels/bug", 204, {"x": 1})]
    )
    [problem] = check_cassette(cassette)
    assert "204 must have no body" in problem


def test_checker_rejects_unknown_routes_and_routes_without_a_model(tmp_path: Path) -> None:
    cassette = _write_cassette(
        tmp_path / "routes.yaml",
        [
            ("GET", f"{_API}/made/up/route", 200, {"a": 1}),
            # githubkit 0.16.1 declares no response model for the classroom routes.
            ("GET", f"{_API}/classrooms", 200, [{"a": 1}]),
        ],
    )
    problems = check_cassette(cassette)
    assert len(problems) == 2
    assert "no route" in problems[0]
    assert "no response model" in problems[1]


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "problem"),
    [
        # DELETE label documents 204 only.
        pytest.param("DELETE", "/repos/o/r/labels/bug", 200, {"a": 1},
                     "does not document 200 for this operation (only 204)", id="success"),
        pytest.param("GET", "/repos/o/r/labels/bug", 418, {"message": "teapot"},
                     "does not document 418", id="client-error"),
        # An App's other 403s (not a permission, not a rate limit) must be documented.
        pytest.param("GET", "/repos/o/r/labels/bug", 403, {"message": "Forbidden"},
                     "does not document 403", id="forbidden"),
        pytest.param("GET", "/repos/o/r/labels/bug", 404, {"message": 404},
                     "message: 404 is not of type 'string'", id="not-found-body"),
        # create-label documents 422 with GitHub's validation-error schema.
        pytest.param("POST", "/repos/o/r/labels", 422,
                     {"message": "Validation Failed", "errors": "name"},
                     "'documentation_url' is a required property", id="validation-body"),
    ],
)  # fmt: skip
def test_checker_rejects_undocumented_statuses_and_error_shapes(
    tmp_path: Path, method: str, path: str, status: int, body: Any, problem: str
) -> None:
    cassette = _write_cassette(tmp_path / "bad.yaml", [(method, f"{_API}{path}", status, body)])
    [found] = check_cassette(cassette)
    assert problem in found


def test_checker_accepts_errors_github_answers_anywhere(tmp_path: Path) -> None:
    basic = {"message": "x", "documentation_url": "https://docs.github.com/rest"}
    validation = {
        "message": "Validation Failed",
        "documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label",
        "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
    }
    not_accessible = {**basic, "message": "Resource not accessible by integration"}
    cassette = _write_cassette(
        tmp_path / "ok.yaml",
        [
            ("POST", f"{_API}/repos/o/r/labels", 422, validation),
            ("POST", f"{_API}/repos/o/r/labels", 403, not_accessible),
            ("POST", f"{_API}/repos/o/r/issues/comments/1/reactions", 404, basic),
            ("GET", f"{_API}/repos/o/r/labels/bug", 502, basic),
            ("GET", f"{_API}/repos/o/r/labels/bug", 401, basic),
        ],
    )
    assert check_cassette(cassette) == []


def test_checker_reports_an_unreadable_cassette(tmp_path: Path) -> None:
    path = tmp_path / "junk.yaml"
    path.write_text("interactions: [{request: 1}]\n", "utf-8")
    [problem] = check_cassette(path)
    assert "cannot be read" in problem


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        # Literal segments beat parameters.
        ("GET", "/repos/o/r/issues/comments", "/repos/{owner}/{repo}/issues/comments"),
        ("GET", "/repos/o/r/issues/7", "/repos/{owner}/{repo}/issues/{issue_number}"),
        # Trailing parameters may hold slashes (file paths, branch names).
        ("GET", "/repos/o/r/contents/.github/app.yml", "/repos/{owner}/{repo}/contents/{path}"),
        ("GET", "/api/v3/repos/o/r", "/repos/{owner}/{repo}"),
        (
            "POST",
            "/app/installations/9/access_tokens",
            "/app/installations/{installation_id}/access_tokens",
        ),
    ],
)
def test_route_matching(method: str, path: str, template: str) -> None:
    route = match_route(method, path)
    assert route is not None
    assert route.template == template


# --------------------------------------------------------------------- recording config


def test_scrub_body_filters_tokens_and_pushes_expiry() -> None:
    body = json.dumps(
        {"token": "ghs_16C7e42F292c6912E7710c838347Ae178B4a", "expires_at": "2024-01-01T00:00:00Z"}
    ).encode()
    scrubbed = json.loads(scrub_body(body))
    assert scrubbed == {"token": "ghs_FILTERED", "expires_at": "2099-01-01T00:00:00Z"}
    text = b'{"refresh_token": "ghr_abcDEF123", "access_token": "ghu_xyz789"}'
    assert scrub_body(text) == b'{"refresh_token": "ghr_FILTERED", "access_token": "ghu_FILTERED"}'


def test_vcr_hooks_drop_credentials() -> None:
    request = Request(
        "GET", f"{_API}/user", None, {"Authorization": "token ghs_x", "Cookie": "a=b", "X-Y": "1"}
    )
    request = VCR_CONFIG["before_record_request"](request)
    assert set(request.headers) == {"X-Y"}

    token = b'{"token": "ghs_abc", "expires_at": "2024-01-01T00:00:00Z"}'
    response = {
        "status": {"code": 201, "message": "Created"},
        "headers": {"Content-Length": [str(len(token))], "Set-Cookie": ["s=1"]},
        "body": {"string": token},
    }
    response = VCR_CONFIG["before_record_response"](response)
    assert b"ghs_abc" not in response["body"]["string"]
    assert "Set-Cookie" not in response["headers"]
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"]))]
    assert VCR_CONFIG["decode_compressed_response"] is True
    assert "body" in VCR_CONFIG["match_on"]


def test_vcr_config_records_a_clean_cassette(tmp_path: Path) -> None:
    """Record a real loopback exchange with VCR_CONFIG and read back what reached the disk."""
    secret = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
    body = json.dumps({"token": secret, "expires_at": "2020-01-01T00:00:00Z"}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(201)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "session=secret")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cassette = tmp_path / "token.yaml"
    try:
        with vcr.VCR(**VCR_CONFIG).use_cassette(str(cassette)):
            httpx.post(
                f"http://127.0.0.1:{server.server_port}/app/installations/1/access_tokens",
                headers={"Authorization": "Bearer jwt.jwt.jwt", "Cookie": "c=1"},
                json={},
            )
    finally:
        server.shutdown()
        server.server_close()
    text = cassette.read_text("utf-8")
    assert secret not in text
    assert "jwt.jwt.jwt" not in text
    assert "session=secret" not in text
    assert "c=1" not in text
    assert "ghs_FILTERED" in text
    assert "2099-01-01T00:00:00Z" in text
