"""Mutation testing of one module at a time, with only that module's tests (mutmut 3).

mutmut changes the code under test one small step at a time (`<` to `<=`, `and` to `or`, a
string to another, a call argument dropped) and runs the tests against each change, a
"mutant". A mutant the tests still pass on "survived": either the tests do not look at that
behaviour, or the change makes no difference (an equivalent mutant). docs/testing.md keeps
the score of each module and the equivalent mutants with their reasons.

Commands (from the repository root):

    .venv/bin/python -m tests.support.mutation --list           # the targets and their tests
    .venv/bin/python -m tests.support.mutation label-plan       # mutate one module, report
    .venv/bin/python -m tests.support.mutation label-plan --show   # and print each survivor

Each target runs in its own directory, `.cache/mutation/<target>/` (git-ignored): a
`pyproject.toml` made from the project's own, whose `[tool.mutmut]` section gets the
module to mutate (`only_mutate`) and the test files to run
(`pytest_add_cli_args_test_selection`), and links to `ghapp/`, `tests/` and `.cache/`.
mutmut copies the package into `mutants/` there, so the worktree is never touched, and each
mutant runs only the tests that executed the mutated function. The run starts from scratch
each time (a stale `mutants/` would keep results of code that has changed since). mutmut
runs with two children at most: the machine is shared.

After a run, mutmut's own commands work in that directory, e.g.
`cd .cache/mutation/label-plan && ../../../.venv/bin/mutmut show <mutant name>`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK_ROOT = ROOT / ".cache" / "mutation"
MAX_CHILDREN = 2


@dataclass(frozen=True)
class Target:
    """One module to mutate and the test files that judge it."""

    module: str
    tests: tuple[str, ...]


LABELS = "ghapp/skills/label_sync"
RELEASES = "ghapp/skills/release_publish"
MENTIONS = "ghapp/skills/mention_reply"
MENTION_TESTS = ("tests/test_mentions.py", "tests/test_mentions_commonmark.py")
INGRESS_TESTS = ("tests/test_ingress.py", "tests/test_ingress_trust.py")

TARGETS: dict[str, Target] = {
    "label-plan": Target(
        f"{LABELS}/plan.py",
        (
            "tests/test_label_plan.py",
            "tests/test_label_sync_decisions.py",
            "tests/test_label_sync_github_label_sync.py",
        ),
    ),
    "label-swaps": Target(
        f"{LABELS}/swaps.py",
        ("tests/test_label_swaps.py", "tests/test_label_sync_decisions.py"),
    ),
    "label-matching": Target(
        f"{LABELS}/matching.py",
        ("tests/test_label_plan.py", "tests/test_label_sync_github_label_sync.py"),
    ),
    "label-operations": Target(
        f"{LABELS}/operations.py",
        ("tests/test_label_plan.py", "tests/test_label_sync_github_label_sync.py"),
    ),
    "versions": Target(
        f"{RELEASES}/versions.py",
        ("tests/test_release_versions.py", "tests/test_release_publish_core.py"),
    ),
    "npm-semver": Target(f"{RELEASES}/npm_semver.py", ("tests/test_release_versions.py",)),
    "npm-ranges": Target(f"{RELEASES}/npm_ranges.py", ("tests/test_release_versions.py",)),
    "progress": Target(
        "ghapp/skills/milestone_progress/progress.py",
        ("tests/test_milestone_progress_block.py", "tests/test_milestone_progress_plan.py"),
    ),
    "mentions": Target(f"{MENTIONS}/mentions.py", MENTION_TESTS),
    "positions": Target(f"{MENTIONS}/positions.py", MENTION_TESTS),
    "prose": Target(f"{MENTIONS}/prose.py", MENTION_TESTS),
    "raw-html": Target(f"{MENTIONS}/raw_html.py", MENTION_TESTS),
    "ingress": Target("ghapp/ingress.py", INGRESS_TESTS),
    "payloads": Target("ghapp/payloads.py", INGRESS_TESTS),
    "payload-shapes": Target("ghapp/payload_shapes.py", ("tests/test_ingress_mutants.py",)),
    "store-deliveries": Target(
        "ghapp/store/deliveries.py",
        (*INGRESS_TESTS, "tests/test_store_backends.py", "tests/test_reliability_redeliver.py"),
    ),
    "store-raw-insert": Target(
        "ghapp/store/raw_insert.py",
        (
            *INGRESS_TESTS,
            "tests/test_ingress_sqlite_writes.py",
            "tests/test_store_backends.py",
            "tests/test_store_deliveries_mutants.py",
            "tests/test_store_pg_kept_connection.py",
        ),
    ),
}


def _test_files(target: Target) -> list[str]:
    """The target's tests, plus the `tests/test_<name>_mutants.py` written for it if any."""
    extra = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").glob("test_*_mutants.py")
        if _mutants_file_targets(path, target)
    )
    return [*target.tests, *(name for name in extra if name not in target.tests)]


