"""Where GitHub's webhooks enter: verify → store → enqueue → 202.

Skills never run here, and ingress does not know them: whether a delivery is worth
queuing is read from the names the bus published (`Runtime.queued_events`); the rest is
stored as ignored. The delivery is stored *before* it is acknowledged, so an acknowledged
delivery survives a crash.

Group commit: deliveries that arrive while a commit is under way wait for the next one
and share it (one transaction, one multi-row INSERT, one batch of enqueues), and each is
answered only once the commit that holds it is done. Nothing waits on a timer: a lone
delivery is committed at once, and under load a batch forms by itself while the previous
one commits.

The HMAC covers only the body, so nothing is taken on trust from the headers: the event
named by `X-GitHub-Event` must fit the body's shape (ghapp.payloads.shape_problem), and an
`installation` deleted or suspended is confirmed with GitHub by the worker.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from githubkit.webhooks import verify
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ghapp.payloads import installation_id_of, ordering_key, repository_of, shape_problem
from ghapp.store import Delivery
from ghapp.store.database import utcnow

if TYPE_CHECKING:
    from ghapp.runtime import Runtime

log = logging.getLogger("ghapp.ingress")
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# Bodies not yet verified may hold this much memory in all (a delivery of the largest
# size fits alone); a request that would exceed it waits, then is answered 503.
UNVERIFIED_BYTES = 32 * 1024 * 1024
UNVERIFIED_WAIT = 10.0
MAX_BATCH = 256  # deliveries per group commit
_HEADER_VALUE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_SIGNATURE = re.compile(r"^sha256=[0-9a-fA-F]{64}$")


class _OrjsonResponse(JSONResponse):
    # The same compact UTF-8 bytes as Starlette's json.dumps, at a fraction of the CPU:
    # every delivery is answered with one of these (issue 17).
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _answer(status: int, message: str) -> JSONResponse:
    return _OrjsonResponse({"message": message}, status_code=status)


class BodyBudget:
    """A byte budget for bodies read but not yet verified (unauthenticated memory)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self.peak = 0
        self._waiting = 0
        self._freed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, size: int, wait: float) -> AsyncIterator[bool]:
        """Reserve `size` bytes (at most the capacity); yields False when they did not
        become free within `wait` seconds."""
        size = min(size, self.capacity)
        held = await self._reserve(size, wait)
        try:
            yield held
        finally:
            if held:
                self.used -= size
                if self._waiting:
                    async with self._freed:
                        self._freed.notify_all()

    async def _reserve(self, size: int, wait: float) -> bool:
        if self.used + size > self.capacity:
            self._waiting += 1
            try:
                async with self._freed:
                    await asyncio.wait_for(
                        self._freed.wait_for(lambda: self.used + size <= self.capacity), wait
                    )
            except TimeoutError:
                return False
            finally:
                self._waiting -= 1
        self.used += size  # no await since the check: nothing else ran in between
        self.peak = max(self.peak, self.used)
        return True


async def _read_body(request: Request) -> bytes | None:
    """The body, or None as soon as it grows past the limit (never read whole)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def new_delivery(
    delivery_id: str,
    event: str,
    body: bytes,
    payload: dict[str, Any],
    *,
    action: str | None = None,
    handled: bool = True,
) -> Delivery:
    """The record of a delivery as received: the exact body, and what routing needs."""
    if action is None and isinstance(payload.get("action"), str):
        action = payload["action"]
    now = utcnow()
    return Delivery(
        id=delivery_id,
        event=event,
        action=action,
        installation_id=installation_id_of(payload),
        repository=repository_of(payload),
        ordering_key=ordering_key(payload),
        received_at=now,
        status="queued" if handled else "ignored",
        attempts=0,
        payload=body,
        finished_at=None if handled else now,
    )


def worth_queuing(queued_events: frozenset[str], event: str, action: str | None) -> bool:
    """Whether something acts on `event.action` (else it is stored as ignored)."""
    return event in queued_events or (action is not None and f"{event}.{action}" in queued_events)


def signature_ok(secrets: tuple[str, ...], body: bytes, signature: str | None) -> bool:
    # Only the SHA-256 header counts: githubkit's verify would also accept sha1=. The
    # shape is checked first: hmac.compare_digest raises on a non-ASCII string (a 500).
    if not signature or not _SIGNATURE.match(signature):
        return False
    matched = False
    for secret in secrets:  # every configured secret is tried: rotation
        matched |= verify(secret, body, signature)
    return matched


@dataclass
class Intake:
    """Group commit of accepted deliveries (see the module docstring)."""

    runtime: Runtime
    _pending: list[tuple[Delivery, asyncio.Future[bool]]] = field(default_factory=list)
    _flusher: asyncio.Task[None] | None = None

    async def accept(self, delivery: Delivery) -> bool:
        """Store (and queue when handled) one delivery; False when its id was seen before."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await asyncio.shield(future)

    async def _flush_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                fresh = await self._commit([d for d, _f in batch])
            except Exception as exc:
                for _d, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for delivery, future in batch:
                if not future.done():
                    future.set_result(fresh.pop(delivery.id, None) is not None)

    async def _commit(self, batch: list[Delivery]) -> dict[str, Delivery]:
        runtime = self.runtime
        inserted = await runtime.deliveries.record_many(batch)
        # A repeated id within the batch is stored once: its first copy is the new one.
        fresh: dict[str, Delivery] = {}
        for delivery in batch:
            if delivery.id in inserted and delivery.id not in fresh:
                fresh[delivery.id] = delivery
        queued = [(d.id, d.ordering_key) for d in fresh.values() if d.status == "queued"]
        if queued:
            await runtime.queue.enqueue_deliveries(queued)
        for delivery in fresh.values():
            if delivery.status != "queued":
                runtime.metrics.deliveries.labels(delivery.event, "ignored").inc()
        return fresh


