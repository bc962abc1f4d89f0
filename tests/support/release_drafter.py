"""release-drafter's own tests, fetched on demand into `.cache/release-drafter/`, read as data.

This module owns the download of release-drafter's repository at one pinned commit (its
`src/tests/` folder: the drafter e2e and changelog tests, their configs, GraphQL and REST
fixtures) and the reading of those tests into plain cases. Nothing of release-drafter is
committed: the first test that needs it downloads GitHub's tarball of the pinned commit,
keeps only `src/tests/`, and later runs reuse the cache. A machine that cannot reach
GitHub may keep that tarball at `$GHAPP_TEST_DATA/release-drafter-<commit>.tar.gz`
(default `~/.cache/ghapp-tests/`). Offline it skips with the reason, except under
`CI=true`, where a missing download fails (CI must never go green by skipping).

A case is read from the test's source, not hand-copied: which config fixture, which event,
which action inputs, which releases and GraphQL payloads it mocks, which changed files,
and what it expects (the inline snapshot of the release sent to GitHub, or the changelog
assertions). `tests/test_release_drafter_parity.py` feeds each one through ghapp.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

# release-drafter v7.7.0; bump deliberately (and re-measure) when release-drafter moves.
COMMIT = "34d80673e067bdc0c24568d3af899c216adcfaa9"
TARBALL_URL = f"https://codeload.github.com/release-drafter/release-drafter/tar.gz/{COMMIT}"
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".cache" / "release-drafter" / COMMIT
_DONE = ".complete"
_TIMEOUT_S = 120


def _unavailable(reason: str) -> NoReturn:
    message = f"offline: could not fetch release-drafter@{COMMIT[:12]} ({reason})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires release-drafter's tests", pytrace=False)
    pytest.skip(message)


def _machine_copy() -> Path:
    """Where a machine may keep the tarball for runs that cannot reach GitHub (a CI
    runner without GitHub access): `$GHAPP_TEST_DATA`, else `~/.cache/ghapp-tests`."""
    base = os.environ.get("GHAPP_TEST_DATA") or str(Path.home() / ".cache" / "ghapp-tests")
    return Path(base) / f"release-drafter-{COMMIT}.tar.gz"


def _tarball() -> bytes:
    kept = _machine_copy()
    if kept.is_file():
        return kept.read_bytes()
    try:
        with urllib.request.urlopen(TARBALL_URL, timeout=_TIMEOUT_S) as response:
            return response.read()
    except OSError as exc:
        _unavailable(f"{exc}; or place GitHub's tarball of the commit at {kept}")


def tests_dir() -> Path:
    """`src/tests/` of the pinned commit, downloaded once."""
    root = CACHE / "src" / "tests"
    if (CACHE / _DONE).exists():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE.parent / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (CACHE / _DONE).exists():
            data = _tarball()
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                for member in archive.getmembers():
                    parts = member.name.split("/", 1)
                    if len(parts) == 2 and parts[1].startswith("src/tests/") and member.isfile():
                        member.name = parts[1]
                        archive.extract(member, CACHE, filter="data")
            (CACHE / _DONE).write_text(COMMIT)
    return root


# -- a small reader for JavaScript literals ------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(//[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`"""
    r"""|-?\d+(?:\.\d+)?|[A-Za-z_$][\w$]*|\.\.\.|[{}\[\]:,()])""",
    re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "v": "\v"}


def _js_string(token: str) -> str:
    body = token[1:-1]
    return re.sub(
        r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", _unescape, body, flags=re.DOTALL
    )


def _unescape(match: re.Match[str]) -> str:
    seq = match.group(1)
    if seq[0] in "ux" and len(seq) > 1:
        return chr(int(seq.strip("u{}x"), 16))
    return _ESCAPES.get(seq, seq)


def js_value(text: str, names: dict[str, Any] | None = None) -> Any:
    """The value of a JavaScript literal (objects, arrays, strings, numbers, booleans;
    `...name` and bare names from `names`)."""
    tokens = [t for t in _TOKEN.findall(text) if not t.startswith(("//", "/*"))]
    value, _end = _parse(tokens, 0, names or {})
    return value


