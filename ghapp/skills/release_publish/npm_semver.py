"""npm's version rules, as release-drafter applies them, over python-semver's `Version`.

release-drafter reads and bumps versions with npm's `semver` package and orders releases
with the `compare-versions` package; the two disagree with python-semver at the edges (a
`v` prefix, `2.1` coerced to `2.1.0`, `inc` of a prerelease, ranges such as `^3.0.0`). This
module owns those rules so a migrated configuration resolves the very same version:

- `parse` accepts `1.2.3`, `v1.2.3`, `1.2.3-rc.1+build` (npm's strict form);
- `coerce` finds the first `N[.N[.N]]` in any text (`release 2.1` → 2.1.0), dropping any
  prerelease, as npm's `coerce` does;
- `increment` is npm's `inc` (including `premajor`… and `prerelease` with an identifier);
- `compare_tags` is compare-versions' order, which raises on text it cannot read;
- `satisfies`/`valid_range` implement npm's range syntax (`^`, `~`, `x`, `-`, `||`).

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Literal

from semver import Version

Increment = Literal["major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease"]

_NUM = r"0|[1-9]\d*"
_IDENT = rf"(?:\d*[a-zA-Z-][a-zA-Z0-9-]*|{_NUM})"
_PRERELEASE = rf"(?:-({_IDENT}(?:\.{_IDENT})*))"
_BUILD = r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))"
_PLAIN = rf"v?({_NUM})\.({_NUM})\.({_NUM}){_PRERELEASE}?{_BUILD}?"
_FULL = re.compile(rf"^{_PLAIN}$")
_IDENTIFIER = re.compile(rf"^{_IDENT}(?:\.{_IDENT})*$")
_COERCE = re.compile(r"(^|[^\d])(\d{1,16})(?:\.(\d{1,16}))?(?:\.(\d{1,16}))?(?:$|[^\d])")
# compare-versions' own reading of a version: up to four numeric parts, x/* wildcards.
_CV = re.compile(
    r"^[v^~<>=]*?(\d+)(?:\.([x*]|\d+)(?:\.([x*]|\d+)(?:\.([x*]|\d+))?"
    r"(?:-([\da-z\-]+(?:\.[\da-z\-]+)*))?(?:\+[\da-z\-]+(?:\.[\da-z\-]+)*)?)?)?$",
    re.IGNORECASE,
)
_MAX_SAFE = 2**53 - 1
_MAX_LENGTH = 256  # npm refuses longer text before trimming it


def parse(text: str | None) -> Version | None:
    """npm's `parse`: the version `text` names exactly (surrounding spaces and a `v`
    allowed, 256 characters at most with them), or None."""
    if not text or len(text) > _MAX_LENGTH:
        return None
    match = _FULL.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
    if max(major, minor, patch) > _MAX_SAFE:
        return None
    return Version(major, minor, patch, prerelease=match.group(4), build=match.group(5))


def coerce(text: str | None) -> Version | None:
    """npm's `coerce`: the first `N`, `N.N` or `N.N.N` in `text`, missing parts 0."""
    if not text:
        return None
    match = _COERCE.search(text)
    if match is None:
        return None
    # Rebuilt as text and parsed strictly, as npm does: `01.2.3` coerces to nothing.
    return parse(f"{match.group(2)}.{match.group(3) or '0'}.{match.group(4) or '0'}")


def read(text: str | None) -> Version | None:
    """What release-drafter makes of a tag or name: `parse`, else `coerce`."""
    return parse(text) or coerce(text)


def _identifiers(version: Version) -> list[int | str]:
    if not version.prerelease:
        return []
    return [int(part) if part.isdigit() else part for part in version.prerelease.split(".")]


def _compare_identifiers(a: int | str, b: int | str) -> int:
    if isinstance(a, int) and isinstance(b, int):
        return (a > b) - (a < b)
    a_num, b_num = str(a).isdigit(), str(b).isdigit()
    if a_num and b_num:
        return (int(a) > int(b)) - (int(a) < int(b))
    if a_num != b_num:
        return -1 if a_num else 1
    return (str(a) > str(b)) - (str(a) < str(b))


