"""Re-record the cassettes of tests/cassettes/ from the fake GitHub, and find drift.

A cassette is what the fake answered when it was recorded. When the fake changes (a new
check, a fixed shape) or ghapp changes what it sends, a committed cassette goes stale and
replay keeps passing against answers neither GitHub nor the fake gives any more. This module
runs every cassette test in record mode against the fake, into a temporary directory, and
compares each new cassette with the committed one after normalising what legitimately varies
between two recordings: the fake's ids (a process-wide counter) and node ids, timestamps,
ETags, request ids, rate-limit reset times, delivery ids of the test helper, signed download
links, and the timestamps inside zip archives (with the sha256 digests they change).
Everything else must be equal, in order.

Commands (from the repository root):

    .venv/bin/python -m tests.support.rerecord            # re-record, write what drifted
    .venv/bin/python -m tests.support.rerecord --check    # exit 1 and show the drift
    .venv/bin/python -m tests.support.rerecord --check test_label_sync   # one module

Writing replaces only the cassettes whose normalised content changed (and adds new ones), so
ids and dates in unchanged cassettes do not churn. Recording runs the cassette tests with
`--record-mode=all` and `GHAPP_CASSETTE_DIR` pointing at the temporary directory (see
`vcr_cassette_dir` in tests/conftest.py); a test that fails while recording is drift too.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

REPO_ROOT = Path(__file__).resolve().parents[2]
CASSETTES = REPO_ROOT / "tests" / "cassettes"
# Recording 80 tests takes about a minute and a half on a loaded two-core machine.
RECORD_TIMEOUT_S = 900

# Values that differ between two recordings of the same test, each with its placeholder.
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_NODE_ID = re.compile(r"\b[A-Z]{1,4}_kwDO[A-Za-z0-9_-]+")
# The fake's record ids come from one counter starting at 1_000_001 (state.next_id).
_FAKE_ID = re.compile(r"(?<![\d.])1\d{6}(?!\d|\.\d)")
_DELIVERY = re.compile(r"\btest-delivery-\d+\b")
_ETAG = re.compile(r'W/"[0-9a-f]{64}"')
_SIGNATURE = re.compile(r"\bsig=[0-9a-f]+")
# Content digests: the archives tests build carry the time they were zipped; the bytes
# themselves are compared member by member (`_zip_listing`).
_DIGEST = re.compile(r"\bsha256:[0-9a-f]{64}\b")
_TOKEN_PREFIX = re.compile(r"\b(gh[suorp])_(?!FILTERED)[A-Za-z0-9_]+")
# Response headers whose values say when, not what.
_VOLATILE_HEADERS = frozenset(
    {"x-github-request-id", "x-ratelimit-reset", "date", "content-length", "etag"}
)
# Request headers worth comparing: what ghapp asked for; the rest is client plumbing.
_REQUEST_HEADERS = frozenset({"accept", "content-type", "x-github-api-version"})


class _Numbering:
    """Replaces each distinct match with `<kind-N>`, N in order of first appearance."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def __call__(self, kind: str, pattern: re.Pattern[str], text: str) -> str:
        def number(match: re.Match[str]) -> str:
            key = (kind, match.group(0))
            if key not in self.seen:
                self.seen[key] = sum(1 for k, _ in self.seen if k == kind) + 1
            return f"<{kind}-{self.seen[key]}>"

        return pattern.sub(number, text)


def _normal_text(text: str, numbering: _Numbering) -> str:
    text = _TIME.sub("<time>", text)
    text = _ETAG.sub('W/"<etag>"', text)
    text = _SIGNATURE.sub("sig=<sig>", text)
    text = _DIGEST.sub("sha256:<digest>", text)
    text = _TOKEN_PREFIX.sub(r"\1_<token>", text)
    text = numbering("delivery", _DELIVERY, text)
    text = numbering("node", _NODE_ID, text)
    return numbering("id", _FAKE_ID, text)


