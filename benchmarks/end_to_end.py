"""End to end: mentions in, replies out, against a fake GitHub with latency.

What is measured: `--size` deliveries (default 500; the issue's figure is `--size 1000`)
spread over 20 installations (one repository each, one issue per delivery) are POSTed,
signed, to `ghapp run` (SQLite, in-process worker) at concurrency 32, while the fake
GitHub on loopback answers every request after `--latency` (20 ms). The clock runs from
the first delivery sent until the fake GitHub holds every reply (its request journal is
polled every 100 ms). Printed: time until all replies exist, replies per second, GitHub
requests per delivery (with the breakdown by route), installation tokens minted in total
(the goal: one per installation), and the CPU time ghapp's processes spent per delivery.

The deliveries are `@ghapp-bench help` comments (`issue_comment.created`) answered by
mention-reply. With `--mode hello` (or when mention-reply is not installed) they are
`issues.opened` greeted by the `hello` example skill instead, and the output says so.

With PostgreSQL, Redis and ghapp's scale-out code present, the same is measured with
`ghapp run` (REDIS_URL: web only) and two `ghapp worker` processes; otherwise the reason
is printed.

    python -m benchmarks.end_to_end [--size 500] [--latency 0.02] [--mode auto|mention|hello]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import _common as c

if TYPE_CHECKING:
    from tests.support.fake_github import FakeGitHub

INSTALLATIONS = 20
REPLY_PATH = re.compile(r"^/repos/[^/]+/[^/]+/issues/\d+/comments$")


@dataclass
class Outcome:
    name: str
    sent: c.LoadResult
    replies: int
    seconds: float  # first delivery sent → every reply present (or the timeout)
    github_requests: int
    tokens: int
    routes: Counter[str]
    cpu: float  # CPU seconds of the ghapp processes (web and workers) during the run


def choose_mode(requested: str) -> tuple[str, str]:
    """(mode, why): `mention` when mention-reply is installed, else `hello`."""
    from ghapp.bus import load_skills

    skills = load_skills()
    mention = skills.get("mention-reply")
    has_mention = mention is not None and bool(mention.handlers_for("issue_comment", "created"))
    if requested == "mention" or (requested == "auto" and has_mention):
        return "mention", "`@ghapp-bench help` comments answered by mention-reply"
    why = "" if requested == "hello" else " (mention-reply is not installed yet)"
    return "hello", f"`issues.opened` greeted by the hello example skill{why}"


def seed(fake: FakeGitHub, size: int, mode: str) -> list[c.Delivery]:
    """Installations 1..20 with one repository each; one issue (and comment) per delivery."""
    from tests.support.payloads import issue_comment_created, issues_event

    for n in range(1, INSTALLATIONS + 1):
        fake.add_installation(n, f"org{n}", repositories=[f"org{n}/repo"])
    text = f"@{c.APP_SLUG} help"
    deliveries = []
    c.example_payload(lambda: issues_event("opened"))  # PayloadsUnavailable when offline
    for k in range(size):
        installation = k % INSTALLATIONS + 1
        repo = f"org{installation}/repo"
        issue = fake.add_issue(repo, f"Question {k}", user="mona")
        if mode == "mention":
            comment_id = fake.add_comment(repo, issue.number, text, user="mona")
            payload = issue_comment_created(
                text,
                login="mona",
                installation_id=installation,
                repo=repo,
                issue_number=issue.number,
                comment_id=comment_id,
            )
        else:
            payload = issues_event(
                "opened", number=issue.number, login="mona", installation_id=installation, repo=repo
            )
        deliveries.append(
            c.Delivery("issue_comment" if mode == "mention" else "issues", c.dumps(payload))
        )
    return deliveries


def replies(fake: FakeGitHub) -> int:
    return sum(
        1
        for r in list(fake.requests)
        if r.method == "POST" and r.status == 201 and REPLY_PATH.match(r.path)
    )


async def drive(
    name: str,
    fake: FakeGitHub,
    server: c.Server,
    deliveries: list[c.Delivery],
    timeout: float,
    workers: tuple[c.Server, ...] = (),
) -> Outcome:
    """Send every delivery, then wait until the fake GitHub holds a reply for each."""
    processes = (server, *workers)
    cpu_before = sum(p.cpu_seconds() for p in processes)
    before = len(fake.requests)
    started = time.perf_counter()
    sent = await c.fire(server.webhook_url, deliveries, concurrency=32, id_prefix="e2e")
    deadline = started + timeout
    while replies(fake) < len(deliveries) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    seconds = time.perf_counter() - started
    made = list(fake.requests)[before:]
    routes = Counter(f"{r.method} {r.route or r.path}" for r in made)
    cpu = sum(p.cpu_seconds() for p in processes) - cpu_before
    tokens = sum(fake.tokens_issued.values())
    return Outcome(name, sent, replies(fake), seconds, len(made), tokens, routes, cpu)


def report(outcome: Outcome, size: int) -> None:
    done = outcome.replies >= size
    print(f"-- {outcome.name}")
    print(
        f"  deliveries acknowledged: {outcome.sent.status_text()} in {outcome.sent.elapsed:.1f}s"
        f" (ack p50 {outcome.sent.ms(50):.1f} ms, p99 {outcome.sent.ms(99):.1f} ms)"
    )
    state = "all replies present" if done else f"TIMED OUT with {outcome.replies}/{size} replies"
    print(
        f"  {state} after {outcome.seconds:.1f}s: {outcome.replies / outcome.seconds:.1f} replies/s"
    )
    print(
        f"  GitHub requests: {outcome.github_requests} = "
        f"{outcome.github_requests / size:.2f} per delivery; installation tokens minted: "
        f"{outcome.tokens} for {INSTALLATIONS} installations "
        f"({outcome.tokens / INSTALLATIONS:.2f} per installation)"
    )
    print(
        f"  ghapp CPU: {outcome.cpu / size * 1000:.1f} ms per delivery "
        "(all its processes; the least noisy figure on a shared machine)"
    )
    for route, count in outcome.routes.most_common(8):
        print(f"    {count / size:6.2f}/delivery  {route}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    c.size_arg(parser, 500, "deliveries (spread over 20 installations)")
    parser.add_argument("--latency", type=float, default=0.02, help="fake GitHub latency (s)")
    parser.add_argument("--mode", choices=("auto", "mention", "hello"), default="auto")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up waiting (s)")
    parser.add_argument("--no-scaleout", action="store_true", help="skip two workers")
    parser.add_argument("--no-probot", action="store_true", help="skip the Probot 14 peer")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = 40
    c.header("end_to_end: deliveries to replies against a fake GitHub", args)
    mode, why = choose_mode(args.mode)
    print(f"deliveries: {why}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="ghapp-bench-") as tmp:
        workdir = Path(tmp)
        try:
            fake = c.new_fake_github(args.latency)
            deliveries = seed(fake, args.size, mode)
        except c.PayloadsUnavailable as exc:
            print(f"cannot run: GitHub's example payloads are unavailable: {exc}")
            return 1
        with c.fake_github(fake) as api_url:
            home = workdir / "one"
            home.mkdir()
            env = c.ghapp_env(home, api_url=api_url, port=c.free_port())
            with c.ghapp_run(env, home) as server:
                outcome = asyncio.run(
                    drive(
                        "ghapp run, SQLite, in-process worker",
                        fake,
                        server,
                        deliveries,
                        args.timeout,
                    )
                )
        report(outcome, args.size)
        ok = outcome.replies >= args.size
        peer = probot_peer(args, mode)
        if peer is not None:
            report(peer, args.size)
            print(
                f"  ghapp/Probot: time {c.ratio(outcome.seconds, peer.seconds)}, "
                f"CPU per delivery {c.ratio(outcome.cpu, peer.cpu)}"
            )

        reason = "--no-scaleout given" if args.no_scaleout else c.services_reason()
        if reason is None:
            fake = c.new_fake_github(args.latency)
            deliveries = seed(fake, args.size, mode)
            try:
                outcome = two_workers(fake, deliveries, workdir, args.timeout)
                report(outcome, args.size)
                ok = ok and outcome.replies >= args.size
            except c.ServerFailed as exc:
                reason = f"scale-out did not start: {exc}"
        if reason is not None:
            print(f"-- two workers (scale-out): not measured: {reason}")
    return 0 if ok else 1


def probot_peer(args: argparse.Namespace, mode: str) -> Outcome | None:
    """The same mentions answered by the minimal Probot 14 app (benchmarks/probot_peer.mjs),
    or None with the reason printed."""
    reason = "--no-probot given" if args.no_probot else c.probot_reason()
    if reason is None and mode != "mention":
        reason = "the peer answers mentions only (mode is hello)"
    if reason is not None:
        print(f"-- probot 14: not measured: {reason}")
        return None
    fake = c.new_fake_github(args.latency)
    deliveries = seed(fake, args.size, mode)
    with c.fake_github(fake) as api_url, c.probot_server(api_url) as server:
        return asyncio.run(drive("probot 14 peer", fake, server, deliveries, args.timeout))


def wait_started(worker: c.Server, timeout: float = 120.0) -> None:
    """Until the worker says it started (skills loaded, queue connected).

    `serve` only waits a second for a process without a health URL; on a loaded machine
    a worker was still importing its skills then, and that start-up CPU (a quarter of a
    worker's samples in a 300-mention run) was counted as the mentions' CPU.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ghapp worker started" in worker.log_path.read_text(errors="replace"):
            return
        if worker.process.poll() is not None:
            raise c.ServerFailed(f"worker exited:\n{worker.log_tail()}")
        time.sleep(0.1)
    raise c.ServerFailed(f"worker not started after {timeout:.0f}s:\n{worker.log_tail()}")


def two_workers(
    fake: FakeGitHub, deliveries: list[c.Delivery], workdir: Path, timeout: float
) -> Outcome:
    """`ghapp run` (web only) + two `ghapp worker`s on PostgreSQL and Redis."""
    home = workdir / "two"
    home.mkdir()
    with contextlib.ExitStack() as stack:
        api_url = stack.enter_context(c.fake_github(fake))
        database_url = stack.enter_context(c.postgres_database())
        redis = stack.enter_context(c.redis_namespace())
        env = c.ghapp_env(
            home,
            api_url=api_url,
            port=c.free_port(),
            database_url=database_url,
            redis_url=redis.url,
            extra=redis.env,
        )
        c.db_upgrade(env, home)
        server = stack.enter_context(c.ghapp_run(env, home, name="web"))
        workers = tuple(
            stack.enter_context(c.ghapp_worker(env, home, name=f"worker{n}")) for n in (1, 2)
        )
        for worker in workers:
            wait_started(worker)
        name = "ghapp run (web) + 2 ghapp workers, PostgreSQL + Redis"
        return asyncio.run(drive(name, fake, server, deliveries, timeout, workers))


if __name__ == "__main__":
    sys.exit(main())
