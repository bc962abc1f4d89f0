"""Each benchmark runs at a tiny size and prints its figures.

Benchmarks measure speed; these tests never do. They only check that `python -m
benchmarks.NAME --quick` exits 0 and prints the lines its README promises, so the scripts
do not rot. The scale-out parts are left out here (`--no-scaleout`) to keep the run short.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
UNAVAILABLE = "cannot run: GitHub's example payloads are unavailable"

pytestmark = pytest.mark.slow


def run_benchmark(name: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ID", "DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    if UNAVAILABLE in done.stdout:
        message = f"benchmarks.{name}: octokit example payloads unavailable"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-3000:]}"
    assert "machine: " in done.stdout
    # A part that could not run is a failure, not a pass; only the scale-out parts and the
    # Probot peer these tests leave out on purpose (--no-scaleout, --no-probot) may say so.
    on_purpose = ("not measured: --no-scaleout given", "not measured: --no-probot given")
    unmeasured = [
        line
        for line in done.stdout.splitlines()
        if "not measured" in line and not line.endswith(on_purpose)
    ]
    assert unmeasured == [], done.stdout
    return done.stdout


def figures(out: str, pattern: str) -> tuple[str, ...]:
    """The groups of the one line of `out` matching `pattern` (fails, showing `out`, if none)."""
    found = [m for line in out.splitlines() if (m := re.search(pattern, line))]
    assert len(found) == 1, f"expected one line matching {pattern!r} in:\n{out}"
    return found[0].groups()


def answers(out: str, target: str) -> tuple[int, str]:
    """(deliveries sent, the answers column) of one row of a rate table."""
    sent, answered = figures(out, rf"^\s*{re.escape(target)}\s+(\d+)\s.*\s(\S+)$")
    return int(sent), answered


def test_ingress_prints_rates_latencies_and_the_ratio_to_bare() -> None:
    out = run_benchmark("ingress", "--no-scaleout", "--no-probot")
    assert "p99 ms" in out
    assert "rate vs bare" in out
    # Every delivery of every round was acknowledged 202, on both sides.
    for target in ("bare", "ghapp sqlite"):
        sent, answered = answers(out, target)
        assert answered == f"202:{sent}"
    assert "ghapp pg+redis: not measured: --no-scaleout given" in out


def test_slow_skills_prints_both_sides_and_their_ratio() -> None:
    out = run_benchmark("slow_skills", "--latency", "0.5")
    for target in ("fast GitHub", "slow GitHub"):
        sent, answered = answers(out, target)
        assert answered == f"202:{sent}"
    p50, p99, rate = figures(out, r"^slow / fast: p50 ([\d.]+), p99 ([\d.]+), rate ([\d.]+)$")
    assert min(float(p50), float(p99), float(rate)) > 0
    fast, slow, total = figures(
        out, r"fast side greeted (\d+), slow side greeted (\d+) of (\d+) issues"
    )
    assert 0 < int(fast) <= int(total) and 0 <= int(slow) <= int(total)


def test_end_to_end_prints_time_requests_and_tokens() -> None:
    out = run_benchmark("end_to_end", "--no-scaleout", "--no-probot")
    [acknowledged] = figures(out, r"deliveries acknowledged: 202:(\d+) in ")
    assert int(acknowledged) == 40  # --quick's size
    assert "all replies present after" in out
    # One token per installation, however many deliveries it had.
    minted, installations = figures(out, r"installation tokens minted: (\d+) for (\d+) install")
    assert int(minted) == int(installations) > 0
    # Each `@slug help` costs its reaction and its reply, once.
    for route in (
        "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
        "POST /repos/{owner}/{repo}/issues/{number}/comments",
    ):
        assert figures(out, rf"([\d.]+)/delivery\s+{re.escape(route)}$") == ("1.00",)
    assert "ghapp CPU:" in out
    assert "-- two workers (scale-out): not measured: --no-scaleout given" in out


def test_coalescing_prints_patch_count_and_label_plan() -> None:
    out = run_benchmark("coalescing")
    # --quick: 5 issues closed at once end in one read and one PATCH of the milestone.
    assert figures(out, r"milestone PATCH requests: (\d+) \(without coalescing: (\d+);") == (
        "1",
        "5",
    )
    assert figures(out, r"milestone reads: (\d+);") == ("1",)
    assert figures(out, r"final description line: (.*)$") == ("**Progress: 5/5 closed (100%)**",)
    # --quick: 30 labels; the plan touches the 6 that differ instead of deleting 30.
    assert "naive delete-and-create: 30 DELETE + 30 POST = 60 requests" in out
    assert figures(out, r"plan: (\d+) operations \((.*)\) in") == (
        "6",
        "{'Update': 3, 'Rename': 2, 'Create': 1}",
    )
    assert figures(out, r"outcome (\w+), (\d+) label requests \((\d+) writes\)") == (
        "ok",
        "7",
        "6",
    )
    assert figures(out, r"declared labels present afterwards: (\d+)/(\d+)") == ("30", "30")


def test_memory_prints_rss_idle_and_per_installation() -> None:
    out = run_benchmark("memory")
    ready, after = figures(out, r"ghapp run: RSS ([\d.]+) MiB when ready, ([\d.]+) MiB after")
    assert min(float(ready), float(after)) > 0
    assert "KiB per installation" in out
    # --quick: 50 installations, each with its client and its configuration kept.
    assert figures(out, r"clients kept: (\d+); repository configs cached: (\d+)") == (
        "50",
        "50",
    )


def test_mentions_prints_a_time_per_comment_shape() -> None:
    out = run_benchmark("mentions")
    assert "median ms" in out
    assert "500 command lines" in out
    assert "unmatched [" in out


def test_settings_page_prints_times_and_a_constant_count_of_queries() -> None:
    out = run_benchmark("settings_page")
    assert "repositories: 30, deliveries stored: 60" in out
    for view in ("owner (first page)", "member (first page)", "owner ?outcome=failed&dpage=2"):
        sql, first, repeat, status = figures(
            out,
            rf"^\s*{re.escape(view)}\s+\S+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$",
        )
        # A handful of statements, whatever the number of repositories and deliveries:
        # no query per repository or per delivery. A first view asks GitHub for the
        # installation, the repositories (one page of 30) and the person's role, at
        # once; a repeat view asks nothing.
        assert int(sql) <= 8 and status == "200", out
        assert (int(first), int(repeat)) == (3, 0), out
    assert re.search(r"^cold process: the process's first view [\d.]+ ms$", out, re.M), out


def test_ingress_compare_also_runs_the_other_checkouts_scale_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--compare DIR` adds DIR's `ghapp run` on PostgreSQL + Redis beside this one's, on a
    database and Redis namespace of its own (issue 17: before/after in one run)."""
    import contextlib

    from benchmarks import _common as c
    from benchmarks import ingress

    seen: dict[str, object] = {}

    @contextlib.contextmanager
    def database(suffix: str = "") -> object:
        seen.setdefault("suffixes", []).append(suffix)  # type: ignore[union-attr]
        yield f"postgresql://db/{suffix}"

    @contextlib.contextmanager
    def namespace() -> object:
        yield c.RedisNamespace("redis://r/9", {})

    @contextlib.contextmanager
    def run(env: dict[str, str], workdir: Path, *, name: str) -> object:
        seen[name] = env
        yield name

    monkeypatch.setattr(c, "postgres_database", database)
    monkeypatch.setattr(c, "redis_namespace", namespace)
    monkeypatch.setattr(c, "db_upgrade", lambda env, workdir: None)
    monkeypatch.setattr(c, "ghapp_run", run)
    monkeypatch.setattr(c, "free_port", lambda: 1234)
    other = tmp_path / "before"
    with contextlib.ExitStack() as stack:
        mine = ingress.scaleout_target(stack, tmp_path, "http://api")
        theirs = ingress.scaleout_target(stack, tmp_path, "http://api", other)
    assert (mine.name, theirs.name) == ("ghapp pg+redis", "ghapp pg+redis before")
    assert seen["suffixes"] == ["pg", "pg-before"]
    their_env = seen["pg-before"]
    assert isinstance(their_env, dict)
    assert their_env["PYTHONPATH"].startswith(str(other.resolve()))
    assert their_env["DATABASE_URL"] == "postgresql://db/pg-before"


def test_ingress_prints_each_ghapp_target_against_the_probot_peer() -> None:
    from benchmarks import _common as c
    from benchmarks import ingress

    def target(name: str, rate: float, p99_s: float) -> ingress.Target:
        found = ingress.Target(name, server=None, round_rates=[rate])  # type: ignore[arg-type]
        found.result = c.LoadResult(latencies=[p99_s] * 10)
        return found

    targets = [
        target("bare", 10_000, 0.004),
        target("probot 14", 8_000, 0.010),
        target("ghapp sqlite", 6_000, 0.020),
        target("ghapp pg+redis", 4_000, 0.005),
    ]
    assert ingress.peer_lines(targets) == [
        "ghapp sqlite / probot 14: rate 0.75, p99 2.00",
        "ghapp pg+redis / probot 14: rate 0.50, p99 0.50",
    ]
    assert ingress.peer_lines(targets[:1] + targets[2:]) == []  # no peer measured
