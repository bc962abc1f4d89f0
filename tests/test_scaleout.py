"""The Redis-backed parts, in one process against the real Redis: the saq queue (dedup,
delays, ordering per issue, coalesced tasks, graceful stop, crash recovery), locks, the
pacer across "workers", the shared config cache and the shared token cache.

Several `RedisQueue` objects on one key space stand for several workers; the end-to-end
tests with `ghapp worker` processes are in test_scaleout_workers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from githubkit.cache import AsyncRedisCacheStrategy
from redis.asyncio import Redis
from saq.job import TERMINAL_STATUSES, Job, Status
from saq.utils import now as saq_now

from ghapp.github import GitHubClients
from ghapp.queue.redis import QueueTimings, RedisQueue, RenewedLock
from ghapp.repo_config import CachedFile
from ghapp.scaleout import RedisConfigCache, RedisWritePacer, redis_locks
from ghapp.store import Database, Delivery, DeliveryStore, StoredTask, TaskStore
from ghapp.store.database import utcnow
from tests.services import RedisSpace, redis_space_fixture, redis_url_fixture  # noqa: F401
from tests.support.fake_github import FakeGitHub, generate_test_key, run_fake_github

pytestmark = pytest.mark.redis

FAST = QueueTimings(heartbeat=2, sweep_every=1, order_wait=0.1, order_lock_ttl=3.0)


@dataclass
class RecordingProcessor:
    """A stand-in for DeliveryProcessor: claims, runs `work`, finishes; notes the order."""

    deliveries: DeliveryStore
    work: Callable[[str], Awaitable[float | None]] | None = None
    order: list[str] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    tasks_run: list[StoredTask] = field(default_factory=list)
    task_work: Callable[[StoredTask], Awaitable[float | None]] | None = None

    async def process_delivery(self, delivery_id: str) -> float | None:
        delivery = await self.deliveries.claim(delivery_id)
        if delivery is None:
            return None
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.order.append(delivery_id)
            delay = await self.work(delivery_id) if self.work else None
        finally:
            self.running -= 1
        if delay is not None:
            await self.deliveries.requeue(delivery_id, utcnow() + timedelta(seconds=delay), None)
            return delay
        await self.deliveries.finish(delivery_id, "done")
        return None

    async def run_task(self, task: StoredTask) -> float | None:
        self.tasks_run.append(task)
        return await self.task_work(task) if self.task_work else None


@dataclass
class Cluster:
    """One database, one Redis key space, any number of queue "workers"."""

    db: Database
    redis: Redis
    space: RedisSpace
    queues: list[RedisQueue] = field(default_factory=list)
    _received: int = 0

    def queue(self, timings: QueueTimings = FAST, concurrency: int = 4) -> RedisQueue:
        queue = RedisQueue(
            self.redis,
            name=self.space.namespace,
            namespace=self.space.namespace,
            deliveries=DeliveryStore(self.db),
            tasks=TaskStore(self.db),
            concurrency=concurrency,
            timings=timings,
        )
        self.queues.append(queue)
        return queue

    async def deliver(self, ident: str, key: str | None, queue: RedisQueue) -> None:
        """What ingress does: store, then enqueue."""
        self._received += 1
        await DeliveryStore(self.db).record(
            Delivery(
                id=ident,
                event="issues",
                action="edited",
                installation_id=1,
                repository="o/r",
                ordering_key=key,
                # Distinct, increasing times: arrival order is well defined.
                received_at=datetime(2026, 11, 22, tzinfo=UTC) + timedelta(seconds=self._received),
                status="queued",
                attempts=0,
                payload=b"{}",
            )
        )
        await queue.enqueue_delivery(ident, key)

    async def wait_done(self, ids: list[str], timeout: float = 30.0) -> None:
        store = DeliveryStore(self.db)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [await store.get(i) for i in ids]
            if all(d is not None and d.status == "done" for d in found):
                return
            await asyncio.sleep(0.1)
        states = {i: (d.status if (d := await store.get(i)) else None) for i in ids}
        raise AssertionError(f"not done in {timeout}s: {states}")


@pytest.fixture
async def cluster(tmp_path: Path, redis_space: RedisSpace) -> AsyncIterator[Cluster]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cluster.db'}")
    await db.upgrade()
    redis = Redis.from_url(redis_space.url)
    made = Cluster(db, redis, redis_space)
    try:
        yield made
    finally:
        for queue in made.queues:
            await queue.stop(timeout=2)
        await redis.aclose()
        await db.close()


async def test_a_delivery_id_is_one_job(cluster: Cluster) -> None:
    queue = cluster.queue()
    processor = RecordingProcessor(DeliveryStore(cluster.db))
    await cluster.deliver("d-1", None, queue)
    await queue.enqueue_delivery("d-1", None)  # a second enqueue while queued: dropped
    assert await queue.depth() == 1
    await queue.ping()
    await queue.start_workers(processor)
    await cluster.wait_done(["d-1"])
    assert processor.order == ["d-1"]
    deadline = time.monotonic() + 5
    while await queue.depth() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # saq marks the job complete just after the work
    assert await queue.depth() == 0


async def test_a_sweep_while_a_job_is_being_taken_does_not_run_it_again(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker moves a job to the active list, then marks it active: a sweep between the
    two must not take the starting job for an abandoned one (saq's own sweep aborted it and
    queued it again, a second run: test_a_delivery_id_is_one_job's flake). Here the worker
    marks the job only once a sweep has run in between (or after 3 s)."""
    queue = cluster.queue()
    real_sweep = queue.saq.sweep
    swept = asyncio.Event()

    async def noted_sweep(*args: Any, **kwargs: Any) -> list[str]:
        started = marking.is_set()
        try:
            return await real_sweep(*args, **kwargs)
        finally:
            if started:
                swept.set()

    marking = asyncio.Event()
    real_update = Job.update

    async def slow_to_mark_active(job: Job, **kwargs: Any) -> None:
        if kwargs.get("status") == Status.ACTIVE and not marking.is_set():
            marking.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(swept.wait(), 3)
        await real_update(job, **kwargs)

    monkeypatch.setattr(queue.saq, "sweep", noted_sweep)
    monkeypatch.setattr(Job, "update", slow_to_mark_active)
    processor = RecordingProcessor(DeliveryStore(cluster.db))
    await cluster.deliver("d-1", None, queue)
    await queue.start_workers(processor)
    await marking.wait()
    await cluster.wait_done(["d-1"])
    job = await queue.saq.job("d-1")
    while job is not None and job.status not in TERMINAL_STATUSES:
        await asyncio.sleep(0.05)
        job = await queue.saq.job("d-1")
    await asyncio.sleep(FAST.sweep_every * 3)  # the workers' sweeps that would requeue it
    job = await queue.saq.job("d-1")
    assert job is not None and job.status == Status.COMPLETE, job
    assert job.attempts == 1 and job.error is None, "the starting job was swept"
    assert await queue.depth() == 0
    assert processor.order == ["d-1"]


