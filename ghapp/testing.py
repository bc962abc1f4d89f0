"""Test helpers for skill authors: run real-shaped payloads through ghapp, see the requests.

    async with SkillTestApp(tmp_path, github_app=fake_github_asgi_app, skills=[skill]) as app:
        delivery = await app.dispatch("issue_comment", payload)
        assert delivery.status == "done"
        assert [(r.method, r.path) for r in app.writes()] == [("POST", "/repos/o/r/...")]

GitHub is reached through `github_app` (any ASGI app that behaves like GitHub's REST API,
served at `api_url`) via httpx's ASGI transport, so vcrpy cassettes record and replay the
traffic exactly as with the real API. Pacing is off and retries are fast.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit.cache import MemCacheStrategy
from githubkit.webhooks import sign

from ghapp.config import Settings, load_settings
from ghapp.context import Context, RepoRef
from ghapp.github import JournalEntry, RetryPolicy, is_token_request
from ghapp.ingress import new_delivery
from ghapp.options import ResolvedOptions
from ghapp.payloads import installation_id_of, repository_of
from ghapp.queue.inline import InlineQueue
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.skill import NoOptions, Skill
from ghapp.store import Delivery

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
WEBHOOK_SECRET = "test-webhook-secret"  # noqa: S105 - a fixed secret for tests only
_ids = itertools.count(1)


@cache
def test_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of an RSA key made for this test process only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def signature_for(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return sign(secret, body, "sha256")


class PrefixedApp:
    """Serves a GitHub Enterprise-style app (REST under /api/v3) at api.github.com paths."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/v3") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            path = scope.get("path", "")
            # REST paths get the prefix; web pages, uploads and the fake's own download
            # links (artifacts) are served at the root as they are.
            if path == "/graphql" or not path.startswith(
                (self.prefix, "/api/", "/login", "/_fake/")
            ):
                scope = {**scope, "path": self.prefix + path, "raw_path": None}
        await self.app(scope, receive, send)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Writes down every request (token requests aside) before passing it on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entries: list[JournalEntry] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not is_token_request(request.url):
            body: Any = None
            if request.content:
                try:
                    import json

                    body = json.loads(request.content)
                except ValueError:
                    body = None
            self.entries.append(
                JournalEntry(
                    request.method,
                    request.url.path.removeprefix("/api/v3"),
                    request.url.query.decode(),
                    body,
                    response.status_code,
                    headers={k.lower(): v for k, v in request.headers.items()},
                )
            )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_settings(tmp_path: Path, *, api_url: str, env: dict[str, str] | None = None) -> Settings:
    private, _public = test_key_pair()
    values = {
        "APP_ID": "1",
        "PRIVATE_KEY": private,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ghapp-test.db'}",
        "GITHUB_PACING": "off",
        "LOG_FORMAT": "json",
        **(env or {}),
    }
    return load_settings(values, env_file=None, workdir=tmp_path)


class SkillTestApp:
    """A whole ghapp runtime on a temporary SQLite database, talking to `github_app`."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        github_app: ASGIApp,
        skills: list[Skill] | None = None,
        env: dict[str, str] | None = None,
        api_url: str = "https://api.github.com",
    ) -> None:
        self.settings = test_settings(tmp_path, api_url=api_url, env=env)
        inner = httpx.ASGITransport(app=PrefixedApp(github_app))  # type: ignore[arg-type]
        self.recorder = RecordingTransport(inner)
        self.runtime = Runtime(
            self.settings,
            RuntimeOptions(
                skills=skills,
                inner_transport=self.recorder,
                cache_strategy=MemCacheStrategy(),
                retry=RetryPolicy(backoff=0.01, max_inline_wait=timedelta(seconds=2)),
                retry_delay=0.05,
                scheduler_tick=0,  # tests tick by hand: runtime.scheduler.tick(now)
            ),
        )

    async def __aenter__(self) -> SkillTestApp:
        await self.runtime.prepare()
        await self.runtime.start_workers()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runtime.stop(timeout=5)

    @property
    def requests(self) -> list[JournalEntry]:
        return self.recorder.entries

    def writes(self) -> list[JournalEntry]:
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]

    async def dispatch(
        self, event: str, payload: dict[str, Any], *, delivery_id: str | None = None
    ) -> Delivery:
        """Store and process one delivery (and the tasks it defers); return its record."""
        import json

        body = json.dumps(payload).encode()
        delivery = new_delivery(delivery_id or f"test-delivery-{next(_ids)}", event, body, payload)
        if await self.runtime.deliveries.record(delivery):
            await self.runtime.queue.enqueue_delivery(delivery.id, delivery.ordering_key)
        await self.idle()
        stored = await self.runtime.deliveries.get(delivery.id)
        assert stored is not None
        return stored

    async def context(
        self, event: str, payload: dict[str, Any], *, skill: str = "test", delivery_id: str = "test"
    ) -> Context[Any]:
        """The Context a handler of `skill` would get for this payload (the skill's options
        left at NoOptions): to run `ctx.available_commands()` as mention-reply does."""
        action = payload.get("action") if isinstance(payload.get("action"), str) else None
        installation_id = installation_id_of(payload) or 1
        repository = repository_of(payload)
        runtime = self.runtime
        return runtime.bus.context(
            skill,
            event,
            action,
            delivery_id,
            payload,
            await runtime.clients.installation(installation_id),
            await runtime.clients.app_info(),
            installation_id,
            RepoRef.parse(repository) if repository else None,
            ResolvedOptions(NoOptions(), False),
        )

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every queued delivery and deferred task has run."""
        queue = self.runtime.queue
        if isinstance(queue, InlineQueue):
            await queue.drain(timeout)
        else:  # pragma: no cover - scale-out tests wait on their own terms
            await asyncio.sleep(0)

    async def set_switch(
        self, installation_id: int, repository: str, skill: str, enabled: bool | None
    ) -> None:
        await self.runtime.switches.set(installation_id, repository, skill, enabled, actor="test")


# Helpers named test_* are not tests when imported into a test module.
test_key_pair.__test__ = False  # type: ignore[attr-defined]
test_settings.__test__ = False  # type: ignore[attr-defined]
