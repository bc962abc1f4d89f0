"""Deliberate breaks: important behaviours outside the pure modules, each broken on purpose
to see that a test of its area fails.

Mutation testing (`tests/support/mutation.py`) judges the pure decision modules; the
behaviours around them — pacing, token minting, secret scrubbing, the bus's switches,
the release trust rules, the settings page's access checks — are judged here by hand-made
breaks, each one the change an attacker or a careless edit would make. A break names the
file, the exact text it replaces (found exactly once), what replaces it, and the tests of
its area, at least one of which must fail.

    .venv/bin/python -m tests.support.breaks --list          # the breaks
    .venv/bin/python -m tests.support.breaks                 # run them all (minutes)
    .venv/bin/python -m tests.support.breaks pacing-none     # or some of them

Each break runs in a copy of the tracked files in a temporary directory (the worktree is
never changed), with the project's virtualenv and `.cache/`. Exit status 1 when a break
survived. `tests/test_breaks.py` checks, in the suite, that every break still finds its
text exactly once, so the list cannot silently stop breaking anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Break:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


CLIENT = ("tests/test_github_client.py",)
LOGS = ("tests/test_logs.py", "tests/test_security_secrets.py")
RELEASE = ("tests/test_release_publish.py", "tests/test_release_publish_core.py")
SETTINGS = ("tests/test_settings_page.py", "tests/test_security_settings.py")
PACING = "ghapp/github/pacing.py"
TOKENS = "ghapp/github/tokens.py"
SCRUB = "ghapp/logs.py"
TRUST = "ghapp/skills/release_publish/run_trust.py"
ACCESS = "ghapp/web/settings/access.py"
CHANGES = "ghapp/web/settings/changes.py"

BREAKS = [
    Break("pacing-none", PACING, "if wait > 0:", "if wait > 100:", CLIENT),
    Break(
        "pacing-content-1s",
        PACING,
        "content_interval = 3.0\n\n    def __init__",
        "content_interval = 1.0\n\n    def __init__",
        CLIENT,
    ),
    Break(
        "pacing-across-installations",
        PACING,
        "self._locks.setdefault(installation_id, asyncio.Lock())",
        "self._locks.setdefault(0, asyncio.Lock())",
        CLIENT,
    ),
    Break(
        "pacing-writes-unpaced",
        PACING,
        "if not is_write(request.method) or is_token_request(request.url):",
        "if True:",
        CLIENT,
    ),
    Break(
        "token-minted-without-lock",
        TOKENS,
        'async with self.locks(f"token:{installation_id}"):\n'
        "            if await storage.aget(key):\n                return\n",
        "if True:\n",
        (*CLIENT, "tests/test_scaleout.py"),
    ),
    Break(
        "token-kept-one-second",
        TOKENS,
        "max(ttl, timedelta(seconds=1))",
        "timedelta(seconds=1)",
        CLIENT,
    ),
    Break(
        "scrub-no-traceback",
        SCRUB,
        "record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))",
        "record.exc_text = logging.Formatter().formatException(record.exc_info)",
        LOGS,
    ),
    Break(
        "scrub-no-token-pattern",
        SCRUB,
        'return TOKEN_PATTERN.sub("[secret]", text)',
        "return text",
        LOGS,
    ),
    Break(
        "scrub-forgets-learnt",
        SCRUB,
        "for secret in sorted(self.learnt, key=len, reverse=True):",
        "for secret in []:",
        LOGS,
    ),
    Break(
        "scrub-no-fields",
        SCRUB,
        "record.__dict__[name] = self.scrub(value)",
        "pass",
        LOGS,
    ),
    Break(
        "bus-ignores-switch",
        "ghapp/bus.py",
        'if not seen.enabled.get(skill.name, False):\n            return Outcome(ended("skipped"',
        'if False:\n            return Outcome(ended("skipped"',
        ("tests/test_bus.py", "tests/test_features.py"),
    ),
    Break(
        "task-ignores-switch",
        "ghapp/bus.py",
        "if not enabled.get(skill.name):",
        "if False:",
        ("tests/test_tasks.py", "tests/test_bus.py"),
    ),
    Break(
        "release-trusts-any-actor",
        TRUST,
        "if login is None or login.casefold() != expected:",
        "if login is None:",
        RELEASE,
    ),
    Break(
        "release-trusts-any-event",
        TRUST,
        "if event != DISPATCH_EVENT:",
        "if event == 'never':",
        RELEASE,
    ),
    Break(
        "settings-any-member-manages",
        ACCESS,
        'return membership.role == "admin" and membership.state == "active"',
        'return membership.state == "active"',
        SETTINGS,
    ),
    Break(
        "settings-writers-administer",
        ACCESS,
        'return permission.role_name == "admin"',
        'return permission.role_name in ("admin", "write")',
        SETTINGS,
    ),
    Break(
        "settings-no-csrf",
        "ghapp/web/sessions.py",
        "return hmac.compare_digest(given.encode(), viewer.csrf_token.encode())",
        "return True",
        SETTINGS,
    ),
    Break(
        "redeliver-any-installation",
        CHANGES,
        "if delivery is None or delivery.installation_id != installation_id:",
        "if delivery is None:",
        SETTINGS,
    ),
    Break(
        "redeliver-finished",
        CHANGES,
        'if delivery.status != "failed":',
        'if delivery.status == "never":',
        SETTINGS,
    ),
    Break(
        "milestone-no-coalescing",
        "ghapp/skills/milestone_progress/handlers.py",
        'key=f"{repo.full_name}#{number}",',
        'key=f"{repo.full_name}#{number}#{ctx.delivery_id}",',
        ("tests/test_milestone_progress_skill.py",),
    ),
    Break(
        "label-sync-strict-ignored",
        "ghapp/skills/label_sync/handlers.py",
        "if ctx.sender_is_bot or not options.strict or not ctx.configured:",
        "if ctx.sender_is_bot or not ctx.configured:",
        ("tests/test_label_sync.py", "tests/test_label_sync_decisions.py"),
    ),
    Break(
        "hello-greets-every-redelivery",
        "examples/hello-skill/ghapp_hello/__init__.py",
        'await ctx.once(f"greet:{ctx.issue_number}", post)',
        "await post(False)",
        ("tests/test_example_skill.py",),
    ),
]


def found(item: Break, root: Path = ROOT) -> int:
    """How many times the break's text occurs in its file (it must be exactly once)."""
    return (root / item.path).read_text(encoding="utf-8").count(item.old)


