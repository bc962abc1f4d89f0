"""The scale-out queue: deliveries and deferred tasks as saq jobs in Redis.

`ghapp run` only stores and enqueues; any number of `ghapp worker` processes run the jobs.
saq does the queueing, job-key dedup, scheduled jobs, retries, heartbeats and the sweeping
of jobs whose worker died (docs/scale-out.md says why saq and what was checked). What this
module adds is what saq leaves to us:

- **Ordering per issue or pull request.** saq 0.26's `group_key` does not serialise jobs
  on Redis, so a delivery with an ordering key runs only when no older delivery with the
  same key is unfinished in the deliveries table (arrival order) and while it holds a
  per-key Redis lock (no two at once, whatever the clocks say). Otherwise the job goes
  back to saq for a short while; those waits do not use up its crash retries.
- **One run of a delivery at a time.** A delivery without an ordering key holds a lock
  on its own id instead, so the duplicate run a saq sweep can start (see
  docs/scale-out.md) waits, then finds the delivery finished.
- **Delays asked for by the processor** (GitHub down, rate limited) become saq retries
  scheduled after that delay.
- **Every unfinished delivery has a job.** Once a minute one worker compares the
  deliveries table with saq and re-enqueues a delivery whose job is gone (Redis lost
  it); on start each worker does the same.
- **Coalesced deferred tasks.** The tasks table stays the coalescing point, as for the
  in-process queue: a task is added there unless one with the same key is pending, and
  the saq job only points at it.

The deliveries table stays the permanent idempotency store; saq's dedup only covers a
delivery while its job is queued or running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq.job import TERMINAL_STATUSES, Job, Status
from saq.worker import Worker

from ghapp.queue import Processor
from ghapp.queue.redis_lock import RenewedLock
from ghapp.queue.saq_sweep import SweepingQueue
from ghapp.store import DeliveryStore, StoredTask, TaskStore

log = logging.getLogger("ghapp.queue")

DELIVERY_JOB = "ghapp_delivery"
TASK_JOB = "ghapp_task"


@dataclass(frozen=True)
class QueueTimings:
    """How jobs are run and recovered (seconds). saq's own defaults (10 s timeout, one
    attempt) would lose a delivery whose worker crashed, so every value is explicit."""

    job_timeout: int = 900  # a delivery paced behind many writes can take minutes
    heartbeat: int = 15  # a job not touched for this long belongs to a dead worker
    sweep_every: int = 10  # how often (across all workers) stuck jobs are looked for
    crash_retries: int = 5  # runs lost to crashes or timeouts before saq gives up
    crash_retry_delay: float = 1.0
    order_wait: float = 0.5  # how soon a delivery waiting for its turn looks again
    order_lock_ttl: float = 20.0  # a dead worker's per-issue lock frees itself this fast
    orphan_check_every: int = 60  # how often (across all workers) jobs are matched to rows
    dequeue_timeout: float = 1.0  # idle job slots notice a stop this fast
    result_ttl: int = 600  # finished jobs stay visible in Redis (saq's `info`)


class Requeue(Exception):
    """Run this job again after `delay` seconds; not a failure (waiting for its turn, or
    GitHub asked for time)."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class _QuietRequeue(logging.Filter):
    # saq logs every exception a job raises with its traceback; a Requeue is the normal
    # way a job asks to run again later, so it is not an error worth a traceback.
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Requeue))


