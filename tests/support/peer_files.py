"""Files other projects publish, that tests feed to ghapp as their users would bring them.

This module owns fetching them: a pinned npm package is packed into the git-ignored
`.cache/peers/` on first use (never committed), with the same npm plumbing as the octokit
test data. When it cannot be fetched the test is skipped with the reason, except under
`CI=true`, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.octokit import REPO_ROOT, FetchError, _extract, _locked, _npm_pack

# github-label-sync's example label lists (the package ships them at its root).
GITHUB_LABEL_SYNC = "github-label-sync"
GITHUB_LABEL_SYNC_VERSION = "3.0.0"
GITHUB_LABEL_SYNC_FILES = ("package/package.json", "package/labels.yml", "package/labels.json")

CACHE_ROOT = REPO_ROOT / ".cache" / "peers"
_COMPLETE_MARKER = ".complete"


def _unavailable(package: str, reason: str) -> NoReturn:
    message = f"offline: could not fetch {package} ({reason})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def peer_file(package: str, version: str, members: tuple[str, ...], relative: str) -> Path:
    """`relative` inside `package@version` (one of `members`), fetched once into the cache."""
    final = CACHE_ROOT / f"{package}-{version}"
    try:
        if not (final / _COMPLETE_MARKER).is_file():
            with _locked(CACHE_ROOT / f".{final.name}.lock"):
                if not (final / _COMPLETE_MARKER).is_file():
                    with tempfile.TemporaryDirectory(dir=CACHE_ROOT, prefix=".fetch-") as tmp:
                        staging = Path(tmp) / "out"
                        staging.mkdir()
                        _extract(_npm_pack(package, version, Path(tmp)), members, staging)
                        (staging / _COMPLETE_MARKER).write_text(f"{package}@{version}\n")
                        if final.exists():
                            shutil.rmtree(final)
                        staging.rename(final)
    except (FetchError, OSError) as exc:
        _unavailable(package, str(exc))
    return final / "package" / relative


def github_label_sync_file(name: str) -> str:
    """The text of github-label-sync's own example `labels.yml` or `labels.json`."""
    path = peer_file(GITHUB_LABEL_SYNC, GITHUB_LABEL_SYNC_VERSION, GITHUB_LABEL_SYNC_FILES, name)
    return path.read_text(encoding="utf-8")
