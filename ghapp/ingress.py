"""Where GitHub's webhooks enter: verify → store → enqueue → 202.

Skills never run here, and ingress does not know them: whether a delivery is worth
queuing is read from the names the bus published (`Runtime.queued_events`); the rest is
stored as ignored. The answer waits only for one database insert, so it stays in
milliseconds whatever the skills do. The delivery is stored *before* it is acknowledged,
so an acknowledged delivery survives a crash.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from githubkit.webhooks import verify
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ghapp.payloads import installation_id_of, ordering_key, repository_of
from ghapp.store import Delivery
from ghapp.store.database import utcnow

if TYPE_CHECKING:
    from ghapp.runtime import Runtime

log = logging.getLogger("ghapp.ingress")
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
_HEADER_VALUE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None as soon as it grows past the limit (never read whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


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
    # Only the SHA-256 header counts: githubkit's verify would also accept sha1=.
    if not signature or not signature.startswith("sha256="):
        return False
    matched = False
    for secret in secrets:  # every configured secret is tried: rotation
        matched |= verify(secret, body, signature)
    return matched


async def receive_webhook(request: Request) -> Response:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        return _answer(503, "this App is not configured yet; finish setup at /")
    body = await _read_body(request)
    if body is None:
        return _answer(413, "payload larger than 25 MiB")
    secrets = tuple(s.get_secret_value() for s in runtime.settings.webhook_secrets)
    if not signature_ok(secrets, body, request.headers.get("x-hub-signature-256")):
        log.warning("rejected delivery with a missing or wrong signature")
        return _answer(401, "missing or invalid X-Hub-Signature-256")
    event = request.headers.get("x-github-event")
    delivery_id = request.headers.get("x-github-delivery")
    if not event or not delivery_id:
        return _answer(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
    if not _HEADER_VALUE.match(event) or not _HEADER_VALUE.match(delivery_id):
        return _answer(400, "malformed X-GitHub-Event or X-GitHub-Delivery header")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _answer(400, "body is not JSON")
    if not isinstance(payload, dict):
        return _answer(400, "body is not a JSON object")
    if event == "ping":
        return JSONResponse({"message": "pong"}, status_code=200)

    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    handled = worth_queuing(runtime.queued_events, event, action)
    delivery = new_delivery(delivery_id, event, body, payload, action=action, handled=handled)
    if not await runtime.deliveries.record(delivery):
        return JSONResponse({"message": "delivery already received"}, status_code=200)
    if handled:
        await runtime.queue.enqueue_delivery(delivery.id, delivery.ordering_key)
    else:
        runtime.metrics.deliveries.labels(event, "ignored").inc()
    return JSONResponse({"message": "accepted", "delivery": delivery.id}, status_code=202)
