"""saq's Redis queue with a sweep that does not take a starting job for an abandoned one.

A saq worker takes a job by moving its id into the active list (BLMOVE) and marks the
job's record active a moment later (two more round trips). saq 0.26's sweep takes every
job in the active list whose record does not say active for abandoned: it aborts it and
retries it. A sweep that falls into that moment therefore ran a job that was just
starting a second time, seconds after it finished (the flaky
tests/test_scaleout.py::test_a_delivery_id_is_one_job: the delivery's finished job came
back to the queue and the depth read 1 again).

Here a job whose record still says queued while its id is in the active list is swept
only once this sweeper has seen it so for the job's heartbeat: a live worker marks it
within milliseconds, a worker that died between the two steps never does (its job is
swept a heartbeat later, as saq sweeps a job whose heartbeat stopped). Everything else is
what saq does: a record gone is dropped from the lists; a job whose heartbeat or timeout
ran out is aborted, then retried while it has retries.
"""

from __future__ import annotations

import logging
import time

from saq.job import TERMINAL_STATUSES, Job, Status
from saq.queue.redis import RedisQueue

log = logging.getLogger("ghapp.queue")


class SweepingQueue(RedisQueue):
    # (job id, attempts) seen in the active list with a record saying queued → since when
    _unmarked: dict[tuple[str, int], float] | None = None

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        # One sweeper per `lock` seconds across all workers, as in saq.
        if not await self.redis.set(self._sweep, 1, nx=True, ex=lock):
            return []
        ids: list[bytes] = await self.redis.lrange(self._active, 0, -1)  # type: ignore[misc]
        records = await self.redis.mget(ids) if ids else []
        seen_before = self._unmarked or {}
        unmarked: dict[tuple[str, int], float] = {}
        now = time.monotonic()
        swept: list[str] = []
        for raw_id, raw in zip(ids, records, strict=True):
            job_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            job = self.deserialize(raw) if raw is not None else None
            if job is None:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self._active, 0, job_id)
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                swept.append(job_id)
                continue
            if job.status == Status.QUEUED:
                mark = (job_id, job.attempts)
                since = unmarked[mark] = seen_before.get(mark, now)
                if now - since < max(job.heartbeat, 1):
                    continue  # being taken right now, most likely
            elif job.status == Status.ACTIVE and not job.stuck:
                continue
            elif job.status in TERMINAL_STATUSES:
                await self.redis.lrem(self._active, 0, job_id)  # type: ignore[misc]
                continue  # finished: nothing to run again
            swept.append(job_id)
            await self._sweep_job(job, abort)
        self._unmarked = unmarked
        return swept

    async def _sweep_job(self, job: Job, abort: float) -> None:
        log.info("sweeping job %s (its worker stopped answering)", job.key)
        await self.abort(job, error=self.swept_error_message)
        try:
            await job.refresh(abort)
        except TimeoutError:
            log.info("job %s did not stop within %ss", job.key, abort)
        if job.retryable:
            await self.retry(job, error=self.swept_error_message)
        else:
            await self.finish(job, Status.ABORTED, error=self.swept_error_message)


__all__ = ["SweepingQueue"]