async def test_a_job_taken_by_a_worker_that_died_before_marking_it_is_swept(
    cluster: Cluster,
) -> None:
    """The other side of the sweep above: a job moved to the active list by a worker that
    died before marking it active is still swept (a heartbeat later) and runs elsewhere."""
    queue = cluster.queue()
    await cluster.deliver("d-1", None, queue)
    saq = queue.saq
    # What a worker's dequeue does first (BLMOVE), and nothing after: it died there.
    await cluster.redis.lmove(saq._queued, saq._active, "LEFT", "RIGHT")
    processor = RecordingProcessor(DeliveryStore(cluster.db))
    await queue.start_workers(processor)
    await cluster.wait_done(["d-1"])
    assert processor.order == ["d-1"]


async def test_delay_asked_by_the_processor_retries_later(cluster: Cluster) -> None:
    queue = cluster.queue()
    calls: list[float] = []

    async def flaky(_delivery_id: str) -> float | None:
        calls.append(time.monotonic())
        return 1.0 if len(calls) == 1 else None  # GitHub was down the first time

    await cluster.deliver("d-1", "o/r#1", queue)
    await queue.start_workers(RecordingProcessor(DeliveryStore(cluster.db), work=flaky))
    await cluster.wait_done(["d-1"])
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.9, "not retried before the delay"


