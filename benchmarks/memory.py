"""Memory: RSS of `ghapp run` idle, and what 10 000 installations' cached state adds.

What is measured (VmRSS from /proc/PID/status):

1. `ghapp run` (SQLite, in-process worker, against the fake GitHub on loopback): RSS once
   /readyz answers, and again after one delivery of each of two event types has been
   processed (until issue 17's sixth pass, ingress imported each event type's githubkit
   models on its first delivery; a skill that reads `ctx.model` still does).
2. A child process builds ghapp's `Runtime` from the same environment, as `ghapp run`
   does, and fills its caches for `--size` (10 000) installations: for each one an
   installation token in the token cache and the githubkit client `GitHubClients.
   installation()` keeps, plus the repository's `.github/ghapp.yml` (ETag and text) in
   the config cache. By default tokens and files go straight into the caches (what a mint
   and a fetch leave behind); with `--through-github` every token is minted and every file
   fetched from the fake GitHub instead (slower). RSS before and after, and per
   installation. Switches (the settings page's on/off) are read from the database on each
   delivery and hold no memory.

    python -m benchmarks.memory [--size 10000] [--through-github]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import _common as c

CONFIG_TEXT = """\
mention-reply:
  events: [issue_comment, issues]
label-sync:
  labels:
    - {name: bug, color: d73a4a, description: Something is not working}
    - {name: enhancement, color: a2eeef, description: New feature or request}
milestone-progress:
  close_when_complete: true
"""


def seed(fake: Any, count: int) -> None:
    for n in range(1, count + 1):
        fake.add_installation(n, f"org{n}", repositories=[f"org{n}/repo"])
        fake.set_file(f"org{n}/repo", ".github/ghapp.yml", CONFIG_TEXT)


def idle_ghapp_run(workdir: Path, api_url: str) -> tuple[int, int]:
    """(RSS at ready, RSS after two event types were processed), KiB."""
    from tests.support.payloads import issue_comment_created, issues_event

    env = c.ghapp_env(workdir, api_url=api_url, port=c.free_port())
    with c.ghapp_run(env, workdir) as server:
        time.sleep(1.0)
        ready = server.rss_kib()
        opened = c.example_payload(
            lambda: issues_event("opened", installation_id=1, repo="org1/repo")
        )
        comment = c.example_payload(
            lambda: issue_comment_created("@ghapp-bench help", installation_id=1, repo="org1/repo")
        )
        deliveries = [
            c.Delivery("issues", c.dumps(opened)),
            c.Delivery("issue_comment", c.dumps(comment)),
        ]
        asyncio.run(c.fire(server.webhook_url, deliveries, concurrency=1, id_prefix="mem"))
        time.sleep(0.5)
        asyncio.run(c.wait_queue_empty(server, timeout=30))
        time.sleep(1.0)
        return ready, server.rss_kib()


async def fill_caches(count: int, through_github: bool) -> dict[str, Any]:
    """In the child: a Runtime from the environment, its caches filled for `count`."""
    import gc

    from ghapp.config import load_settings
    from ghapp.repo_config import CONFIG_PATH, CachedFile, entry_name
    from ghapp.runtime import Runtime

    settings = load_settings()
    runtime = Runtime(settings)
    await runtime.prepare()
    clients, loader = runtime.clients, runtime.config_loader
    await clients.app_info()  # the App's JWT and GET /app, as after the first delivery
    gc.collect()
    before = c.rss_kib()
    storage = await clients.tokens.storage()
    started = time.perf_counter()

    async def one(n: int) -> None:
        if not through_github:
            await storage.aset(clients.tokens.cache_key(n), f"ghs_{n:036d}", timedelta(minutes=59))
            entry = CachedFile(f'W/"{n:064x}"', CONFIG_TEXT, time.time())
            name = entry_name(CONFIG_PATH, None)
            await loader.cache.set(f"org{n}/repo", name, entry.dumps(), "0")
        gh = await clients.installation(n)
        if through_github:
            await loader.load(gh, f"org{n}", "repo")

    pending = iter(range(1, count + 1))

    async def worker() -> None:
        for n in pending:
            await one(n)

    await asyncio.gather(*(worker() for _ in range(32 if through_github else 1)))
    elapsed = time.perf_counter() - started
    gc.collect()
    after = c.rss_kib()
    held = len(getattr(loader.cache, "_repos", {}))
    await runtime.stop(timeout=5)
    return {
        "before": before,
        "after": after,
        "seconds": elapsed,
        "clients": len(clients._installations),
        "configs": held,
    }


def child_main(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(fill_caches(args.size, args.through_github))))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    c.size_arg(parser, 10_000, "installations whose state is cached")
    parser.add_argument(
        "--through-github",
        action="store_true",
        help="mint every token and fetch every file from the fake GitHub",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.size = 50
    if args.child:
        return child_main(args)
    c.header("memory: RSS idle and with installations cached", args)
    fake = c.new_fake_github()
    seed(fake, args.size if args.through_github else 1)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ghapp-bench-") as tmp,
            c.fake_github(fake) as api_url,
        ):
            workdir = Path(tmp)
            (workdir / "run").mkdir()
            ready, warm = idle_ghapp_run(workdir / "run", api_url)
            print(
                f"ghapp run: RSS {ready / 1024:.1f} MiB when ready, {warm / 1024:.1f} MiB "
                "after its first deliveries (two event types)"
            )
            (workdir / "child").mkdir()
            env = c.ghapp_env(workdir / "child", api_url=api_url, port=c.free_port())
            argv_child = ["-m", "benchmarks.memory", "--child", "--size", str(args.size)]
            if args.through_github:
                argv_child.append("--through-github")
            done = subprocess.run(
                [sys.executable, *argv_child],
                env=env,
                cwd=c.REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
    except c.PayloadsUnavailable as exc:
        print(f"cannot run: GitHub's example payloads are unavailable: {exc}")
        return 1
    if done.returncode != 0:
        print(f"child failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return 1
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    added = figures["after"] - figures["before"]
    how = "minted/fetched from the fake GitHub" if args.through_github else "put in the caches"
    print(
        f"Runtime with {args.size} installations' tokens and clients ({how} in "
        f"{figures['seconds']:.1f}s): RSS {figures['before'] / 1024:.1f} MiB -> "
        f"{figures['after'] / 1024:.1f} MiB: +{added / 1024:.1f} MiB, "
        f"{added / args.size:.1f} KiB per installation"
    )
    print(
        f"  clients kept: {figures['clients']}; repository configs cached: "
        f"{figures['configs']} (the config cache holds at most 5000 files)"
    )
    print(
        f"estimated ghapp run with {args.size} installations cached: "
        f"{(warm + added) / 1024:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