def _parse(tokens: list[str], i: int, names: dict[str, Any]) -> tuple[Any, int]:
    token = tokens[i]
    if token == "{":
        obj: dict[str, Any] = {}
        i += 1
        while tokens[i] != "}":
            if tokens[i] == "...":
                spread, i = _parse(tokens, i + 1, names)
                obj.update(spread)
            else:
                key = _js_string(tokens[i]) if tokens[i][0] in "'\"`" else tokens[i]
                value, i = _parse(tokens, i + 2, names)
                obj[key] = value
            if tokens[i] == ",":
                i += 1
        return obj, i + 1
    if token == "[":
        items: list[Any] = []
        i += 1
        while tokens[i] != "]":
            item, i = _parse(tokens, i, names)
            items.append(item)
            if tokens[i] == ",":
                i += 1
        return items, i + 1
    if token[0] in "'\"`":
        return _js_string(token), i + 1
    if re.fullmatch(r"-?\d+(?:\.\d+)?", token):
        return (float(token) if "." in token else int(token)), i + 1
    constants = {"true": True, "false": False, "null": None, "undefined": None}
    if token in constants:
        return constants[token], i + 1
    if token in names:
        return names[token], i + 1
    raise ValueError(f"cannot read JavaScript near {token!r}")


# -- the cases ------------------------------------------------------------------------------


@dataclass
class DrafterCase:
    """One e2e test that ends with a release created or updated."""

    name: str
    event: str
    config: str
    inputs: dict[str, str]
    releases: list[str]
    release_overrides: list[dict[str, Any]]
    comparison: list[str]
    recent: list[str]
    files: dict[int, list[str]]
    expected: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChangelogCase:
    """One `generate changelog` test: a config, pull requests, and assertions."""

    name: str
    config: dict[str, Any]
    pulls: list[dict[str, Any]]
    checks: list[tuple[str, str]]  # (kind, text): equals, contains, lacks


def _blocks(source: str) -> list[tuple[str, str]]:
    """(title, body) of every `it('…', async () => {…})`; a body ends where the next
    test or the file's describe ends."""
    starts = [m for m in re.finditer(r"^\s*it\(\s*(['\"])(.*?)\1,", source, re.MULTILINE)]
    out: list[tuple[str, str]] = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(source)
        out.append((match.group(2), source[match.end() : end]))
    return out


def _template_literal(body: str, after: str) -> str | None:
    position = body.find(after)
    if position < 0:
        return None
    start = body.index("`", position + len(after))
    i = start + 1
    while body[i] != "`":
        i += 2 if body[i] == "\\" else 1
    raw = body[start + 1 : i]
    return re.sub(r"\\([\\`$])", r"\1", raw)


def _dedent(snapshot: str) -> str:
    lines = snapshot.split("\n")
    indent = re.match(r"\s*", lines[1]).group(0) if len(lines) > 1 else ""  # type: ignore[union-attr]
    stripped = [line[len(indent) :] if line.startswith(indent) else line for line in lines[1:-1]]
    return "\n".join(stripped)


def read_release_snapshot(snapshot: str) -> dict[str, Any]:
    text = _dedent(snapshot)
    found: dict[str, Any] = {}
    body = re.search(r'^    "body": "(.*)",\n    "draft": ', text, re.DOTALL | re.MULTILINE)
    if body is None:
        raise ValueError("no body in snapshot")
    found["body"] = body.group(1)
    for key in ("name", "tag_name", "make_latest", "target_commitish"):
        match = re.search(rf'^    "{key}": "(.*)",$', text, re.MULTILINE)
        found[key] = match.group(1) if match else None
    for key in ("draft", "prerelease"):
        match = re.search(rf'^    "{key}": (true|false),$', text, re.MULTILINE)
        found[key] = match is not None and match.group(1) == "true"
    return found


def _strings(text: str) -> list[str]:
    return [_js_string(s) for s in re.findall(r"'(?:[^'\\]|\\.)*'", text)]


