"""Pinned third-party GitHub descriptions for tests, fetched on demand into `.cache/octokit/`.

This module owns the download of three npm packages that describe GitHub from the outside:
`@octokit/webhooks-examples` (real webhook payloads), `@octokit/openapi` (the REST API
description) and `@octokit/graphql-schema` (the GraphQL schema). They are never committed:
the first test that needs one runs `npm pack` in a temporary directory, extracts only the
files we read, and later runs reuse the cache. A file lock serialises the fetch so parallel
pytest processes (xdist, several CI jobs on one runner) do not race on a half-extracted
directory.

When the fetch is impossible the calling test is skipped with the reason, except under
`CI=true`, where a missing description is a failure: CI must never go green by skipping.
"""

from __future__ import annotations

import copy
import fcntl
import functools
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

# Pinned so that a new upstream release cannot change test data under us; bump deliberately.
WEBHOOK_EXAMPLES_PACKAGE = "@octokit/webhooks-examples"
WEBHOOK_EXAMPLES_VERSION = "7.6.1"
OPENAPI_PACKAGE = "@octokit/openapi"
OPENAPI_VERSION = "23.0.2"
GRAPHQL_SCHEMA_PACKAGE = "@octokit/graphql-schema"
GRAPHQL_SCHEMA_VERSION = "15.26.1"

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ROOT = REPO_ROOT / ".cache" / "octokit"

# Only these members are extracted: the openapi tarball is ~28 MB of other GitHub flavours.
_WANTED: dict[str, tuple[str, ...]] = {
    WEBHOOK_EXAMPLES_PACKAGE: ("package/package.json", "package/api.github.com/index.json"),
    OPENAPI_PACKAGE: ("package/package.json", "package/generated/api.github.com.json"),
    # The SDL only: the package's schema.json introspection result is six times larger.
    GRAPHQL_SCHEMA_PACKAGE: ("package/package.json", "package/schema.graphql"),
}
_COMPLETE_MARKER = ".complete"
# npm retries for minutes by default when offline; a test run should give up sooner.
_NPM_TIMEOUT_S = 300


class FetchError(RuntimeError):
    """The package could not be fetched (offline, npm missing, bad tarball)."""


def _unavailable(package: str, reason: str) -> NoReturn:
    message = f"offline: could not fetch {package} ({reason})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires the octokit test data", pytrace=False)
    pytest.skip(message)


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cache_dir(package: str, version: str) -> Path:
    # "@octokit/openapi" -> "openapi-23.0.2"
    return CACHE_ROOT / f"{package.rsplit('/', 1)[-1]}-{version}"


