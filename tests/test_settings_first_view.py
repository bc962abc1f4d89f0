"""A person's first view of an installation's page (nothing GitHub listed for them is
remembered yet) asks GitHub for exactly what access control needs, no more: the
installation, each page of its repositories that holds some (200 repositories: 2 pages
of 100), and the person's role — that last one only once GitHub listed the installation
for them. Issue 20: the 200-repository page within 0.3 s of server time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from githubkit.cache import MemCacheStrategy
from starlette.testclient import TestClient

from ghapp.github import RetryPolicy
from ghapp.runtime import RuntimeOptions
from ghapp.web.app import create_app
from ghapp.web.settings import access, rendering
from ghapp.web.settings.rendering import TEMPLATES
from ghapp.web.settings.routes import routes
from tests.support.fake_github import run_fake_github
from tests.test_settings_page import Site, make_fake, settings_for


def site_with(tmp_path: Path, count: int) -> Iterator[Site]:
    fake = make_fake()
    fake.add_installation(3, "big-org", repositories=[f"big-org/r-{n:03d}" for n in range(count)])
    fake.add_user("big-owner", org_roles={"big-org": "admin"})
    fake.add_user("outsider")
    with run_fake_github(fake) as github_url:
        options = RuntimeOptions(
            cache_strategy=MemCacheStrategy(),
            retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=1)),
        )
        app = create_app(settings_for(tmp_path, github_url), options, run_workers=False)
        with TestClient(app) as client:
            yield Site(fake, github_url, client, tmp_path / "ghapp-test.db")


@pytest.fixture(params=[200, 201])
def big(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, int]]:
    for site in site_with(tmp_path, request.param):
        yield site, request.param


def first_view(site: Site, login: str, path: str) -> tuple[int, list[tuple[str, str]], str]:
    site.sign_in(login)
    before = len(site.fake.requests)
    page = site.client.get(path)
    asked = [
        (r.method, f"{r.path}?page={r.query.get('page', '1')}")
        if "/repositories" in r.path
        else (r.method, r.path)
        for r in site.fake.requests[before:]
    ]
    return page.status_code, asked, page.text


def test_a_first_view_reads_each_page_of_repositories_once_and_no_empty_one(
    big: tuple[Site, int],
) -> None:
    site, count = big
    status, asked, text = first_view(
        site, "big-owner", f"/settings/installations/3?q=r-{count - 1}"
    )
    assert status == 200
    pages = -(-count // 100)
    assert sorted(asked) == sorted(
        [
            ("GET", "/user/installations"),
            *[("GET", f"/user/installations/3/repositories?page={n}") for n in range(1, pages + 1)],
            ("POST", "/app/installations/3/access_tokens"),
            ("GET", "/orgs/big-org/memberships/big-owner"),
        ]
    )
    # The last repository, on the last page, is listed.
    assert f"big-org/r-{count - 1:03d}" in text
    # A repeat view asks GitHub nothing.
    before = len(site.fake.requests)
    assert site.client.get("/settings/installations/3").status_code == 200
    assert site.fake.requests[before:] == []


def test_no_role_is_asked_of_an_installation_the_person_cannot_see(tmp_path: Path) -> None:
    for site in site_with(tmp_path, 3):
        status, asked, _ = first_view(site, "outsider", "/settings/installations/3")
        assert status == 404
        assert [a for a in asked if "memberships" in a[1] or "access_tokens" in a[1]] == []


def test_the_pages_templates_are_compiled_when_the_app_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiling the templates was most of the process's first view: the app does it
    when it is built, and no view compiles any."""
    env = TEMPLATES.env
    assert env.cache is not None
    env.cache.clear()
    compiled: list[object] = []
    compile_template = env.compile

    def counting(*args: Any, **kwargs: Any) -> Any:
        compiled.append(kwargs.get("name") or args[1:2])
        return compile_template(*args, **kwargs)

    monkeypatch.setattr(env, "compile", counting)
    for site in site_with(tmp_path, 3):
        assert compiled, "nothing compiled when the app was built"
        compiled.clear()
        status, _, _ = first_view(site, "big-owner", "/settings/installations/3")
        assert status == 200
        assert site.client.get("/settings").status_code == 200
        assert compiled == []


def test_the_github_models_of_the_access_checks_are_loaded_when_the_app_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a process of its own: githubkit loads each group of models on first use."""
    script = (
        "import sys\n"
        "from ghapp.web.settings import access\n"
        "access.warm_up()\n"
        "loaded = set(sys.modules)\n"
        "from githubkit import GitHub\n"
        "client = GitHub('x')\n"
        "module = type(client.rest.apps).__module__.rsplit('.rest.', 1)[0] + '.models'\n"
        "models = sys.modules[module]\n"
        "missing = [n for n in access.MODELS if getattr(models, n, None) is None]\n"
        "print(missing, sorted(set(sys.modules) - loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] []"
    called: list[str] = []
    monkeypatch.setattr(access, "warm_up", lambda: called.append("access"))
    monkeypatch.setattr(rendering, "warm_up", lambda: called.append("templates"))
    routes()
    assert sorted(called) == ["access", "templates"]