def drafter_cases() -> list[DrafterCase]:
    source = (tests_dir() / "drafter" / "drafter.e2e.test.ts").read_text()
    cases: list[DrafterCase] = []
    for title, body in _blocks(source):
        which = re.search(
            r"mocks\.(post|patch)ReleaseBody\.mock\.lastCall\)\.toMatchInlineSnapshot", body
        )
        unlike = re.findall(
            r"expect\(lastCallBody\?\.(name|tag_name)\)\.not\.toBe\('([^']*)'\)", body
        )
        if which is None and not unlike:
            continue
        expected = (
            read_release_snapshot(_template_literal(body, which.group(0)) or "") if which else {}
        )
        expected.update({f"not_{key}": value for key, value in unlike})
        config = re.search(r"mocks\.config\.mockReturnValue\(\s*'([^']+)'", body)
        event = re.search(r"mockContext\('([^']+)'\)", body)
        releases = re.search(r"(?:fetchedReleases|releaseFiles):\s*\[([^\]]*)\]", body)
        overrides = re.search(r"fetchedReleasesOverrides:\s*(\[.*?\]),\n", body, re.DOTALL)
        comparison: list[str] = []
        recent: list[str] = []
        for query, payload in re.findall(
            r"(?:query:\s*'([^']+)',\s*)?payload:\s*(\[[^\]]*\]|'[^']+')", body
        ):
            (recent if "findRecentMergedPullRequests" in query else comparison).extend(
                _strings(payload)
            )
        files = {
            int(n): _strings(names) for n, names in re.findall(r"\[(\d+),\s*\[([^\]]*)\]\]", body)
        }
        cases.append(
            DrafterCase(
                name=title,
                event=event.group(1) if event else "push",
                config=config.group(1) if config else "",
                inputs={
                    k: _js_string(v)
                    for k, v in re.findall(r"mockInput\(\s*'([^']+)',\s*('(?:[^'\\]|\\.)*')", body)
                },
                releases=_strings(releases.group(1)) if releases else [],
                release_overrides=js_value(overrides.group(1)) if overrides else [],
                comparison=comparison,
                recent=recent,
                files=files,
                expected=expected,
            )
        )
    return cases


def smoke_cases() -> list[tuple[str, list[str], list[str], dict[str, str]]]:
    """The config-migration smoke test: (mode, release fixtures, the two configs that must
    agree, the outputs both must give)."""
    source = (tests_dir() / "drafter" / "smoke-config-migration.e2e.test.ts").read_text()
    table = re.search(r"it\.each\(\[(.*?)\]\s*as const\)", source, re.DOTALL)
    configs = re.findall(r"config: '([^']+)'", source)
    payload = re.search(r"payload: '([^']+)'", source)
    snapshot = _dedent(
        _template_literal(source, "expect(migrated.outputs).toMatchInlineSnapshot(") or ""
    )
    outputs = dict(
        re.findall(r'^    "(\w+)",\n    "(.*?)",\n  \],?$', snapshot, re.DOTALL | re.MULTILINE)
    )
    if table is None or payload is None:
        raise ValueError("the smoke test's shape changed")
    modes = re.findall(r"\['(\w+)',\s*(\[[^\]]*\])\]", table.group(1))
    return [(mode, [*_strings(files), payload.group(1)], configs, outputs) for mode, files in modes]


def changelog_cases() -> list[ChangelogCase]:
    source = (tests_dir() / "drafter" / "build-release-payload.test.ts").read_text()
    pulls_text = source[source.index("const pullRequests") :]
    pulls_text = pulls_text[pulls_text.index("=") + 1 : pulls_text.index("\n  ]\n") + 4]
    pulls = js_value(pulls_text)
    section = source[
        source.index("describe('generate changelog'") : source.index(
            "describe('build release payload'"
        )
    ]
    base = {"template": "$CHANGES"}
    cases: list[ChangelogCase] = []
    for title, body in _blocks(section):
        config = dict(base)
        spread = re.search(
            r"config:\s*\{\s*\.\.\.config,(.*?)\},\n\s*pullRequests", body, re.DOTALL
        )
        parsed = re.search(r"configSchema\.parse\((\{.*?\})\),\n\s*input", body, re.DOTALL)
        if spread:
            config.update(js_value("{" + spread.group(1) + "}"))
        elif parsed:
            config = js_value(parsed.group(1))
        given = re.search(
            r"pullRequests(?::\s*(\[\]|pullRequests\.slice\((\d+),\s*(\d+)\)))?,?\n\s*\}\)", body
        )
        chosen = pulls
        if given and given.group(1) == "[]":
            chosen = []
        elif given and given.group(2):
            chosen = pulls[int(given.group(2)) : int(given.group(3))]
        checks: list[tuple[str, str]] = []
        snapshot = _template_literal(body, "toMatchInlineSnapshot(")
        if snapshot is not None:
            # Printed raw (no escaping) between double quotes.
            checks.append(("equals", _dedent(snapshot).strip()[1:-1]))
        for kind, text in re.findall(
            r"expect\(changelog\)\.(toBe|not\.toContain|toContain)\(('(?:[^'\\]|\\.)*')\)", body
        ):
            checks.append(
                ({"toBe": "equals", "toContain": "contains"}.get(kind, "lacks"), _js_string(text))
            )
        cases.append(ChangelogCase(title, config, chosen, checks))
    return cases


def load_json(*parts: str) -> Any:
    return json.loads((tests_dir() / "fixtures" / Path(*parts)).read_text())


def load_config_text(name: str) -> str:
    return (tests_dir() / "fixtures" / "config" / f"{name}.yml").read_text()
