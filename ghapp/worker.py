"""Processing one delivery: claim it, keep the installations table true, dispatch it
through the bus, record the outcome.

An `installation` deleted or suspended stops that installation's work only once GitHub
confirms it (`GET /app/installations/{id}`): the webhook signature covers the body, not
the `X-GitHub-Event` header, so a signed body of another event re-sent under that header
must not switch an installation off (PRODUCT.md §4).

Used by the in-process queue and by `ghapp worker` alike. A delivery GitHub could not
serve (outage, rate limit) goes back to the queue with a delay, up to MAX_ATTEMPTS; a
skill error is final for that skill and marks the delivery failed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from githubkit.exception import RequestFailed

from ghapp.bus import Bus
from ghapp.metrics import Metrics
from ghapp.store import Delivery, DeliveryStore, InstallationStore, StoredTask
from ghapp.store.database import utcnow

log = logging.getLogger("ghapp.worker")
MAX_ATTEMPTS = 8
STOPPING_ACTIONS = ("deleted", "suspend")  # `installation` actions that stop its work


@dataclass
class DeliveryProcessor:
    deliveries: DeliveryStore
    installations: InstallationStore
    bus: Bus
    metrics: Metrics
    max_attempts: int = MAX_ATTEMPTS

    async def process_delivery(self, delivery_id: str) -> float | None:
        delivery = await self.deliveries.claim(delivery_id)
        if delivery is None:
            return None  # finished already (a duplicate job) or unknown
        started = time.perf_counter()
        extra = {"delivery": delivery.id, "event": delivery.name, "repo": delivery.repository}
        try:
            confirmed = await self._confirmed_by_github(delivery)
        except Exception as exc:
            return await self._retry_or_fail(delivery, f"cannot ask GitHub: {exc}", extra)
        if not confirmed:
            log.warning("GitHub does not confirm this installation change; ignored", extra=extra)
            await self.deliveries.finish(
                delivery.id, "ignored", "GitHub does not confirm it: the installation is there"
            )
            self._count(delivery.event, "ignored", delivery.received_at)
            return None
        try:
            await self.installations.follow(delivery)
            result = await self.bus.dispatch(delivery)
        except Exception as exc:
            log.exception("delivery failed", extra=extra)
            await self.deliveries.finish(delivery.id, "failed", f"{type(exc).__name__}: {exc}")
            self._count(delivery.event, "failed", delivery.received_at)
            return None
        if result.retry_after is not None and delivery.attempts < self.max_attempts:
            # Exponential on top of what GitHub asked, so a long outage backs off.
            delay = max(result.retry_after, 2.0**delivery.attempts)
            await self.deliveries.requeue(
                delivery.id,
                utcnow() + timedelta(seconds=delay),
                "; ".join(result.errors) or None,
                result.runs,
            )
            log.info("delivery will be retried in %.0fs", delay, extra=extra)
            return delay
        if result.retry_after is not None:
            result.errors.append(f"gave up after {delivery.attempts} attempts")
        status = "failed" if result.failed else "done"
        await self.deliveries.finish(
            delivery.id, status, "; ".join(result.errors) or None, result.runs
        )
        self._count(delivery.event, status, delivery.received_at)
        log.info(
            "delivery %s",
            status,
            extra={**extra, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
        )
        return None

    async def _confirmed_by_github(self, delivery: Delivery) -> bool:
        """False when the delivery says an installation was deleted or suspended and GitHub
        says otherwise."""
        iid = delivery.installation_id
        if delivery.event != "installation" or delivery.action not in STOPPING_ACTIONS:
            return True
        if iid is None:
            return True  # names no installation: follow() changes nothing
        try:
            response = await self.bus.clients.app.rest.apps.async_get_installation(iid)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return True  # gone: deleted (or suspended and then deleted)
            raise
        if delivery.action == "deleted":
            return False
        return response.json().get("suspended_at") is not None

    async def _retry_or_fail(
        self, delivery: Delivery, error: str, extra: dict[str, object]
    ) -> float | None:
        if delivery.attempts < self.max_attempts:
            delay = 2.0**delivery.attempts
            await self.deliveries.requeue(delivery.id, utcnow() + timedelta(seconds=delay), error)
            log.info("delivery will be retried in %.0fs (%s)", delay, error, extra=extra)
            return delay
        await self.deliveries.finish(delivery.id, "failed", error)
        self._count(delivery.event, "failed", delivery.received_at)
        return None

    def _count(self, event: str, outcome: str, received_at: object) -> None:
        self.metrics.deliveries.labels(event, outcome).inc()
        if hasattr(received_at, "timestamp"):
            elapsed = utcnow().timestamp() - received_at.timestamp()  # type: ignore[attr-defined]
            self.metrics.delivery_seconds.observe(max(elapsed, 0.0))

    async def run_task(self, task: StoredTask) -> float | None:
        return await self.bus.run_task(task)