def _zip_listing(data: bytes) -> str | None:
    """A zip archive as its member names and contents (entry timestamps vary per run)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [f"{info.filename} {archive.read(info).hex()}" for info in archive.infolist()]
    except (zipfile.BadZipFile, ValueError):
        return None
    return "zip archive:\n" + "\n".join(members)


def _normal_body(body: Any, numbering: _Numbering) -> list[str]:
    """A body as lines to diff: JSON pretty-printed with sorted keys, then normalised."""
    if body is None or body == b"" or body == "":
        return []
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            listing = _zip_listing(body) or f"{len(body)} bytes: {body.hex()}"
            return listing.splitlines()
    text = str(body)
    with contextlib.suppress(ValueError):  # not JSON: compared as text
        text = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    return _normal_text(text, numbering).splitlines()


def _headers(headers: dict[str, Any], keep: Iterable[str] | None, drop: Iterable[str]) -> str:
    wanted = {k.lower(): v for k, v in headers.items()}
    if keep is not None:
        wanted = {k: v for k, v in wanted.items() if k in set(keep)}
    for name in drop:
        wanted.pop(name, None)
    return json.dumps({k: v if isinstance(v, list) else [v] for k, v in sorted(wanted.items())})


def normalise(path: Path) -> list[dict[str, Any]]:
    """A cassette's interactions with the volatile parts replaced by stable placeholders."""
    requests, responses = deserialize(path.read_text(encoding="utf-8"), yamlserializer)[:2]
    numbering = _Numbering()
    found: list[dict[str, Any]] = []
    for request, response in zip(requests, responses, strict=True):
        request_headers = _headers(dict(request.headers), _REQUEST_HEADERS, ())
        response_headers = _headers(response.get("headers") or {}, None, _VOLATILE_HEADERS)
        found.append(
            {
                "method": request.method,
                "uri": _normal_text(request.uri, numbering),
                "request headers": _normal_text(request_headers, numbering),
                "request body": _normal_body(request.body, numbering),
                "status": response["status"]["code"],
                "response headers": _normal_text(response_headers, numbering),
                "response body": _normal_body(
                    (response.get("body") or {}).get("string"), numbering
                ),
            }
        )
    return found


def _headline(index: int, it: dict[str, Any]) -> str:
    return f"#{index} {it['method']} {it['uri']} -> {it['status']}"


def _as_lines(it: dict[str, Any]) -> list[str]:
    return [
        f"request headers {it['request headers']}",
        *(f"> {line}" for line in it["request body"]),
        f"status {it['status']}",
        f"response headers {it['response headers']}",
        *(f"< {line}" for line in it["response body"]),
    ]


def _first_difference(before: list[str], after: list[str], context: int = 40) -> list[str]:
    """A unified diff around where two long line lists first part (difflib on whole
    paginated bodies is quadratic; the first difference is what a reader needs)."""
    start = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    low = max(start - 3, 0)
    return list(
        difflib.unified_diff(
            before[low : start + context],
            after[low : start + context],
            "committed",
            "re-recorded",
            lineterm="",
        )
    )


def compare(committed: Path, recorded: Path, *, exchanges: int = 3) -> str | None:
    """What differs between two cassettes after normalising (None when nothing does): the
    list of exchanges when it changed, else the first few exchanges that differ."""
    old, new = normalise(committed), normalise(recorded)
    if old == new:
        return None
    old_heads = [_headline(i, it) for i, it in enumerate(old)]
    new_heads = [_headline(i, it) for i, it in enumerate(new)]
    if old_heads != new_heads:
        heads = difflib.unified_diff(old_heads, new_heads, "committed", "re-recorded", lineterm="")
        return "\n".join(["the exchanges differ:", *heads])
    parts: list[str] = []
    differing = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    for index in differing[:exchanges]:
        parts.append(f"{_headline(index, new[index])} differs:")
        parts += _first_difference(_as_lines(old[index]), _as_lines(new[index]))
    if len(differing) > exchanges:
        parts.append(f"... and {len(differing) - exchanges} more exchanges differ")
    return "\n".join(parts)