def _mutants_file_targets(path: Path, target: Target) -> bool:
    """Whether a `test_*_mutants.py` file names the target's module in its first lines."""
    head = path.read_text(encoding="utf-8")[:2000]
    return target.module in head


def _pyproject(target: Target) -> str:
    """The project's pyproject.toml with this target's module and tests in [tool.mutmut]."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    header = "[tool.mutmut]\n"
    if header not in text:
        raise SystemExit("pyproject.toml has no [tool.mutmut] section")
    added = (
        f"only_mutate = {json.dumps([target.module])}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(_test_files(target))}\n"
    )
    return text.replace(header, header + added, 1)


def prepare(name: str, target: Target) -> Path:
    """A fresh working directory for one target, linking the worktree's code and tests."""
    work = WORK_ROOT / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for link in ("ghapp", "tests", ".cache"):
        (work / link).symlink_to(ROOT / link, target_is_directory=True)
    (work / "pyproject.toml").write_text(_pyproject(target), encoding="utf-8")
    return work


def statuses(work: Path, target: Target) -> dict[str, str]:
    """Each mutant's status, read from the meta file mutmut writes beside the mutated copy."""
    meta = json.loads((work / "mutants" / f"{target.module}.meta").read_text(encoding="utf-8"))
    names = {
        1: "killed",
        3: "killed",
        0: "survived",
        33: "no tests",
        5: "no tests",
        36: "timeout",
        24: "timeout",
        -24: "timeout",
        152: "timeout",
        255: "timeout",
    }
    return {
        key: names.get(code, "suspicious" if code is not None else "not checked")
        for key, code in meta["exit_code_by_key"].items()
    }


def score_line(name: str, found: dict[str, str]) -> str:
    """`label-plan: 180/200 killed (90.0%), 20 survived` — the line docs/testing.md records."""
    counts = Counter(found.values())
    total = len(found)
    killed = counts["killed"] + counts["timeout"]
    share = 100 * killed / total if total else 100.0
    rest = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()) if status != "killed")
    return f"{name}: {killed}/{total} killed ({share:.1f}%)" + (f", {rest}" if rest else "")


def run(name: str, *, show: bool) -> int:
    """Mutate one target and print its score and its surviving mutants."""
    target = TARGETS[name]
    work = prepare(name, target)
    mutmut = [sys.executable, "-m", "mutmut"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)  # a missing service must skip here, not fail every mutant
    log = work / "mutmut.log"
    print(f"mutating {target.module} with {' '.join(_test_files(target))} (log: {log})")
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(
            [*mutmut, "run", "--max-children", str(MAX_CHILDREN)],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        print(f"{tail}\nmutmut run failed with exit code {done.returncode}", file=sys.stderr)
        return done.returncode
    found = statuses(work, target)
    survivors = sorted((key for key, status in found.items() if status != "killed"), key=_order)
    print(score_line(name, found))
    for key in survivors:
        print(f"  {found[key]}: {key}")
        if show:
            diff = subprocess.run(
                [*mutmut, "show", key],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            print("    " + diff.stdout.strip().replace("\n", "\n    "))
    return 0


def _order(key: str) -> tuple[str, int]:
    """Mutants in source order within a function: `f__mutmut_2` before `f__mutmut_10`."""
    match = re.fullmatch(r"(.*)__mutmut_(\d+)", key)
    return (match.group(1), int(match.group(2))) if match else (key, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.mutation", description=__doc__)
    parser.add_argument("target", nargs="?", choices=sorted(TARGETS), help="the module to mutate")
    parser.add_argument("--list", action="store_true", help="list the targets and their tests")
    parser.add_argument("--show", action="store_true", help="print each survivor's diff")
    args = parser.parse_args(argv)
    if args.list or not args.target:
        for name, target in TARGETS.items():
            print(f"{name:18} {target.module}\n{'':18} {' '.join(_test_files(target))}")
        return 0
    return run(args.target, show=args.show)


if __name__ == "__main__":
    raise SystemExit(main())