_intakes: weakref.WeakKeyDictionary[Runtime, Intake] = weakref.WeakKeyDictionary()
_budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, BodyBudget] = (
    weakref.WeakKeyDictionary()
)


def intake_of(runtime: Runtime) -> Intake:
    intake = _intakes.get(runtime)
    if intake is None:
        intake = _intakes[runtime] = Intake(runtime)
    return intake


def body_budget() -> BodyBudget:
    loop = asyncio.get_running_loop()
    budget = _budgets.get(loop)
    if budget is None:
        budget = _budgets[loop] = BodyBudget(UNVERIFIED_BYTES)
    return budget


async def receive_webhook(request: Request) -> Response:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        return _answer(503, "this App is not configured yet; finish setup at /")
    declared = request.headers.get("content-length")
    if declared is not None and not (declared.isascii() and declared.isdigit()):
        return _answer(400, "malformed Content-Length header")
    size = int(declared) if declared is not None else MAX_BODY_BYTES
    if size > MAX_BODY_BYTES:
        return _answer(413, "payload larger than 25 MiB")
    async with body_budget().hold(size, UNVERIFIED_WAIT) as held:
        if not held:
            return _answer(503, "too many large deliveries at once; try again")
        body = await _read_body(request)
        if body is None:
            return _answer(413, "payload larger than 25 MiB")
        secrets = tuple(s.get_secret_value() for s in runtime.settings.webhook_secrets)
        if not signature_ok(secrets, body, request.headers.get("x-hub-signature-256")):
            log.warning("rejected delivery with a missing or wrong signature")
            return _answer(401, "missing or invalid X-Hub-Signature-256")
    return await _accept(runtime, request, body)


async def _accept(runtime: Runtime, request: Request, body: bytes) -> Response:
    event = request.headers.get("x-github-event")
    delivery_id = request.headers.get("x-github-delivery")
    if not event or not delivery_id:
        return _answer(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
    if not _HEADER_VALUE.match(event) or not _HEADER_VALUE.match(delivery_id):
        return _answer(400, "malformed X-GitHub-Event or X-GitHub-Delivery header")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _answer(400, "body is not JSON")
    if not isinstance(payload, dict):
        return _answer(400, "body is not a JSON object")
    if event == "ping":
        return _OrjsonResponse({"message": "pong"}, status_code=200)
    problem = shape_problem(event, payload)
    if problem is not None:
        log.warning("refused a delivery whose body is not a %s event: %s", event, problem)
        return _answer(400, f"the body is not the shape of a {event} event: {problem}")

    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    handled = worth_queuing(runtime.queued_events, event, action)
    delivery = new_delivery(delivery_id, event, body, payload, action=action, handled=handled)
    try:
        fresh = await intake_of(runtime).accept(delivery)
    except Exception:
        # Not acknowledged, so GitHub keeps it for a redelivery; a delivery stored before
        # its enqueue failed is found again by the queue's check of unfinished deliveries.
        log.exception("could not store or queue a delivery", extra={"delivery": delivery_id})
        return _answer(503, "could not store the delivery; try again")
    if not fresh:
        return _OrjsonResponse({"message": "delivery already received"}, status_code=200)
    return _OrjsonResponse({"message": "accepted", "delivery": delivery.id}, status_code=202)