def _npm_pack(package: str, version: str, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm is not installed")
    try:
        done = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--json", "--fetch-retries=1"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=_NPM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FetchError(f"npm pack timed out after {_NPM_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FetchError(f"npm pack exited {done.returncode}: {last_line}")
    try:
        filename = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError) as exc:
        raise FetchError("npm pack printed no tarball name") from exc
    # npm < 9 reports scoped names as "@octokit/x-1.tgz" but writes "octokit-x-1.tgz".
    tarball = workdir / str(filename).lstrip("@").replace("/", "-")
    if not tarball.is_file():
        raise FetchError(f"npm pack did not write {tarball.name}")
    return tarball


def _extract(tarball: Path, members: tuple[str, ...], dest: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        for name in members:
            try:
                info = archive.getmember(name)
            except KeyError as exc:
                raise FetchError(f"{name} missing from {tarball.name}") from exc
            # The "data" filter refuses absolute paths, links out of dest and device files.
            archive.extract(info, dest, filter="data")


def ensure_package(package: str, version: str) -> Path:
    """Return the extracted `package/` directory of `package@version`, fetching it once.

    Raises FetchError when it cannot be fetched; callers in tests use the skip/fail wrappers.
    """
    final = _cache_dir(package, version)
    if (final / _COMPLETE_MARKER).is_file():
        return final / "package"
    with _locked(CACHE_ROOT / f".{final.name}.lock"):
        # Another process may have finished the fetch while we waited for the lock.
        if (final / _COMPLETE_MARKER).is_file():
            return final / "package"
        with tempfile.TemporaryDirectory(dir=CACHE_ROOT, prefix=".fetch-") as tmp:
            staging = Path(tmp) / "out"
            staging.mkdir()
            tarball = _npm_pack(package, version, Path(tmp))
            _extract(tarball, _WANTED[package], staging)
            (staging / _COMPLETE_MARKER).write_text(f"{package}@{version}\n")
            if final.exists():  # left over from an interrupted run without the marker
                shutil.rmtree(final)
            staging.rename(final)
    return final / "package"


def _package_file(package: str, version: str, relative: str) -> Path:
    try:
        return ensure_package(package, version) / relative
    except (FetchError, OSError) as exc:
        _unavailable(package, str(exc))


@functools.cache
def _examples_by_event() -> dict[str, list[dict[str, Any]]]:
    path = _package_file(
        WEBHOOK_EXAMPLES_PACKAGE, WEBHOOK_EXAMPLES_VERSION, "api.github.com/index.json"
    )
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return {entry["name"]: entry["examples"] for entry in entries}


def webhook_examples(event: str) -> list[dict[str, Any]]:
    """All example payloads GitHub documents for `event` (deep copies, safe to mutate)."""
    examples = _examples_by_event()
    if event not in examples:
        raise KeyError(f"{WEBHOOK_EXAMPLES_PACKAGE} has no examples for event {event!r}")
    return copy.deepcopy(examples[event])


def webhook_example(event: str, action: str | None = None, *, index: int = 0) -> dict[str, Any]:
    """The `index`-th example of `event` (with `action`, when given), as a deep copy."""
    examples = _examples_by_event().get(event)
    if examples is None:
        raise KeyError(f"{WEBHOOK_EXAMPLES_PACKAGE} has no examples for event {event!r}")
    matching = [e for e in examples if action is None or e.get("action") == action]
    if index >= len(matching):
        actions = sorted({str(e.get("action")) for e in examples})
        raise KeyError(
            f"{event}.{action}: {len(matching)} example(s), index {index} requested;"
            f" actions with examples: {actions}"
        )
    return copy.deepcopy(matching[index])


@functools.cache
def _openapi_spec() -> dict[str, Any]:
    path = _package_file(OPENAPI_PACKAGE, OPENAPI_VERSION, "generated/api.github.com.json")
    return json.loads(path.read_text(encoding="utf-8"))


def openapi_spec() -> dict[str, Any]:
    """GitHub's REST description for api.github.com (loaded once; treat it as read-only)."""
    return _openapi_spec()


@functools.cache
def graphql_schema_sdl() -> str:
    """GitHub's public GraphQL schema (SDL text), as `@octokit/graphql-schema` publishes it."""
    path = _package_file(GRAPHQL_SCHEMA_PACKAGE, GRAPHQL_SCHEMA_VERSION, "schema.graphql")
    return path.read_text(encoding="utf-8")


def resolve_ref(node: Any) -> Any:
    """Follow `{"$ref": "#/components/..."}` (repeatedly) inside the OpenAPI description."""
    spec = openapi_spec()
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def openapi_response_example(method: str, path_template: str, status: str = "200") -> Any:
    """The first documented JSON example of a route's response, with `$ref`s followed."""
    operation = openapi_spec()["paths"][path_template][method.lower()]
    response = resolve_ref(operation["responses"][status])
    media = response["content"]["application/json"]
    if "example" in media:
        return copy.deepcopy(media["example"])
    first = next(iter(media["examples"].values()))
    # Both the example object and its value may be references.
    return copy.deepcopy(resolve_ref(resolve_ref(first)["value"]))
