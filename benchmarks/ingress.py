"""Ingress: signed deliveries per second and acknowledgement latency of `ghapp run`.

What is measured: `--size` signed `issue_comment.created` deliveries (GitHub's own example
payload from @octokit/webhooks-examples, a comment that mentions nobody), each with a unique
`X-GitHub-Delivery` id, POSTed over loopback by one httpx.AsyncClient with a pool of
`--concurrency` (32) keep-alive connections. The latency of a delivery is from writing the
request to reading the whole acknowledgement.

Targets, each its own subprocess under uvicorn (the load generator has the other core):

* `bare`: a Starlette endpoint that only checks the HMAC and answers 202 — the practical
  limit of this stack and load generator;
* `ghapp sqlite`: `ghapp run` as a user starts it (verify → store in SQLite → enqueue →
  202, with the in-process worker running), against the fake GitHub on loopback;
* `ghapp pg+redis`: `ghapp run` with PostgreSQL and REDIS_URL (scale-out), when the
  services and the scale-out code are there; otherwise the reason is printed.

The deliveries are sent in `--rounds` rounds, targets interleaved within each round (the
in-process worker's queue is drained between bursts so it does not eat into the next
target's time); figures are the median of the rounds' rates, p50/p99 over all deliveries,
and ratios to `bare` from the same run.

    python -m benchmarks.ingress [--size 3000] [--rounds 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import _common as c


@dataclass
class Target:
    name: str
    server: c.Server
    drains: bool = False  # has an in-process worker whose queue should be empty between bursts
    result: c.LoadResult = field(default_factory=c.LoadResult)
    round_rates: list[float] = field(default_factory=list)
    cpu: float = 0.0  # server CPU seconds spent during the timed bursts (and their drain)

    @property
    def rate(self) -> float:
        return c.median(self.round_rates)

    @property
    def slug(self) -> str:  # delivery ids allow [A-Za-z0-9_.:-] only
        return "".join(ch if ch.isalnum() else "-" for ch in self.name)


def star_delivery() -> c.Delivery:
    """`star.created` (GitHub's example): no skill acts on it, so ghapp stores it as
    ignored and nothing but ingress runs: the figure of issue 17's table."""
    from tests.support.payloads import base_example

    def build() -> dict[str, object]:
        payload = base_example("star", "created")
        payload["installation"] = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
        return payload

    return c.Delivery("star", c.dumps(c.example_payload(build)))


def comment_delivery() -> c.Delivery:
    from tests.support.payloads import issue_comment_created

    payload = c.example_payload(
        lambda: issue_comment_created(
            "Thanks, this looks right to me. I will try it on our staging server tomorrow.",
            installation_id=1,
            repo="octo-org/hello",
        )
    )
    return c.Delivery("issue_comment", c.dumps(payload))


async def run_rounds(
    targets: Sequence[Target],
    deliveries: Sequence[c.Delivery],
    *,
    rounds: int,
    concurrency: int,
    warmup: int,
) -> None:
    """Warm every target up with the first `warmup` deliveries, then send each target the
    rest in `rounds` bursts, interleaving targets within a round."""
    per_round = max(1, (len(deliveries) - warmup) // rounds)
    for t in targets:
        await c.fire(
            t.server.webhook_url,
            deliveries[:warmup],
            concurrency=concurrency,
            id_prefix=f"warmup-{t.slug}",
        )
        if t.drains:
            await c.wait_queue_empty(t.server)
    for n in range(rounds):
        burst_of = deliveries[warmup + n * per_round : warmup + (n + 1) * per_round]
        for t in targets:
            cpu_before = t.server.cpu_seconds()
            burst = await c.fire(
                t.server.webhook_url,
                burst_of,
                concurrency=concurrency,
                id_prefix=f"round{n}-{t.slug}",
            )
            t.result.merge(burst)
            t.round_rates.append(burst.rate)
            if t.drains:
                await c.wait_queue_empty(t.server, timeout=60)
            t.cpu += t.server.cpu_seconds() - cpu_before


def report(targets: Sequence[Target], baseline: str = "bare") -> None:
    base = next((t for t in targets if t.name == baseline), None)
    rows: list[list[object]] = [
        [
            "target",
            "deliveries",
            "deliveries/s (median)",
            "p50 ms",
            "p99 ms",
            f"rate vs {baseline}",
            f"p99 vs {baseline}",
            "server CPU ms/delivery",
            "answers",
        ]
    ]
    for t in targets:
        r = t.result
        rows.append(
            [
                t.name,
                r.count,
                f"{t.rate:.0f}",
                f"{r.ms(50):.1f}",
                f"{r.ms(99):.1f}",
                c.ratio(t.rate, base.rate) if base else "n/a",
                c.ratio(r.ms(99), base.result.ms(99)) if base else "n/a",
                f"{t.cpu / r.count * 1000:.2f}" if r.count else "n/a",
                r.status_text(),
            ]
        )
    c.table(rows)
    for line in peer_lines(targets):
        print(line)


def peer_lines(targets: Sequence[Target], peer: str = "probot 14") -> list[str]:
    """Each ghapp target's rate and p99 against the Probot peer's, from the same run."""
    other = next((t for t in targets if t.name == peer), None)
    if other is None:
        return []
    return [
        f"{t.name} / {peer}: rate {c.ratio(t.rate, other.rate)}, "
        f"p99 {c.ratio(t.result.ms(99), other.result.ms(99))}"
        for t in targets
        if t.name.startswith("ghapp")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    c.size_arg(parser, 3000, "deliveries per target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-scaleout", action="store_true", help="skip PostgreSQL+Redis")
    parser.add_argument("--no-probot", action="store_true", help="skip the Probot 14 peer")
    parser.add_argument(
        "--event",
        choices=["star", "issue_comment"],
        default="star",
        help="star.created (stored as ignored: ingress alone) or issue_comment.created "
        "(mention-reply reads it: the in-process worker runs too)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="DIR",
        help="also run `ghapp run` on SQLite from another checkout of ghapp (its root: "
        "e.g. `git archive stage | tar -x -C DIR`), interleaved with the others",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.rounds = 60, 2
    c.header("ingress: acknowledgement of signed deliveries", args)
    try:
        delivery = star_delivery() if args.event == "star" else comment_delivery()
    except c.PayloadsUnavailable as exc:
        print(f"cannot run: GitHub's example payloads are unavailable: {exc}")
        return 1
    print(
        f"payload: {args.event}.created from @octokit/webhooks-examples, {len(delivery.body)} bytes"
    )
    warmup = min(100, args.size)

    fake = c.new_fake_github()
    fake.add_installation(1, "octo-org", repositories=["octo-org/hello"])
    with contextlib.ExitStack() as stack:
        api_url = stack.enter_context(c.fake_github(fake))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ghapp-bench-")))
        targets = [Target("bare", stack.enter_context(c.bare_server()))]
        probot_reason = "--no-probot given" if args.no_probot else c.probot_reason()
        if probot_reason is None:
            targets.append(Target("probot 14", stack.enter_context(c.probot_server(api_url))))
        sqlite_dir = workdir / "sqlite"
        sqlite_dir.mkdir()
        env = c.ghapp_env(sqlite_dir, api_url=api_url, port=c.free_port())
        targets.append(
            Target("ghapp sqlite", stack.enter_context(c.ghapp_run(env, sqlite_dir)), drains=True)
        )
        if args.compare is not None:
            other_dir = workdir / "compare"
            other_dir.mkdir()
            env = c.ghapp_env(other_dir, api_url=api_url, port=c.free_port())
            env["PYTHONPATH"] = os.pathsep.join((str(args.compare.resolve()), env["PYTHONPATH"]))
            name = f"ghapp sqlite {args.compare.name}"
            server = stack.enter_context(c.ghapp_run(env, other_dir, name="compare"))
            targets.append(Target(name, server, drains=True))
        reason = "--no-scaleout given" if args.no_scaleout else c.services_reason()
        if reason is None:
            try:
                targets.append(scaleout_target(stack, workdir, api_url))
                if args.compare is not None:
                    targets.append(scaleout_target(stack, workdir, api_url, args.compare))
            except c.ServerFailed as exc:
                reason = f"scale-out did not start: {exc}"
        c.run_client(
            run_rounds(
                targets,
                [delivery] * (warmup + args.size),
                rounds=args.rounds,
                concurrency=args.concurrency,
                warmup=warmup,
            )
        )
        print(
            f"concurrency {args.concurrency}; {args.rounds} rounds; rates are the median of "
            "the rounds; ratios from this run"
        )
        report(targets)
        rss = ", ".join(f"{t.name} {t.server.rss_kib() / 1024:.0f} MiB" for t in targets)
        print(f"server RSS after the run: {rss}")
        if reason is not None:
            print(f"ghapp pg+redis: not measured: {reason}")
        if probot_reason is not None:
            print(f"probot 14: not measured: {probot_reason}")
    failed = [t.name for t in targets if not t.result.count or math.isnan(t.rate)]
    return 1 if failed else 0


def scaleout_target(
    stack: contextlib.ExitStack, workdir: Path, api_url: str, checkout: Path | None = None
) -> Target:
    """`ghapp run` on a fresh PostgreSQL database with REDIS_URL (its own key prefix);
    with `checkout`, the ghapp of that other checkout (--compare)."""
    label = "pg" if checkout is None else f"pg-{checkout.name}"
    pg_dir = workdir / label
    pg_dir.mkdir()
    database_url = stack.enter_context(c.postgres_database(suffix=label))
    redis = stack.enter_context(c.redis_namespace())
    env = c.ghapp_env(
        pg_dir,
        api_url=api_url,
        port=c.free_port(),
        database_url=database_url,
        redis_url=redis.url,
        extra=redis.env,
    )
    name = "ghapp pg+redis"
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join((str(checkout.resolve()), env["PYTHONPATH"]))
        name = f"{name} {checkout.name}"
    c.db_upgrade(env, pg_dir)
    return Target(name, stack.enter_context(c.ghapp_run(env, pg_dir, name=label)))


if __name__ == "__main__":
    sys.exit(main())