async def test_one_issue_in_order_while_issues_run_in_parallel(cluster: Cluster) -> None:
    workers = [cluster.queue(concurrency=4) for _ in range(3)]
    running = {"now": 0, "most": 0}

    async def jitter(_delivery_id: str) -> None:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(random.uniform(0.0, 0.05))
        running["now"] -= 1

    processors = [RecordingProcessor(DeliveryStore(cluster.db), work=jitter) for _ in workers]
    expected: dict[str, list[str]] = {}
    for n in range(10):
        for issue in range(4):
            ident = f"i{issue}-{n:02d}"
            expected.setdefault(f"o/r#{issue}", []).append(ident)
            await cluster.deliver(ident, f"o/r#{issue}", random.choice(workers))
    for queue, processor in zip(workers, processors, strict=True):
        await queue.start_workers(processor)
    everything = [i for ids in expected.values() for i in ids]
    await cluster.wait_done(everything, timeout=60)

    started = [i for p in processors for i in p.order]
    assert sorted(started) == sorted(everything), "each delivery ran exactly once"
    finished: dict[str, list[str]] = {}
    for d in sorted(
        await DeliveryStore(cluster.db).list(limit=1000), key=lambda d: d.finished_at or utcnow()
    ):
        finished.setdefault(d.ordering_key or "", []).append(d.id)
    assert finished == expected, "each issue's deliveries ran in arrival order"
    assert running["most"] > 1, "different issues ran at the same time"


def stored_only(ident: str, key: str | None, at: datetime) -> Delivery:
    return Delivery(
        id=ident,
        event="issues",
        action="opened",
        installation_id=1,
        repository="o/r",
        ordering_key=key,
        received_at=at,
        status="queued",
        attempts=0,
        payload=b"{}",
    )


async def test_an_older_delivery_without_a_job_is_queued_again(cluster: Cluster) -> None:
    """Redis lost the older delivery's job: the newer one, waiting for it, re-queues it."""
    queue = cluster.queue()
    processor = RecordingProcessor(DeliveryStore(cluster.db))
    await queue.start_workers(processor)
    # Stored, never enqueued (as if Redis lost it), older than what comes next.
    await DeliveryStore(cluster.db).record(
        stored_only("lost", "o/r#9", datetime(2026, 1, 1, tzinfo=UTC))
    )
    await cluster.deliver("newer", "o/r#9", queue)
    await cluster.wait_done(["lost", "newer"])
    assert processor.order == ["lost", "newer"]


