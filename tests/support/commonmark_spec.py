"""The CommonMark spec's examples, fetched on demand into `.cache/commonmark/`.

The npm package `commonmark-spec` (the spec repository's own release) ships `spec.txt`,
whose examples sit between lines of 32 backticks and the word "example", markdown first,
then a line holding a single ".", then the HTML. It is never committed: the first test that
needs it runs `npm pack` (as tests/support/octokit.py does for GitHub's data), extracts
`spec.txt`, and later runs reuse the cache. Offline, the calling test is skipped with the
reason, except under `CI=true`, where that is a failure.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.octokit import FetchError, _extract, _locked, _npm_pack

SPEC_PACKAGE = "commonmark-spec"
SPEC_VERSION = "0.31.2"
SPEC_EXAMPLES = 652  # in 0.31.2; a different count means the file was not read right

CACHE_ROOT = Path(__file__).resolve().parents[2] / ".cache" / "commonmark"
_EXAMPLE = re.compile(r"^`{32} example\n([\s\S]*?)^\.\n([\s\S]*?)^`{32}$", re.MULTILINE)


@dataclass(frozen=True)
class SpecExample:
    number: int  # 1-based, as the spec numbers them
    markdown: str
    html: str


def _spec_text() -> str:
    final = CACHE_ROOT / f"{SPEC_PACKAGE}-{SPEC_VERSION}"
    marker = final / ".complete"
    if not marker.is_file():
        with _locked(CACHE_ROOT / f".{final.name}.lock"):
            if not marker.is_file():
                with tempfile.TemporaryDirectory(dir=CACHE_ROOT, prefix=".fetch-") as tmp:
                    staging = Path(tmp) / "out"
                    staging.mkdir()
                    tarball = _npm_pack(SPEC_PACKAGE, SPEC_VERSION, Path(tmp))
                    _extract(tarball, ("package/spec.txt",), staging)
                    (staging / ".complete").write_text(f"{SPEC_PACKAGE}@{SPEC_VERSION}\n")
                    if final.exists():
                        shutil.rmtree(final)
                    staging.rename(final)
    return (final / "package" / "spec.txt").read_text(encoding="utf-8")


@functools.cache
def _examples() -> tuple[SpecExample, ...]:
    text = _spec_text().replace("\r\n", "\n")
    text = re.split(r"^<!-- END TESTS -->", text, flags=re.MULTILINE)[0]
    # The spec shows tabs as "→" so that they can be seen.
    found = tuple(
        SpecExample(number, markdown.replace("\u2192", "\t"), html.replace("\u2192", "\t"))
        for number, (markdown, html) in enumerate(_EXAMPLE.findall(text), 1)
    )
    if len(found) != SPEC_EXAMPLES:
        raise FetchError(f"found {len(found)} examples in spec.txt, expected {SPEC_EXAMPLES}")
    return found


def spec_examples() -> tuple[SpecExample, ...]:
    """Every example of the CommonMark spec 0.31.2; skips (fails under CI=true) offline."""
    try:
        return _examples()
    except (FetchError, OSError) as exc:
        message = f"offline: could not fetch {SPEC_PACKAGE}@{SPEC_VERSION} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires the CommonMark spec", pytrace=False)
        pytest.skip(message)
