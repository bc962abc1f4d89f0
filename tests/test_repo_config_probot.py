"""Probot's config loading, case by case: the cases of @probot/octokit-plugin-config's own
test suite (`test/get.test.ts`), written here as facts — which files exist, what the
loader is asked, and the merged configuration (or the failure) Probot's tests expect —
and fed through ghapp's loader over HTTP, GitHub's contents API served by a small
in-process stand-in. ghapp's file always lives at one path, so each case's path is the
loader's `path`.

Where ghapp differs on purpose (the merge rule, see docs/coming-from-probot.md), the cases
say so: with nested mappings, Probot's plain `Object.assign` replaces a top-level key
whole while ghapp merges inside it, which is what the cases with a custom deep merge
expect from Probot too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import RequestFailed

from ghapp.repo_config import RepoConfig, RepoConfigError, RepoConfigLoader

NOT_FOUND = 404
SUBMODULE = "submodule"
SERVER_ERROR = 500


@dataclass
class ContentsApi:
    """`GET /repos/{owner}/{repo}/contents/{path}` over a dict of files, with ETags."""

    files: dict[str, Any]  # "owner/repo:path[@ref]" → text, NOT_FOUND, SUBMODULE, SERVER_ERROR
    asked: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = unquote(request.url.path).split("/", 5)  # '', repos, owner, repo, contents, path
        assert parts[1] == "repos" and parts[4] == "contents", request.url
        ref = request.url.params.get("ref")
        name = f"{parts[2]}/{parts[3]}:{parts[5]}" + (f"@{ref}" if ref else "")
        self.asked.append(name)
        found = self.files.get(name, NOT_FOUND)
        if found == NOT_FOUND:
            return httpx.Response(404, json={"message": "Not Found"})
        if found == SERVER_ERROR:
            return httpx.Response(500, json={"message": "Server Error"})
        if found == SUBMODULE:
            body = {"type": "submodule", "name": parts[5], "path": parts[5]}
        else:
            text = found if isinstance(found, str) else json.dumps(found)
            body = {
                "type": "file",
                "encoding": "base64",
                "content": base64.encodebytes(text.encode()).decode(),
            }
        raw = json.dumps(body).encode()
        etag = f'W/"{hashlib.sha256(raw).hexdigest()}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, content=raw, headers={"ETag": etag})


def github(api: ContentsApi) -> GitHub[Any]:
    return GitHub(
        TokenAuthStrategy("test-token"),
        async_transport=httpx.MockTransport(api.handle),
        auto_retry=False,
        http_cache=False,
    )


def with_defaults(defaults: dict[str, Any] | None, merged: dict[str, Any]) -> dict[str, Any]:
    """Defaults under the file, as ghapp fills a section's options: key by key, one level
    inside each mapping (Probot's cases with a custom deep merge do the same)."""
    result = dict(defaults or {})
    for key, value in merged.items():
        before = result.get(key)
        both = isinstance(before, dict) and isinstance(value, dict)
        result[key] = {**before, **value} if both else value  # type: ignore[dict-item]
    return result


@dataclass
class Case:
    name: str
    files: dict[str, Any]
    expected: dict[str, Any] | None  # None: Probot's loader fails
    asked: list[str]  # the requests Probot's case mocks, in order
    repo: str = "octocat/hello-world"
    path: str = ".github/my-app.yml"
    branch: str | None = None
    defaults: dict[str, Any] | None = None


OWN = "octocat/hello-world:.github/my-app.yml"
ORG = "octocat/.github:.github/my-app.yml"
BASE = "octocat/base:.github/my-app.yml"
COMMENT = {"comment": "Thank you for creating the issue!"}
DEFAULTS = {"config": "default value", "otherConfig": "default value"}

CASES = [
    Case("README simple usage example", {OWN: "comment: 'Thank you for creating the issue!'"},
         COMMENT, [OWN]),
    Case("config file missing", {}, COMMENT, [OWN, ORG], defaults=COMMENT),
    Case("returns defaults option when no config files exist", {}, COMMENT, [OWN, ORG],
         defaults=COMMENT),
    Case("merges defaults option", {OWN: "config: 'value from .github/my-app.yml'"},
         {"config": "value from .github/my-app.yml", "otherConfig": "default value"}, [OWN],
         defaults=DEFAULTS),
    Case("merges defaults option from .github repository",
         {ORG: "config: 'value from octocat/.github:.github/my-app.yml'"},
         {"config": "value from octocat/.github:.github/my-app.yml",
          "otherConfig": "default value"}, [OWN, ORG], defaults=DEFAULTS),
    Case("resolves _extends in .github repository file",
         {ORG: "_extends: '.github:.github/my-second-app.yml'",
          "octocat/.github:.github/my-second-app.yml":
              "config: value from second\n_extends: hello-world:.github/my-third-app.yml\n",
          "octocat/hello-world:.github/my-third-app.yml": "otherConfig: 'value from third'"},
         {"config": "value from second", "otherConfig": "value from third"},
         [OWN, ORG, "octocat/.github:.github/my-second-app.yml",
          "octocat/hello-world:.github/my-third-app.yml"], defaults=DEFAULTS),
    Case("merges deeply using defaults function",
         {OWN: "settings:\n  one: value from config file\notherSetting1: value from config file\n"},
         {"settings": {"one": "value from config file", "two": "default value"},
          "otherSetting1": "value from config file", "otherSetting2": "default value"},
         [OWN], defaults={"settings": {"one": "default value", "two": "default value"},
                          "otherSetting1": "default value", "otherSetting2": "default value"}),
    Case("branch option", {OWN + "@my-branch": "comment: 'Thank you for creating the issue!'"},
         COMMENT, [OWN + "@my-branch"], branch="my-branch"),
    Case("_extends: base",
         {OWN: "setting1: value from repo config file\n_extends: base\n",
          BASE: "setting1: value from base config file\nsetting2: value from base config file\n"},
         {"setting1": "value from repo config file", "setting2": "value from base config file"},
         [OWN, BASE]),
    Case("_extends: base -> _extends: base2",
         {OWN: "setting1: from repo\n_extends: base\n",
          BASE: "setting1: from base1\nsetting2: from base1\n_extends: base2\n",
          "octocat/base2:.github/my-app.yml":
              "setting1: from base2\nsetting2: from base2\nsetting3: from base2\n"},
         {"setting1": "from repo", "setting2": "from base1", "setting3": "from base2"},
         [OWN, BASE, "octocat/base2:.github/my-app.yml"]),
    Case("_extends: base with defaults and custom merge",
         {OWN: "settings:\n  one: from repo\notherSetting1: from repo\n_extends: base\n",
          BASE: "settings:\n  one: from base\n  two: from base\n"
                "otherSetting1: from base\notherSetting2: from base\n"},
         {"settings": {"one": "from repo", "two": "from base", "three": "default value"},
          "otherSetting1": "from repo", "otherSetting2": "from base",
          "otherSetting3": "default value"},
         [OWN, BASE],
         defaults={"settings": {"one": "default value", "two": "default value",
                                "three": "default value"},
                   "otherSetting1": "default value", "otherSetting2": "default value",
                   "otherSetting3": "default value"}),
    Case("config file is a submodule", {OWN: SUBMODULE}, None, [OWN]),
    Case("config file is empty", {OWN: ""}, {}, [OWN]),
    Case("repo is .github", {}, {}, [ORG], repo="octocat/.github"),
    Case("_extends file is missing",
         {OWN: "setting1: value from repo config file\n_extends: base\n"},
         {"setting1": "value from repo config file"}, [OWN, BASE]),
    Case("request error", {OWN: SERVER_ERROR}, None, [OWN]),
    Case("recursion",
         {OWN: "settings:\n  one: from repo\notherSetting1: from repo\n_extends: base\n",
          BASE: "settings:\n  one: from base\notherSetting2: from base\n_extends: hello-world\n"},
         None, [OWN, BASE]),
    Case(".yaml extension",
         {"octocat/hello-world:.github/my-app.yaml": "comment: Thank you for creating the issue!"},
         COMMENT, ["octocat/hello-world:.github/my-app.yaml"], path=".github/my-app.yaml"),
    Case(".json extension",
         {"octocat/hello-world:.github/my-app.json": COMMENT},
         COMMENT, ["octocat/hello-world:.github/my-app.json"], path=".github/my-app.json"),
    Case(".unknown extension", {}, None, [], path=".github/my-app.unknown"),
    Case("malformed json", {"octocat/hello-world:.github/my-app.json": "malformed json"},
         None, ["octocat/hello-world:.github/my-app.json"], path=".github/my-app.json"),
    Case("malformed yaml", {"octocat/hello-world:.github/my-app.yaml": "malformed yaml"},
         None, ["octocat/hello-world:.github/my-app.yaml"], path=".github/my-app.yaml"),
    Case("malformed yaml: @", {"octocat/hello-world:.github/my-app.yaml": "@"},
         None, ["octocat/hello-world:.github/my-app.yaml"], path=".github/my-app.yaml"),
    Case("unsafe yaml",
         {"octocat/hello-world:.github/my-app.yaml":
              'evil: !<tag:yaml.org,2002:js/function> "function () {}"'},
         {"evil": "function () {}"}, ["octocat/hello-world:.github/my-app.yaml"],
         path=".github/my-app.yaml"),
    Case("_extends: other-owner/base",
         {OWN: "setting1: from repo\n_extends: other-owner/base\n",
          "other-owner/base:.github/my-app.yml": "setting1: from base\nsetting2: from base\n"},
         {"setting1": "from repo", "setting2": "from base"},
         [OWN, "other-owner/base:.github/my-app.yml"]),
    Case("_extends: base:test.yml",
         {OWN: "setting1: from repo\n_extends: base:test.yml\n",
          "octocat/base:test.yml": "setting1: from base\nsetting2: from base\n"},
         {"setting1": "from repo", "setting2": "from base"}, [OWN, "octocat/base:test.yml"]),
    Case("_extends: other-owner/base:test.yml",
         {OWN: "setting1: from repo\n_extends: other-owner/base:test.yml\n",
          "other-owner/base:test.yml": "setting1: from base\nsetting2: from base\n"},
         {"setting1": "from repo", "setting2": "from base"},
         [OWN, "other-owner/base:test.yml"]),
    Case("_extends: invalid!", {OWN: "setting1: from repo\n_extends: invalid!\n"}, None, [OWN]),
    Case("_extends: { nope }", {OWN: "setting1: from repo\n_extends: { nope }\n"}, None, [OWN]),
]  # fmt: skip


async def load(case: Case) -> tuple[dict[str, Any] | None, list[str], RepoConfig | None]:
    api = ContentsApi(case.files)
    owner, _, repo = case.repo.partition("/")
    try:
        loader = RepoConfigLoader(path=case.path)
        config = await loader.load(github(api), owner, repo, ref=case.branch)
    except (RepoConfigError, RequestFailed, ValueError):
        return None, api.asked, None
    return with_defaults(case.defaults, config.sections), api.asked, config


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_probot_case(case: Case) -> None:
    merged, asked, _ = await load(case)
    assert merged == case.expected
    assert asked == case.asked


async def test_probot_cases_agree() -> None:
    """The measure of issue 22: ≥ 27 of Probot's 28 cases (29 today) agree."""
    same = []
    for case in CASES:
        merged, asked, _ = await load(case)
        same.append(merged == case.expected and asked == case.asked)
    assert len(CASES) == 29 and sum(same) == len(CASES)


async def test_a_missing_base_is_noted_and_the_rest_applies() -> None:
    case = next(c for c in CASES if c.name == "_extends file is missing")
    _, _, config = await load(case)
    assert config is not None and config.found
    assert config.notes == [
        f"{OWN} extends `{BASE}`, which does not exist or which the App cannot read: "
        "the rest of the configuration applies"
    ]


async def test_plain_object_assign_would_differ_ghapp_merges_inside_a_section() -> None:
    """The one rule ghapp does not share with octokit-plugin-config's default merge: a
    mapping in both files is merged key by key (Probot's `Object.assign` would keep the
    repository's `settings` whole and lose `two`)."""
    files = {
        OWN: "settings:\n  one: from repo\n_extends: base\n",
        BASE: "settings:\n  one: from base\n  two: from base\n  list: [a]\n",
    }
    merged, _, _ = await load(Case("merge", files, None, []))
    assert merged == {"settings": {"one": "from repo", "two": "from base", "list": ["a"]}}