async def test_unfinished_deliveries_without_a_job_are_found(cluster: Cluster) -> None:
    """On start, and once a period while running, deliveries the queue lost are queued."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store = DeliveryStore(cluster.db)
    await store.record(stored_only("before-start", None, at))
    queue = cluster.queue(QueueTimings(heartbeat=2, sweep_every=1, orphan_check_every=1))
    processor = RecordingProcessor(store)
    await queue.start_workers(processor)
    await cluster.wait_done(["before-start"])
    await store.record(stored_only("while-running", None, at))
    await cluster.wait_done(["while-running"], timeout=15)
    assert processor.order == ["before-start", "while-running"]


async def test_tasks_coalesce_by_key_and_run_once_across_workers(cluster: Cluster) -> None:
    first, second = cluster.queue(), cluster.queue()
    gate = asyncio.Event()
    processors = [RecordingProcessor(DeliveryStore(cluster.db)) for _ in range(2)]

    async def slow(_task: StoredTask) -> None:
        await gate.wait()

    for p in processors:
        p.task_work = slow

    def task(n: int) -> StoredTask:
        return StoredTask(
            key="milestone-progress:refresh:o/r:3",
            skill="milestone-progress",
            name="refresh",
            installation_id=1,
            repository="o/r",
            args={"n": n},
            run_at=utcnow() + timedelta(seconds=1),
        )

    assert await first.enqueue_task(task(1), 1.0)
    assert not await second.enqueue_task(task(2), 1.0), "pending: coalesced"
    for queue, processor in zip((first, second), processors, strict=True):
        await queue.start_workers(processor)
    deadline = time.monotonic() + 10
    while not any(p.tasks_run for p in processors) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [t.args for p in processors for t in p.tasks_run] == [{"n": 1}]
    # An event while the task runs schedules a new run (its counts may be newer).
    assert await second.enqueue_task(task(3), 0.0)
    gate.set()
    deadline = time.monotonic() + 10
    while sum(len(p.tasks_run) for p in processors) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # nothing else turns up
    assert sorted(t.args["n"] for p in processors for t in p.tasks_run) == [1, 3]


async def test_stop_lets_work_in_flight_finish(cluster: Cluster) -> None:
    queue = cluster.queue()
    started = asyncio.Event()

    async def slow(_delivery_id: str) -> None:
        started.set()
        await asyncio.sleep(1.0)

    await cluster.deliver("d-1", None, queue)
    await queue.start_workers(RecordingProcessor(DeliveryStore(cluster.db), work=slow))
    await asyncio.wait_for(started.wait(), 10)
    begun = time.monotonic()
    await queue.stop(timeout=10)
    assert time.monotonic() - begun < 5, "stop waits for the job, not for saq's timers"
    got = await DeliveryStore(cluster.db).get("d-1")
    assert got is not None and got.status == "done"


async def test_work_cut_short_by_stop_goes_to_another_worker(cluster: Cluster) -> None:
    first = cluster.queue()
    started = asyncio.Event()

    async def hangs(_delivery_id: str) -> None:
        started.set()
        await asyncio.sleep(60)

    await cluster.deliver("d-1", None, first)
    await first.start_workers(RecordingProcessor(DeliveryStore(cluster.db), work=hangs))
    await asyncio.wait_for(started.wait(), 10)
    await first.stop(timeout=0.2)
    second = cluster.queue()
    processor = RecordingProcessor(DeliveryStore(cluster.db))
    await second.start_workers(processor)
    await cluster.wait_done(["d-1"], timeout=20)
    assert processor.order == ["d-1"]


async def test_a_job_whose_worker_vanished_is_swept_and_run_again(cluster: Cluster) -> None:
    """What kill -9 leaves behind, made by hand: a job taken (active, attempt counted,
    delivery claimed) whose heartbeat then stops. saq's sweep on another worker must
    notice and run it again (the real kill is in test_scaleout_workers.py)."""
    dead = cluster.queue()
    await cluster.deliver("d-1", "o/r#1", dead)
    job = await dead.saq.dequeue(timeout=1)
    assert job is not None and job.key == "d-1"
    job.started = saq_now()
    job.attempts += 1
    await job.update(status=Status.ACTIVE)
    assert await DeliveryStore(cluster.db).claim("d-1") is not None

    alive = cluster.queue()
    processor = RecordingProcessor(DeliveryStore(cluster.db))
    await alive.start_workers(processor)
    await cluster.wait_done(["d-1"], timeout=30)
    assert processor.order == ["d-1"]
    got = await DeliveryStore(cluster.db).get("d-1")
    assert got is not None and got.attempts >= 2, "claimed again by the second worker"


async def test_renewed_lock_excludes_and_outlives_its_ttl(redis_space: RedisSpace) -> None:
    redis = Redis.from_url(redis_space.url)
    try:
        name = f"{redis_space.namespace}:lock:test"
        holder = RenewedLock(redis, name, ttl=0.6)
        assert await holder.acquire(blocking=False)
        await asyncio.sleep(1.5)  # longer than the TTL: renewed meanwhile
        assert not await RenewedLock(redis, name, ttl=0.6).acquire(blocking=False)
        await holder.release()
        other = RenewedLock(redis, name, ttl=0.6)
        assert await other.acquire(blocking=False)
        # A holder that dies (no renewal, no release) frees the lock after its TTL.
        assert other._renewer is not None
        other._renewer.cancel()
        await asyncio.sleep(1.0)
        assert await RenewedLock(redis, name, ttl=0.6).acquire(blocking=False)
    finally:
        await redis.aclose()


async def test_pacer_spaces_writes_per_installation_across_workers(
    redis_space: RedisSpace,
) -> None:
    redis = Redis.from_url(redis_space.url)
    try:
        workers = [RedisWritePacer(redis, redis_space.namespace) for _ in range(2)]
        spans: dict[int, list[tuple[float, float]]] = {1: [], 2: []}

        async def write(pacer: RedisWritePacer, installation: int, content: bool) -> None:
            async with pacer.slot(installation, content):
                begun = time.monotonic()
                await asyncio.sleep(0.05)
                spans[installation].append((begun, time.monotonic()))

        begun = time.monotonic()
        await asyncio.gather(
            write(workers[0], 1, False),
            write(workers[1], 1, False),
            write(workers[0], 1, False),
            write(workers[1], 2, True),
        )
        one = sorted(spans[1])
        for (_s1, end), (start, _e2) in itertools.pairwise(one):
            assert start - end >= 0.95, "writes of one installation ≥1 s apart, never together"
        assert spans[2][0][0] - begun < 0.5, "another installation does not wait"
        # A content-creating write waits 3 s after the last write of its installation.
        await write(workers[0], 2, True)
        assert spans[2][1][0] - spans[2][0][1] >= 2.9
    finally:
        await redis.aclose()


async def test_config_cache_is_shared(redis_space: RedisSpace) -> None:
    redis = Redis.from_url(redis_space.url)
    try:
        one = RedisConfigCache(redis, redis_space.namespace)
        two = RedisConfigCache(redis, redis_space.namespace)
        file = CachedFile('"abc"', "hello:\n  greeting: Hi\n", 1.0)
        gone = CachedFile(None, None, 2.0)
        assert await one.get("o/r", ".github/ghapp.yml@") == (None, "0")
        await one.set("o/r", ".github/ghapp.yml@", file.dumps(), "0")
        await one.set("o/r", "base.yml@", file.dumps(), "0")
        await one.set("o/gone", ".github/ghapp.yml@", gone.dumps(), "0")
        got, generation = await two.get("o/r", ".github/ghapp.yml@")
        assert got is not None and CachedFile.loads(got) == file and generation == "0"
        got, _ = await two.get("o/gone", ".github/ghapp.yml@")
        assert got is not None and CachedFile.loads(got) == gone
        # A push drops what it changed, for every worker; the rest stays.
        await two.forget("o/r", [".github/ghapp.yml@"])
        assert await one.get("o/r", ".github/ghapp.yml@") == (None, "1")
        assert (await one.get("o/r", "base.yml@"))[0] is not None
        # An answer fetched before that push (generation 0) is not stored after it.
        await one.set("o/r", ".github/ghapp.yml@", file.dumps(), "0")
        assert await two.get("o/r", ".github/ghapp.yml@") == (None, "1")
        await one.set("o/r", ".github/ghapp.yml@", file.dumps(), "1")
        assert (await two.get("o/r", ".github/ghapp.yml@"))[0] == file.dumps()
        await two.forget("o/r")
        assert await one.get("o/r", "base.yml@") == (None, "2")
        assert (await one.get("o/gone", ".github/ghapp.yml@"))[0] is not None
    finally:
        await redis.aclose()


async def test_workers_mint_one_token_per_installation(redis_space: RedisSpace) -> None:
    """Four "workers" (own clients, shared Redis) hit a cold cache at once: one mint."""
    private, public = generate_test_key()
    fake = FakeGitHub(app_id=redis_space.app_id, public_key_pem=public)
    fake.add_installation(1, "octo-org", repositories=["octo-org/hello"])
    issue = fake.add_issue("octo-org/hello", "x")
    redis = Redis.from_url(redis_space.url)
    with run_fake_github(fake) as root:
        clients = [
            GitHubClients(
                app_id=redis_space.app_id,
                private_key=private.decode(),
                api_url=f"{root}/api/v3",
                cache_strategy=AsyncRedisCacheStrategy(redis, prefix=f"{redis_space.namespace}:c"),
                locks=redis_locks(redis, redis_space.namespace),
            )
            for _ in range(4)
        ]
        try:
            await asyncio.gather(*(c.installation(1) for c in clients for _ in range(5)))
            for c in clients:
                gh = await c.installation(1)
                await gh.rest.issues.async_get("octo-org", "hello", issue.number)
        finally:
            for c in clients:
                await c.close()
            await redis.aclose()
    assert fake.tokens_issued == {1: 1}