def cassette_tests(root: Path = CASSETTES, modules: Iterable[str] = ()) -> list[str]:
    """pytest node ids of the tests that own the cassettes under `root`."""
    wanted = set(modules)
    return [
        f"tests/{path.parent.name}.py::{path.stem}"
        for path in sorted(root.glob("*/*.yaml"))
        if not wanted or path.parent.name in wanted
    ]


@dataclass
class Recording:
    directory: Path
    returncode: int
    output: str


def record(node_ids: list[str], into: Path, *, timeout: float = RECORD_TIMEOUT_S) -> Recording:
    """Run the tests in record mode against the fake; their cassettes land in `into`."""
    env = {**os.environ, "GHAPP_CASSETTE_DIR": str(into)}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            "--record-mode=all",
            *node_ids,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Recording(into, done.returncode, done.stdout + done.stderr)


@dataclass
class Drift:
    changed: dict[str, str]  # cassette (relative) -> diff
    missing: list[str]  # committed, not re-recorded (its test is gone or records nothing)
    new: list[str]  # re-recorded, not committed
    failed_output: str | None  # pytest's output when a test failed while recording

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.new or self.failed_output)

    def report(self) -> str:
        parts: list[str] = []
        if self.failed_output:
            parts.append("tests failed while recording against the fake:\n" + self.failed_output)
        parts += [f"not re-recorded (test gone?): {name}" for name in self.missing]
        parts += [f"recorded but not committed: {name}" for name in self.new]
        parts += [f"drifted: {name}\n{diff}" for name, diff in self.changed.items()]
        parts.append(
            "Re-record with `.venv/bin/python -m tests.support.rerecord` and review the diff."
        )
        return "\n\n".join(parts)


def drift(committed_root: Path, recorded: Recording, modules: Iterable[str] = ()) -> Drift:
    wanted = set(modules)

    def names(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.glob("*/*.yaml")
            if not wanted or p.parent.name in wanted
        }

    old, new = names(committed_root), names(recorded.directory)
    changed = {}
    for name in sorted(old & new):
        diff = compare(committed_root / name, recorded.directory / name)
        if diff is not None:
            changed[name] = diff
    failed = recorded.output[-20000:] if recorded.returncode != 0 else None
    return Drift(changed, sorted(old - new), sorted(new - old), failed)


def check(modules: Iterable[str] = (), root: Path = CASSETTES) -> Drift:
    """Re-record into a temporary directory and compare with `root` (nothing is written)."""
    modules = list(modules)
    with tempfile.TemporaryDirectory(prefix="ghapp-cassettes-") as tmp:
        recorded = record(cassette_tests(root, modules), Path(tmp))
        return drift(root, recorded, modules)


def rewrite(modules: Iterable[str] = (), root: Path = CASSETTES) -> Drift:
    """Re-record and write the cassettes that drifted or are new (unchanged ones are kept)."""
    modules = list(modules)
    with tempfile.TemporaryDirectory(prefix="ghapp-cassettes-") as tmp:
        recorded = record(cassette_tests(root, modules), Path(tmp))
        found = drift(root, recorded, modules)
        if recorded.returncode == 0:
            for name in [*found.changed, *found.new]:
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(recorded.directory / name, target)
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.rerecord", description=__doc__)
    parser.add_argument("modules", nargs="*", help="test modules to re-record (default: all)")
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args(argv)
    found = check(args.modules) if args.check else rewrite(args.modules)
    if found.failed_output:
        print(found.report())
        return 1
    if args.check:
        print("cassettes match the fake" if found.clean else found.report())
        return 0 if found.clean else 1
    for name in [*found.changed, *found.new]:
        print(f"re-recorded {name}")
    for name in found.missing:
        print(f"not re-recorded, left as is (its test is gone?): {name}")
    if not (found.changed or found.new):
        print("every cassette already matches the fake")
    return 0


if __name__ == "__main__":
    sys.exit(main())
