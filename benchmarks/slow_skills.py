"""Slow skills do not slow the acknowledgement.

What is measured: the ingress measurement of `benchmarks.ingress` (signed deliveries over
32 keep-alive connections, unique delivery ids, p50/p99 of the acknowledgement), sent to
two `ghapp run` processes (SQLite, in-process worker) in the same run:

* `fast GitHub`: the fake GitHub answers at once;
* `slow GitHub`: every request to the fake GitHub takes `--latency` (2 s) — the token,
  the `.github/ghapp.yml` read and the greeting comment of the `hello` example skill,
  which handles every delivery sent (`issues.opened`, GitHub's example payload, each for
  its own issue so each one is greeted).

Skills never run inside the request, so the slow target's backlog grows during the run
while its acknowledgements stay in milliseconds. Printed: p50/p99 of both, the ratio slow
to fast (same run), and how many greetings the slow side had posted when the bursts ended.

    python -m benchmarks.slow_skills [--size 2000] [--latency 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

from benchmarks import _common as c
from benchmarks.ingress import Target, report, run_rounds

REPO = "octo-org/hello"


def opened_deliveries(count: int) -> list[c.Delivery]:
    """`issues.opened` for issues 1..count (GitHub's example, renumbered)."""
    from tests.support.payloads import issues_event

    payload = c.example_payload(lambda: issues_event("opened", login="mona", repo=REPO))
    out = []
    for number in range(1, count + 1):
        payload["issue"]["number"] = number
        out.append(c.Delivery("issues", c.dumps(payload)))
    return out


def greetings(fake: object) -> int:
    requests = list(fake.requests)  # type: ignore[attr-defined]
    return sum(
        1
        for r in requests
        if r.method == "POST" and r.path.endswith("/comments") and r.status == 201
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    c.size_arg(parser, 2000, "deliveries per target")
    parser.add_argument("--latency", type=float, default=2.0, help="slow GitHub latency (s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.rounds = 60, 2
    c.header("slow_skills: acknowledgement while skills wait on a slow GitHub", args)
    warmup = min(100, args.size)
    try:
        deliveries = opened_deliveries(warmup + args.size)
    except c.PayloadsUnavailable as exc:
        print(f"cannot run: GitHub's example payloads are unavailable: {exc}")
        return 1

    fakes = {"fast GitHub": c.new_fake_github(0.0), "slow GitHub": c.new_fake_github(args.latency)}
    for fake in fakes.values():
        fake.add_installation(1, "octo-org", repositories=[REPO])
        for number in range(1, len(deliveries) + 1):
            fake.add_issue(REPO, f"Issue {number}", user="mona")
    targets: list[Target] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ghapp-bench-")))
        for name, fake in fakes.items():
            api_url = stack.enter_context(c.fake_github(fake))
            home = workdir / name.split()[0]
            home.mkdir()
            env = c.ghapp_env(home, api_url=api_url, port=c.free_port())
            server = stack.enter_context(c.ghapp_run(env, home, name=name.split()[0]))
            # Only the fast side can be drained between bursts; the slow side's backlog grows.
            targets.append(Target(name, server, drains=fake.latency == 0))
        asyncio.run(
            run_rounds(
                targets, deliveries, rounds=args.rounds, concurrency=args.concurrency, warmup=warmup
            )
        )
        fast, slow = targets
        backlog = asyncio.run(c.queue_depth(slow.server))
        print(
            f"concurrency {args.concurrency}; {args.rounds} rounds; slow GitHub latency "
            f"{args.latency:.1f}s per request; ratios from this run"
        )
        report(targets, baseline="fast GitHub")
        print(
            f"slow / fast: p50 {c.ratio(slow.result.ms(50), fast.result.ms(50))}, "
            f"p99 {c.ratio(slow.result.ms(99), fast.result.ms(99))}, "
            f"rate {c.ratio(slow.rate, fast.rate)}"
        )
        print(
            f"when the bursts ended: fast side greeted {greetings(fakes['fast GitHub'])}, "
            f"slow side greeted {greetings(fakes['slow GitHub'])} of {len(deliveries)} "
            f"issues, its queue depth {backlog}"
        )
    return 0 if all(t.result.count for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
