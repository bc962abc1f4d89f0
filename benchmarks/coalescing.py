"""Coalescing: how many GitHub requests bursts and bulk changes cost.

What is measured (in this process: ghapp's runtime with the skills under test, talking to
the fake GitHub through httpx's ASGI transport, SQLite in a temporary directory):

1. **Milestone burst**: a milestone with `--size` (50) issues, all closed at once on the
   fake GitHub, and their `issues.closed` deliveries (GitHub's example payload) stored and
   queued together. Counted: `PATCH /repos/{o}/{r}/milestones/{n}` requests once everything
   has run (goal: 1), against one per delivery (50) without coalescing.
2. **Label sync of a 300-label repository**: 240 labels already right, 30 with another
   color, 20 under an old name (declared as aliases), 10 nobody declares (kept), 10
   declared but missing. `plan_label_changes` gives the operations; a naive
   delete-everything-then-create sync needs 300 DELETEs + 300 POSTs (and takes the labels
   off every issue). When label-sync's handlers are installed, a push that changes
   `.github/ghapp.yml` runs the real sync and its requests are counted too.

Anything not installed yet is reported as not measurable, with the reason.

    python -m benchmarks.coalescing [--size 50] [--labels 300] [--coalesce-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import _common as c

if TYPE_CHECKING:
    from ghapp.testing import SkillTestApp
    from tests.support.fake_github import FakeGitHub

REPO = "octo-org/hello"
CONFIG_PATH = ".github/ghapp.yml"


async def queue_together(app: SkillTestApp, event: str, payloads: list[dict[str, Any]]) -> None:
    """Store and queue every delivery before any runs (a burst), then wait until idle."""
    from ghapp.payloads import installation_id_of, ordering_key, repository_of
    from ghapp.store import Delivery
    from ghapp.store.database import utcnow

    runtime = app.runtime
    for n, payload in enumerate(payloads):
        delivery = Delivery(
            id=f"burst-{n}",
            event=event,
            action=payload.get("action"),
            installation_id=installation_id_of(payload),
            repository=repository_of(payload),
            ordering_key=ordering_key(payload),
            received_at=utcnow(),
            status="queued",
            attempts=0,
            payload=c.dumps(payload),
        )
        if await runtime.deliveries.record(delivery):
            await runtime.queue.enqueue_delivery(delivery.id, delivery.ordering_key)


def skill(name: str) -> Any:
    from ghapp.bus import load_skills

    return load_skills().get(name)


def new_fake() -> FakeGitHub:
    fake = c.new_fake_github()
    fake.add_installation(1, "octo-org", repositories=[REPO])
    return fake


async def milestone_burst(workdir: Path, size: int, coalesce: float) -> None:
    from ghapp.testing import SkillTestApp
    from tests.support.payloads import issues_event

    print(f"-- milestone burst: {size} issues of one milestone closed at once")
    progress = skill("milestone-progress")
    if progress is None or not progress.handlers_for("issues", "closed"):
        print("  not measured: milestone-progress has no issues.closed handler yet")
        return
    fake = new_fake()
    fake.set_file(REPO, CONFIG_PATH, f"milestone-progress:\n  coalesce_seconds: {coalesce}\n")
    milestone = fake.add_milestone(REPO, "v1.0")
    payloads = []
    for n in range(size):
        issue = fake.add_issue(REPO, f"Task {n}", milestone=milestone.number)
        issue.state, issue.state_reason = "closed", "completed"
        payload = issues_event("closed", number=issue.number, milestone="v1.0", repo=REPO)
        payload["issue"]["milestone"]["number"] = milestone.number
        payloads.append(payload)
    async with SkillTestApp(workdir, github_app=fake.app, skills=[progress]) as app:
        started = time.perf_counter()
        await queue_together(app, "issues", payloads)
        await app.idle(timeout=coalesce + 120)
        elapsed = time.perf_counter() - started
    patches = fake.requests_to("PATCH", r"^/repos/[^/]+/[^/]+/milestones/\d+$")
    reads = fake.requests_to("GET", r"/milestones/\d+$")
    description = fake.repo(REPO).milestones[milestone.number].description or ""
    final = next((line for line in description.splitlines() if "Progress" in line), "(none)")
    print(
        f"  milestone PATCH requests: {len(patches)} (without coalescing: {size}; "
        f"ratio {c.ratio(len(patches), size)})"
    )
    print(
        f"  milestone reads: {len(reads)}; all GitHub requests: {len(fake.requests)} "
        f"= {len(fake.requests) / size:.2f} per delivery; done {elapsed:.1f}s after the burst "
        f"(coalescing window {coalesce:g}s)"
    )
    print(f"  final description line: {final.strip()}")


def label_scenario(total: int) -> tuple[list[Any], list[Any], dict[str, int]]:
    """(existing, declared, shape) for a repository of `total` labels (see module doc)."""
    from ghapp.skills.label_sync.options import DeclaredLabel
    from ghapp.skills.label_sync.plan import ExistingLabel

    recolored, renamed, undeclared, missing = (
        total // 10,
        total * 2 // 30,
        total // 30,
        total // 30,
    )
    same = total - recolored - renamed - undeclared
    existing: list[ExistingLabel] = []
    declared: list[DeclaredLabel] = []
    for n in range(same):
        existing.append(ExistingLabel(f"area-{n:03d}", "ededed", f"Area {n}"))
        declared.append(
            DeclaredLabel(name=f"area-{n:03d}", color="ededed", description=f"Area {n}")
        )
    for n in range(recolored):
        existing.append(ExistingLabel(f"kind-{n:03d}", "cccccc", f"Kind {n}"))
        declared.append(
            DeclaredLabel(name=f"kind-{n:03d}", color="1d76db", description=f"Kind {n}")
        )
    for n in range(renamed):
        existing.append(ExistingLabel(f"old-{n:03d}", "fbca04", f"Topic {n}"))
        declared.append(
            DeclaredLabel(
                name=f"topic-{n:03d}",
                color="fbca04",
                description=f"Topic {n}",
                aliases=[f"old-{n:03d}"],
            )
        )
    for n in range(undeclared):
        existing.append(ExistingLabel(f"legacy-{n:03d}", "000000", ""))
    for n in range(missing):
        declared.append(DeclaredLabel(name=f"new-{n:03d}", color="0e8a16", description=f"New {n}"))
    shape = {
        "unchanged": same,
        "recolored": recolored,
        "renamed": renamed,
        "undeclared (kept)": undeclared,
        "missing": missing,
    }
    return existing, declared, shape


def config_yaml(declared: list[Any]) -> str:
    import yaml

    labels = [
        {
            "name": d.name,
            "color": d.color,
            "description": d.description,
            **({"aliases": d.aliases} if d.aliases else {}),
        }
        for d in declared
    ]
    return yaml.safe_dump(
        {"label-sync": {"labels": labels, "delete_undeclared": False}}, sort_keys=False
    )


async def label_sync(workdir: Path, total: int) -> None:
    from ghapp.skills.label_sync.plan import plan_label_changes
    from ghapp.testing import SkillTestApp
    from tests.support.payloads import push_event

    existing, declared, shape = label_scenario(total)
    print(
        f"-- label sync of a {len(existing)}-label repository ("
        + ", ".join(f"{v} {k}" for k, v in shape.items())
        + ")"
    )
    started = time.perf_counter()
    plan = plan_label_changes(existing, declared, delete_undeclared=False)
    planned_ms = (time.perf_counter() - started) * 1000
    kinds = Counter(type(op).__name__ for op in plan.operations)
    naive = len(existing) + len(declared)
    print(
        f"  plan: {len(plan.operations)} operations ({dict(kinds)}) in {planned_ms:.1f} ms; "
        f"naive delete-and-create: {len(existing)} DELETE + {len(declared)} POST = {naive} "
        f"requests; ratio {c.ratio(len(plan.operations), naive)}"
    )

    sync = skill("label-sync")
    if sync is None or not sync.handlers_for("push", None):
        print("  real sync not measured: label-sync has no push handler yet")
        return
    fake = new_fake()
    for label in existing:
        fake.add_label(REPO, label.name, label.color, label.description)
    payload = push_event(files_changed=[CONFIG_PATH], repo=REPO)
    payload["repository"]["default_branch"] = fake.repo(REPO).default_branch  # main
    text = config_yaml(declared)
    fake.set_file(REPO, CONFIG_PATH, text)
    fake.set_file(REPO, CONFIG_PATH, text, ref=payload["after"])
    async with SkillTestApp(workdir, github_app=fake.app, skills=[sync]) as app:
        started = time.perf_counter()
        delivery = await app.dispatch("push", payload)
        elapsed = time.perf_counter() - started
    runs = {r.skill: r.outcome for r in delivery.runs}
    label_requests = [r for r in fake.requests if "/labels" in r.path]
    writes = [r for r in label_requests if r.method not in ("GET", "HEAD")]
    by_kind = Counter(f"{r.method} {r.route}" for r in label_requests)
    now = {lb.name for lb in fake.repo(REPO).labels.values()}
    wanted = {d.name for d in declared}
    print(
        f"  real sync (push changing {CONFIG_PATH}): outcome {runs.get('label-sync')}, "
        f"{len(label_requests)} label requests ({len(writes)} writes) vs naive {naive}; "
        f"all GitHub requests {len(fake.requests)}; {elapsed:.1f}s"
    )
    for kind, count in by_kind.most_common():
        print(f"    {count:4d}  {kind}")
    print(f"  declared labels present afterwards: {len(wanted & now)}/{len(wanted)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    c.size_arg(parser, 50, "issues closed at once")
    parser.add_argument("--labels", type=int, default=300, help="labels in the repository")
    parser.add_argument(
        "--coalesce-seconds",
        type=float,
        default=10.0,
        help="milestone-progress coalesce_seconds (its default: 10)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.labels, args.coalesce_seconds = 5, 30, 0.5
    c.header("coalescing: requests for bursts and bulk changes", args)
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="ghapp-bench-") as tmp:
            (Path(tmp) / "ms").mkdir()
            (Path(tmp) / "labels").mkdir()
            asyncio.run(milestone_burst(Path(tmp) / "ms", args.size, args.coalesce_seconds))
            asyncio.run(label_sync(Path(tmp) / "labels", args.labels))
    except c.PayloadsUnavailable as exc:
        print(f"cannot run: GitHub's example payloads are unavailable: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