def valid_identifier(identifier: str) -> bool:
    """Whether `identifier` may follow the `-` of a prerelease (`beta`, `rc.1`)."""
    return bool(_IDENTIFIER.match(identifier))


def increment(version: Version, level: Increment, identifier: str | None = None) -> Version:
    """npm's `inc(version, level, identifier)`; build metadata is dropped."""
    if identifier and not valid_identifier(identifier):
        raise ValueError(f"invalid prerelease identifier {identifier!r}")
    major, minor, patch = version.major, version.minor, version.patch
    pre = _identifiers(version)
    if level == "premajor":
        major, minor, patch, pre = major + 1, 0, 0, _pre([], identifier)
    elif level == "preminor":
        minor, patch, pre = minor + 1, 0, _pre([], identifier)
    elif level == "prepatch":
        patch, pre = patch + 1, _pre([], identifier)
    elif level == "prerelease":
        if not pre:
            patch += 1
        pre = _pre(pre, identifier)
    elif level == "major":
        if minor != 0 or patch != 0 or not pre:
            major += 1
        minor, patch, pre = 0, 0, []
    elif level == "minor":
        if patch != 0 or not pre:
            minor += 1
        patch, pre = 0, []
    else:
        if not pre:
            patch += 1
        pre = []
    return Version(major, minor, patch, prerelease=".".join(str(p) for p in pre) or None)


def _pre(pre: list[int | str], identifier: str | None) -> list[int | str]:
    """npm's internal `pre` step: bump the last number, or start a prerelease at 0."""
    bumped: list[int | str] = list(pre)
    if not bumped:
        bumped = [0]
    else:
        numbers = [i for i, part in enumerate(bumped) if isinstance(part, int)]
        if numbers:
            bumped[numbers[-1]] = int(bumped[numbers[-1]]) + 1
        else:
            bumped.append(0)
    if identifier:
        wanted: list[int | str] = [identifier, 0]
        parts = identifier.split(".")
        same = len(parts) <= len(bumped) and all(
            _compare_identifiers(bumped[i], part) == 0 for i, part in enumerate(parts)
        )
        if not same:
            return wanted
        after = bumped[len(parts)] if len(parts) < len(bumped) else None
        if not isinstance(after, int):
            return wanted
    return bumped


def render(version: Version, template: str) -> str:
    """`version` through a version-template (`$MAJOR.$MINOR.$PATCH$PRERELEASE`)."""
    parts = {
        "$MAJOR": str(version.major),
        "$MINOR": str(version.minor),
        "$PATCH": str(version.patch),
        "$PRERELEASE": f"-{version.prerelease}" if version.prerelease else "",
    }
    return re.sub(r"\$[A-Z_]+", lambda m: parts.get(m.group(0), m.group(0)), template)


# -- compare-versions ----------------------------------------------------------------------


def _cv_read(part: str) -> int | str:
    # JavaScript's parseInt: leading digits make a number ("1rc" is 1), else the text.
    match = re.match(r"\s*[+-]?\d+", part)
    return int(match.group(0)) if match else part


def _cv_compare_part(a: str, b: str) -> int:
    if a in ("*", "x", "X") or b in ("*", "x", "X"):
        return 0
    left, right = _cv_read(a), _cv_read(b)
    if type(left) is not type(right):
        left, right = str(left), str(right)
    return (left > right) - (left < right)  # type: ignore[operator]


def _cv_segments(a: list[str], b: list[str]) -> int:
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) and a[i] else "0"
        right = b[i] if i < len(b) and b[i] else "0"
        result = _cv_compare_part(left, right)
        if result:
            return result
    return 0


def compare_tags(a: str, b: str) -> int:
    """compare-versions' `compareVersions(a, b)`; ValueError for text it cannot read."""
    ma, mb = _CV.match(a), _CV.match(b)
    if ma is None or mb is None:
        raise ValueError(f"not a version: {a if ma is None else b!r}")
    pa, pb = ma.group(5), mb.group(5)
    result = _cv_segments([g or "" for g in ma.groups()[:4]], [g or "" for g in mb.groups()[:4]])
    if result:
        return result
    if pa and pb:
        return _cv_segments(pa.split("."), pb.split("."))
    if pa or pb:
        return -1 if pa else 1
    return 0