class RedisQueue:
    """The `Queue` of ghapp.queue on saq + Redis (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        *,
        name: str,
        namespace: str,
        deliveries: DeliveryStore,
        tasks: TaskStore,
        concurrency: int = 8,
        timings: QueueTimings | None = None,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.deliveries = deliveries
        self.tasks = tasks
        self.concurrency = concurrency
        self.timings = timings or QueueTimings()
        self.saq = SweepingQueue(redis, name=name)
        self._processor: Processor | None = None
        self._worker: Worker[Any] | None = None
        self._slots: list[asyncio.Task[None]] = []
        self._stopping = False
        saq_log = logging.getLogger("saq")
        if not any(isinstance(f, _QuietRequeue) for f in saq_log.filters):
            saq_log.addFilter(_QuietRequeue())

    # -- Queue interface -----------------------------------------------------------------

    async def enqueue_delivery(
        self, delivery_id: str, ordering_key: str | None, delay: float = 0.0
    ) -> None:
        await self._enqueue_delivery_job(delivery_id, ordering_key, delay)

    async def enqueue_deliveries(self, refs: Sequence[tuple[str, str | None]]) -> None:
        # saq enqueues one job per script call; sent together they share the round trips
        # (saq bounds how many run at once).
        await asyncio.gather(*(self._enqueue_delivery_job(i, key, 0.0) for i, key in refs))

    async def enqueue_task(self, task: StoredTask, delay: float) -> bool:
        if not await self.tasks.add(task):
            return False  # a pending task with this key will do the work (coalesced)
        await self._enqueue_task_job(task, delay)
        return True

    async def depth(self) -> int:
        """Jobs waiting to run, now or later (running ones are not counted)."""
        incomplete = await self.saq.count("incomplete")
        active = await self.saq.count("active")
        return max(incomplete - active, 0)

    async def ping(self) -> None:
        await self.redis.execute_command("PING")

    async def start_workers(self, processor: Processor) -> None:
        self._processor = processor
        self._stopping = False
        await self.saq.connect()
        await self._resume()
        timings = self.timings
        worker: Worker[Any] = Worker(
            self.saq,
            functions=[(DELIVERY_JOB, self._delivery_job), (TASK_JOB, self._task_job)],
            concurrency=self.concurrency,
            timers={
                "schedule": 1,
                "worker_info": 10,
                "sweep": timings.sweep_every,
                # ghapp never aborts jobs. saq's abort check would cancel a delivery
                # mid-run when a sweep misjudged it (a job taken a moment before its
                # status said so); the delivery lock makes the sweep's retry harmless.
                "abort": 24 * 3600,
            },
            dequeue_timeout=timings.dequeue_timeout,
        )
        self._worker = worker
        # saq's `Worker.start` would install its own SIGTERM handler and cut jobs short on
        # stop; the CLI owns the signals, so the upkeep and the job slots are run here.
        worker.tasks.update(await worker.upkeep())
        worker.tasks.add(asyncio.create_task(self._check_orphans_now_and_then()))
        self._slots = [
            asyncio.create_task(self._slot(worker), name=f"ghapp-job-slot-{n}")
            for n in range(self.concurrency)
        ]

    async def stop(self, timeout: float) -> None:
        """Take no new jobs; jobs in flight get `timeout` seconds, then saq requeues them."""
        self._stopping = True
        worker = self._worker
        if worker is None:
            return
        worker.event.set()
        if self._slots:
            _done, pending = await asyncio.wait(self._slots, timeout=timeout)
            for slot in pending:
                slot.cancel()  # saq puts a cancelled job back in the queue
            if pending:
                log.warning("%d jobs did not finish in %ss; requeued", len(pending), timeout)
            await asyncio.gather(*self._slots, return_exceptions=True)
        self._slots = []
        # saq's upkeep loops only sleep between rounds: cancel them rather than wait.
        upkeep = list(worker.tasks)
        worker.tasks.clear()
        for task in upkeep:
            task.cancel()
        await asyncio.gather(*upkeep, return_exceptions=True)
        await worker.stop()
        self._worker = None

    # -- internals -----------------------------------------------------------------------

    def _job_options(self) -> dict[str, Any]:
        t = self.timings
        return {
            "timeout": t.job_timeout,
            "heartbeat": t.heartbeat,
            "retries": 1 + t.crash_retries,
            "retry_delay": t.crash_retry_delay,
            "ttl": t.result_ttl,
        }

    async def _enqueue_delivery_job(
        self, delivery_id: str, ordering_key: str | None, delay: float
    ) -> bool:
        # The job key is the delivery id: a second enqueue while it is queued or running
        # is dropped by saq (a GitHub redelivery never gets this far: ingress checks first).
        job = await self.saq.enqueue(
            DELIVERY_JOB,
            key=delivery_id,
            scheduled=_scheduled(delay),
            delivery_id=delivery_id,
            ordering_key=ordering_key,
            **self._job_options(),
        )
        return job is not None

    async def _enqueue_task_job(self, task: StoredTask, delay: float) -> None:
        # One job per stored task: the key includes its time so that a task added again
        # after this one started (events that arrived meanwhile) gets its own job.
        stamp = int(task.run_at.timestamp() * 1000)
        await self.saq.enqueue(
            TASK_JOB,
            key=f"task:{task.key}:{stamp}",
            scheduled=_scheduled(delay),
            task=_task_to_json(task),
            **self._job_options(),
        )

    async def _resume(self) -> None:
        """On start: queue what the database holds unfinished and saq does not (Redis lost
        it), and the pending deferred tasks; job-key dedup skips what is already queued."""
        await self._requeue_orphans()
        now = datetime.now(UTC)
        for task in await self.tasks.pending():
            await self._enqueue_task_job(task, max((task.run_at - now).total_seconds(), 0.0))

    async def _check_orphans_now_and_then(self) -> None:
        every = self.timings.orphan_check_every
        while not self._stopping:
            await asyncio.sleep(every)
            try:
                # One worker per period does it: the SET succeeds for one of them.
                if await self.redis.set(f"{self.namespace}:orphan-check", "1", nx=True, ex=every):
                    await self._requeue_orphans()
            except Exception:
                log.exception("checking unfinished deliveries against the queue failed")

    async def _requeue_orphans(self) -> int:
        """Re-enqueue every unfinished delivery whose job is gone; returns how many."""
        rows = await self.deliveries.unfinished_refs()
        requeued = 0
        for start in range(0, len(rows), 500):
            batch = rows[start : start + 500]
            jobs = await self.saq.jobs(ident for ident, _key, _not_before in batch)
            for (ident, key, not_before), job in zip(batch, jobs, strict=True):
                if job is not None and job.status not in TERMINAL_STATUSES:
                    continue
                if await self._make_sure_queued(ident, key, not_before):
                    requeued += 1
        if requeued:
            log.warning("re-enqueued %d unfinished deliveries that had no job", requeued)
        return requeued

    async def _slot(self, worker: Worker[Any]) -> None:
        while not self._stopping:
            await worker.process()

    @contextlib.asynccontextmanager
    async def _heartbeat(self, job: Job) -> AsyncIterator[None]:
        """Touch the job while it runs: saq's sweep takes a job whose heartbeat stopped
        (its worker died) and runs it again elsewhere."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.timings.heartbeat / 3)
                try:
                    await job.update()
                except RedisError:
                    log.warning("heartbeat of job %s failed", job.key)

        task = asyncio.create_task(beat(), name=f"heartbeat {job.key}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _requeue(self, job: Job, delay: float, reason: str) -> Requeue:
        # saq schedules the retry after `retry_delay`; one more allowed attempt keeps a
        # wait from counting against the crash retries.
        job.retry_delay = max(delay, 0.0)
        job.retry_backoff = False
        job.retries += 1
        return Requeue(delay, reason)

    async def _delivery_job(
        self, ctx: dict[str, Any], *, delivery_id: str, ordering_key: str | None = None
    ) -> None:
        job: Job = ctx["job"]
        processor = self._processor
        assert processor is not None
        async with self._heartbeat(job):
            if ordering_key is not None:
                older = await self.deliveries.older_unfinished(delivery_id)
                if older is not None:
                    await self._make_sure_queued(*older)
                    raise self._requeue(job, self.timings.order_wait, f"waits for {older[0]}")
            lock = RenewedLock(
                self.redis,
                f"{self.namespace}:order:{ordering_key or 'delivery:' + delivery_id}",
                ttl=self.timings.order_lock_ttl,
            )
            if not await lock.acquire(blocking=False):
                raise self._requeue(job, self.timings.order_wait, "its issue is busy")
            try:
                delay = await processor.process_delivery(delivery_id)
            finally:
                await lock.release()
        if delay is not None:
            raise self._requeue(job, delay, "retry later")

    async def _make_sure_queued(
        self, delivery_id: str, ordering_key: str | None, not_before: datetime | None
    ) -> bool:
        """Give an unfinished delivery a job unless it has one (saq's dedup makes this a
        no-op while its job is queued or running); True when a job was added. If saq gave
        up on it (it crashed its workers every time), it is marked failed instead, so
        that the deliveries behind it are not stuck for ever."""
        job = await self.saq.job(delivery_id)
        if job is not None and (
            job.status == Status.FAILED or (job.status == Status.ABORTED and not job.retryable)
        ):
            log.error(
                "delivery failed in every attempt; the next ones for its issue go ahead",
                extra={"delivery": delivery_id},
            )
            await self.deliveries.finish(
                delivery_id, "failed", f"gave up: {job.error or job.status.value}"[:2000]
            )
            return False
        delay = (not_before - datetime.now(UTC)).total_seconds() if not_before else 0.0
        return await self._enqueue_delivery_job(delivery_id, ordering_key, max(delay, 0.0))

    async def _task_job(self, ctx: dict[str, Any], *, task: dict[str, Any]) -> None:
        job: Job = ctx["job"]
        processor = self._processor
        assert processor is not None
        stored = _task_from_json(task)
        taken = await self.tasks.take(stored.key)
        if taken is None:
            if job.attempts <= 1:
                return  # ran already under another job (resumed twice)
            # A retry after a crash: the first run had taken the row, so run our copy.
            taken = stored
        async with self._heartbeat(job):
            delay = await processor.run_task(taken)
        if delay is not None:
            retry = StoredTask(**{**taken.__dict__, "run_at": _in(delay)})
            await self.enqueue_task(retry, delay)


def _scheduled(delay: float) -> int:
    # saq schedules in whole epoch seconds; 0 means "now".
    return math.ceil(time.time() + delay) if delay > 0 else 0


def _in(delay: float) -> datetime:
    return datetime.fromtimestamp(time.time() + delay, UTC)


def _task_to_json(task: StoredTask) -> dict[str, Any]:
    return {**task.__dict__, "run_at": task.run_at.isoformat()}


def _task_from_json(data: dict[str, Any]) -> StoredTask:
    return StoredTask(**{**data, "run_at": datetime.fromisoformat(data["run_at"])})
