"""The queue between ingress and the workers, behind one small interface.

`InlineQueue` runs in the web process (one machine); `RedisQueue` (scale-out) hands
jobs to `ghapp worker` processes through an established Redis job-queue library. Ingress
only calls `enqueue_delivery`; skills only reach `enqueue_task` through `ctx.defer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ghapp.store import StoredTask


class Processor(Protocol):
    """What a queue runs: implemented by ghapp.worker.DeliveryProcessor."""

    async def process_delivery(self, delivery_id: str) -> float | None:
        """Handle one delivery; a number means "try again after that many seconds"."""
        ...

    async def run_task(self, task: StoredTask) -> float | None: ...


class Queue(Protocol):
    async def enqueue_delivery(
        self, delivery_id: str, ordering_key: str | None, delay: float = 0.0
    ) -> None: ...

    async def enqueue_deliveries(self, refs: Sequence[tuple[str, str | None]]) -> None:
        """Queue many stored deliveries at once, (id, ordering key) each (ingress's group
        commit hands over a whole batch)."""
        ...

    async def enqueue_task(self, task: StoredTask, delay: float) -> bool:
        """Queue deferred work unless a pending task has the same key (it coalesces)."""
        ...

    async def depth(self) -> int: ...

    async def start_workers(self, processor: Processor) -> None:
        """Begin processing (resuming whatever a crash left unfinished)."""
        ...

    async def stop(self, timeout: float) -> None:
        """Take no new work; let work in flight finish up to `timeout` seconds."""
        ...

    async def ping(self) -> None: ...
