"""Each kept githubkit client (the App, every installation) sends all its requests through
one httpx client, which keeps no cookies and is closed when the clients are."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from githubkit.cache import MemCacheStrategy

from ghapp.github import GitHubClients
from ghapp.testing import PrefixedApp, test_key_pair
from tests.support.fake_github import FakeGitHub


def clients(inner: httpx.AsyncBaseTransport) -> GitHubClients:
    private, _ = test_key_pair()
    return GitHubClients(
        app_id=1,
        private_key=private,
        api_url="https://api.github.com",
        cache_strategy=MemCacheStrategy(),
        inner_transport=inner,
    )


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every httpx.AsyncClient githubkit builds from now on."""
    seen: list[httpx.AsyncClient] = []

    class Counted(httpx.AsyncClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(httpx, "AsyncClient", Counted)
    return seen


async def test_one_httpx_client_per_kept_client_across_requests_and_tasks(
    fake_github: FakeGitHub, built: list[httpx.AsyncClient]
) -> None:
    gh = clients(httpx.ASGITransport(app=PrefixedApp(fake_github.app)))  # type: ignore[arg-type]
    fake_github.add_issue("octo-org/hello", "One")

    async def read() -> None:
        client = await gh.installation(1)
        await client.rest.issues.async_get("octo-org", "hello", 1)

    await asyncio.gather(*(read() for _ in range(5)))
    await read()
    await gh.app_info()
    # One for the App (which minted the token), one for installation 1: not one a request.
    assert len(built) == 2
    assert not any(client.is_closed for client in built)

    await gh.close()
    assert all(client.is_closed for client in built)


async def test_a_cookie_github_sets_is_not_sent_back(built: list[httpx.AsyncClient]) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"set-cookie": "session=abc; Path=/"})

    gh = clients(httpx.MockTransport(answer))
    await gh.app.arequest("GET", "/app")
    await gh.app.arequest("GET", "/app")
    assert len(built) == 1
    assert [r.headers.get("cookie") for r in seen] == [None, None]
