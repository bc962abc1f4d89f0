"""The in-process queue: `ghapp run` on one machine, no Redis.

Every delivery is in the database before it is queued here, so this queue may forget
(a crash, a restart): on start it takes up again whatever is stored and unfinished.
Deliveries for one issue or pull request (same ordering key) run one after another in
arrival order; others run concurrently. Deferred tasks are stored too and coalesce by key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ghapp.queue import Processor
from ghapp.store import DeliveryStore, StoredTask, TaskStore

log = logging.getLogger("ghapp.queue")


@dataclass(frozen=True)
class _Item:
    kind: str  # "delivery" | "task"
    ident: str
    ordering_key: str | None = None


class InlineQueue:
    def __init__(
        self, deliveries: DeliveryStore, tasks: TaskStore, *, concurrency: int = 8
    ) -> None:
        self.deliveries = deliveries
        self.tasks = tasks
        self.concurrency = concurrency
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._timers: dict[asyncio.TimerHandle, _Item] = {}
        self._key_locks: dict[str, asyncio.Lock] = {}
        self._key_users: dict[str, int] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[None]] = set()
        self._processor: Processor | None = None
        self._stopping = False
        self.idle = asyncio.Event()
        self.idle.set()

    # -- Queue interface -----------------------------------------------------------------

    async def enqueue_delivery(
        self, delivery_id: str, ordering_key: str | None, delay: float = 0.0
    ) -> None:
        self._put(_Item("delivery", delivery_id, ordering_key), delay)

    async def enqueue_deliveries(self, refs: Sequence[tuple[str, str | None]]) -> None:
        for delivery_id, ordering_key in refs:
            self._put(_Item("delivery", delivery_id, ordering_key), 0.0)

    async def enqueue_task(self, task: StoredTask, delay: float) -> bool:
        if not await self.tasks.add(task):
            return False
        self._put(_Item("task", task.key), delay)
        return True

    async def depth(self) -> int:
        return self._queue.qsize() + sum(
            1 for item in self._timers.values() if item.kind == "delivery"
        )

    async def ping(self) -> None:
        return None

    async def start_workers(self, processor: Processor) -> None:
        self._processor = processor
        resumed = await self.deliveries.reset_running()
        now = datetime.now(UTC)
        pending = await self.deliveries.unfinished()
        for delivery in pending:
            delay = (delivery.not_before - now).total_seconds() if delivery.not_before else 0.0
            self._put(_Item("delivery", delivery.id, delivery.ordering_key), max(delay, 0.0))
        for task in await self.tasks.pending():
            self._put(_Item("task", task.key), max((task.run_at - now).total_seconds(), 0.0))
        if pending:
            log.info("resuming %d unfinished deliveries (%d interrupted)", len(pending), resumed)
        self._workers = [
            asyncio.create_task(self._work(), name=f"ghapp-worker-{n}")
            for n in range(self.concurrency)
        ]

    async def stop(self, timeout: float) -> None:
        self._stopping = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for worker in self._workers:
            if worker not in self._busy:
                worker.cancel()
        busy = list(self._busy)
        if busy:
            _done, still = await asyncio.wait(busy, timeout=timeout)
            for worker in still:
                worker.cancel()
            if still:
                log.warning(
                    "%d jobs did not finish in %ss; they resume on restart", len(still), timeout
                )
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    # -- internals -----------------------------------------------------------------------

    def _put(self, item: _Item, delay: float) -> None:
        if self._stopping:
            return
        self.idle.clear()
        if delay <= 0:
            self._queue.put_nowait(item)
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop(handle, None)
            if not self._stopping:
                self._queue.put_nowait(item)

        handle = loop.call_later(delay, fire)
        self._timers[handle] = item

    async def _work(self) -> None:
        current = asyncio.current_task()
        assert current is not None and self._processor is not None
        while not self._stopping:
            item = await self._queue.get()
            self._busy.add(current)
            try:
                await self._handle(item)
            except Exception:
                log.exception("worker failed on %s %s", item.kind, item.ident)
            finally:
                self._busy.discard(current)
                self._queue.task_done()
                if self._queue.empty() and not self._busy and not self._timers:
                    self.idle.set()

    async def _handle(self, item: _Item) -> None:
        assert self._processor is not None
        if item.kind == "task":
            task = await self.tasks.take(item.ident)
            if task is None:
                return
            delay = await self._processor.run_task(task)
            if delay is not None:
                await self.enqueue_task(task, delay)
            return
        key = item.ordering_key
        if key is None:
            delay = await self._processor.process_delivery(item.ident)
        else:
            # Waiters on a key's lock are woken in arrival order; the lock is dropped only
            # once nobody holds or awaits it, so a later delivery cannot jump the queue.
            lock = self._key_locks.setdefault(key, asyncio.Lock())
            self._key_users[key] = self._key_users.get(key, 0) + 1
            try:
                async with lock:
                    delay = await self._processor.process_delivery(item.ident)
            finally:
                self._key_users[key] -= 1
                if not self._key_users[key]:
                    del self._key_users[key], self._key_locks[key]
        if delay is not None:
            self._put(item, delay)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until nothing is queued, delayed or running (tests, `ghapp receive`)."""
        await asyncio.wait_for(self.idle.wait(), timeout)
