"""Test helpers for skill authors: run real-shaped payloads through ghapp, see the requests.

    async with SkillTestApp(tmp_path, github_app=fake_github_asgi_app, skills=[skill]) as app:
        delivery = await app.dispatch("issue_comment", payload)
        assert delivery.status == "done"
        assert [(r.method, r.path) for r in app.writes()] == [("POST", "/repos/o/r/...")]

GitHub is reached through `github_app` (any ASGI app that behaves like GitHub's REST API,
served at `api_url`) via httpx's ASGI transport, so vcrpy cassettes record and replay the
traffic exactly as with the real API. Pacing is off and retries are fast.

**Every request is written down before it is sent**, so `app.requests` and `app.writes()`
hold the requests the skill *attempted*: one refused by a cassette or failing on the way has
`status` None and its `error` set. Counting writes therefore counts what the skill tried to
do, not only what got through.

**Failures fail the test.** A delivery that ends `failed`, a skill run with outcome
`error`, or a deferred or periodic task whose handler raised (or that has no handler) makes
`dispatch`, `idle` and the end of the `async with` block raise `AssertionError`, naming the
delivery or task, the skill and the error, even though ghapp itself carried on. A test
about a failure says which one it expects, before it happens:

    app.expect_failure("broken", match="kaput")       # skill "broken", detail matching
    app.expect_failure(match="no handler for task")   # any skill, detail matching

Each expectation covers every failure it matches, and must match at least one by the end of
the block, or the test fails ("expected a failure ... none happened"). Next to "nothing was
written", assert why: `outcomes(delivery) == {"my-skill": "skipped: switched off"}`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
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
from ghapp.failures import plain_detail
from ghapp.github import JournalEntry, RetryPolicy, is_token_request
from ghapp.ingress import new_delivery
from ghapp.options import ResolvedOptions
from ghapp.payloads import installation_id_of, repository_of
from ghapp.queue.inline import InlineQueue
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.skill import NoOptions, Skill
from ghapp.store import Delivery
from ghapp.testing.failures import ExpectedFailure, Failure, TaskErrors, WatchedProcessor

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


@dataclass
class RecordedRequest(JournalEntry):
    """A request the code under test attempted; `status` None and `error` set if it failed."""

    error: str | None = None


class RecordingTransport(httpx.AsyncBaseTransport):
    """Writes down every request (token requests aside) before passing it on.

    Written first, so that a request refused below (a cassette without it, a broken
    connection) is still seen by the test, whatever the code under test makes of the error.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entries: list[RecordedRequest] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_token_request(request.url):
            return await self.inner.handle_async_request(request)
        entry = RecordedRequest(
            request.method,
            request.url.path.removeprefix("/api/v3"),
            request.url.query.decode(),
            await _json_body(request),
            None,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        self.entries.append(entry)
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            entry.error = f"{type(exc).__name__}: {exc}"
            raise
        entry.status = response.status_code
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _json_body(request: httpx.Request) -> Any:
    # `aread` keeps the body for the transport below (a streamed body is buffered once).
    content = await request.aread()
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


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


def outcomes(delivery: Delivery) -> dict[str, str]:
    """What each skill decided on a delivery: `{"label-sync": "ok", "hello": "skipped:
    switched off"}` — assert it next to "nothing was written", so silence has its reason."""
    return {
        r.skill: f"{r.outcome}: {plain_detail(r.detail)}" if r.detail else r.outcome
        for r in delivery.runs
    }


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
        self._task_errors = TaskErrors()
        self.runtime.processor = WatchedProcessor(self.runtime.processor, self._task_errors)  # type: ignore[assignment]
        self._expected: list[ExpectedFailure] = []
        self._seen: set[Failure] = set()

    async def __aenter__(self) -> SkillTestApp:
        logging.getLogger("ghapp").addHandler(self._task_errors)
        await self.runtime.prepare()
        await self.runtime.start_workers()
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                await self.check_outcomes()
            else:  # the test failed already: say what else went wrong, do not hide why
                for failure in await self._new_unexpected():
                    exc.add_note(f"also failed meanwhile: {failure.line()}")
        finally:
            await self.runtime.stop(timeout=5)
            logging.getLogger("ghapp").removeHandler(self._task_errors)
        if exc is None:
            self._raise_for(await self._new_unexpected(read_store=False))
            unmet = [f"skill={e.skill} match={e.match!r}" for e in self._expected if not e.matched]
            if unmet:
                raise AssertionError(f"expected a failure ({'; '.join(unmet)}); none happened")

    # -- outcomes ------------------------------------------------------------------------

    def expect_failure(self, skill: str | None = None, *, match: str | None = None) -> None:
        """Declare a failure this test causes on purpose: a delivery or task of `skill` (any
        skill when None) whose error matches the regular expression `match`."""
        if skill is None and match is None:
            raise ValueError("expect_failure needs a skill or a match: say which failure")
        self._expected.append(ExpectedFailure(skill, match))

    async def failures(self) -> list[Failure]:
        """Every failed delivery, skill error and failed task so far, expected or not."""
        found: list[Failure] = []
        for delivery in await self.runtime.deliveries.list(limit=1_000_000):
            errors = [r for r in delivery.runs if r.outcome == "error"]
            found += [
                Failure("delivery", delivery.id, r.skill, plain_detail(r.detail) or "")
                for r in errors
            ]
            if delivery.status == "failed" and not errors:
                error = plain_detail(delivery.error) or "failed"
                found.append(Failure("delivery", delivery.id, None, error))
        return found + self._task_errors.failures

    async def check_outcomes(self) -> None:
        """Raise AssertionError for any failure not declared with `expect_failure`."""
        self._raise_for(await self._new_unexpected())

    async def _new_unexpected(self, *, read_store: bool = True) -> list[Failure]:
        found = await self.failures() if read_store else self._task_errors.failures
        unexpected: list[Failure] = []
        for failure in found:
            if failure in self._seen:
                continue
            self._seen.add(failure)
            covering = [e for e in self._expected if e.covers(failure)]
            for expectation in covering:
                expectation.matched += 1
            if not covering:
                unexpected.append(failure)
        return unexpected

    @staticmethod
    def _raise_for(unexpected: list[Failure]) -> None:
        if unexpected:
            lines = "\n".join(f"  - {f.line()}" for f in unexpected)
            raise AssertionError(
                "unexpected failures (declare an intended one with app.expect_failure):\n" + lines
            )

    # -- requests ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request attempted so far (token requests aside), in order."""
        return self.recorder.entries

    def writes(self) -> list[RecordedRequest]:
        """The attempted requests that would change something on GitHub."""
        return [r for r in self.requests if r.is_write]

    # -- driving -------------------------------------------------------------------------

    async def dispatch(
        self, event: str, payload: dict[str, Any], *, delivery_id: str | None = None
    ) -> Delivery:
        """Store and process one delivery (and the tasks it defers); return its record."""
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
        """Wait until every queued delivery and deferred task has run; then fail on any
        failure the test did not declare."""
        queue = self.runtime.queue
        if isinstance(queue, InlineQueue):
            await queue.drain(timeout)
        else:  # pragma: no cover - scale-out tests wait on their own terms
            await asyncio.sleep(0)
        await self.check_outcomes()

    async def set_switch(
        self, installation_id: int, repository: str, skill: str, enabled: bool | None
    ) -> None:
        await self.runtime.switches.set(installation_id, repository, skill, enabled, actor="test")


# Helpers named test_* are not tests when imported into a test module.
test_key_pair.__test__ = False  # type: ignore[attr-defined]
test_settings.__test__ = False  # type: ignore[attr-defined]