def _copy_tree(into: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (into / ".cache").symlink_to(ROOT / ".cache", target_is_directory=True)


def run(item: Break) -> bool:
    """Apply one break in a copy of the tree; True when a test of its area failed (a
    break whose text equals its replacement is a control run: the tests must pass)."""
    with tempfile.TemporaryDirectory(prefix=f"ghapp-break-{item.name}-") as tmp:
        copy = Path(tmp)
        _copy_tree(copy)
        path = copy / item.path
        path.write_text(path.read_text(encoding="utf-8").replace(item.old, item.new, 1))
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
        # The copy's ghapp and example skill come first on the path, before the editable
        # installs that point at the worktree.
        paths = [str(copy), str(copy / "examples" / "hello-skill")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        result = subprocess.run(
            [*command, *item.tests], cwd=copy, env=env, capture_output=True, text=True
        )
    lines = result.stdout.strip().splitlines()
    verdict = "caught" if result.returncode else "SURVIVED"
    if item.old == item.new:
        verdict = "FAILS unbroken" if result.returncode else "passes unbroken"
    detail = lines[-1] if lines else result.stderr.strip()[-200:]
    print(f"{item.name} {' '.join(item.tests)}: {verdict} ({detail})", flush=True)
    return result.returncode != 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="breaks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the breaks and stop")
    parser.add_argument(
        "--no-control", action="store_true", help="skip the runs of the unbroken tree"
    )
    args = parser.parse_args(argv)
    if args.list:
        for item in BREAKS:
            print(f"{item.name:30} {item.path} -> {' '.join(item.tests)}")
        return 0
    unknown = set(args.names) - {item.name for item in BREAKS}
    if unknown:
        parser.error(f"unknown breaks: {', '.join(sorted(unknown))}")
    chosen = [item for item in BREAKS if not args.names or item.name in args.names]
    stale = [item.name for item in chosen if found(item) != 1]
    if stale:
        print(f"the code changed under these breaks: {', '.join(stale)}", file=sys.stderr)
        return 2
    if not args.no_control:
        # The same tests on the unbroken copy first: a failure there would count as caught.
        for tests in dict.fromkeys(item.tests for item in chosen):
            control = Break("unbroken", chosen[0].path, "", "", tests)
            if run(control):
                print(f"the unbroken tree fails {' '.join(tests)}", file=sys.stderr)
                return 2
    survived = [item.name for item in chosen if not run(item)]
    print(f"{len(chosen) - len(survived)}/{len(chosen)} breaks caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
