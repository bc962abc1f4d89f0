"""npm's semver ranges (`^3.0.0`, `~1.2`, `1.x || >=2.5.0 <3`, `1.0 - 2.0`), for
release-drafter's `filter-by-range`.

A range is a list of comparator sets joined by `||`; a version satisfies it when it passes
every comparator of one set. Shorthands are expanded the way npm expands them, then each
comparator is `<`, `<=`, `>`, `>=` or `=` against a version. As in npm, a prerelease only
satisfies a set that names a prerelease of the same `major.minor.patch`.
Parsing is npm's strict one (no `loose`): no leading zeros, a prerelease after a `-`.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from semver import Version

from ghapp.skills.release_publish.npm_semver import parse

_X = r"[xX*]|0|[1-9]\d*"
_PART = (
    rf"[v=\s]*({_X})(?:\.({_X})(?:\.({_X})"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?"
)
_XRANGE = re.compile(rf"^(<=|>=|<|>|=)?\s*{_PART}$")
_SHORTHAND = re.compile(rf"^(\^|~>?){_PART}$")
_HYPHEN = re.compile(rf"^\s*{_PART}\s+-\s+{_PART}\s*$")
_OPERATOR_SPACE = re.compile(r"(<=|>=|<|>|=|~>?|\^)\s+")
_COMPARATOR = re.compile(r"^(<=|>=|<|>|=)?(.+)$")

_TESTS: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
    "=": lambda c: c == 0,
}


@dataclass(frozen=True, slots=True)
class Comparator:
    operator: str
    version: Version

    def test(self, version: Version) -> bool:
        return _TESTS[self.operator](version.compare(self.version))


ComparatorSet = tuple[Comparator, ...]  # empty: any version


def _is_x(part: str | None) -> bool:
    return part is None or part.lower() in ("x", "*")


def _expand_caret(major: str | None, minor: str | None, patch: str | None, pre: str | None) -> str:
    if _is_x(major):
        return ""
    m = int(major or 0)
    if _is_x(minor):
        return f">={m}.0.0 <{m + 1}.0.0-0"
    n = int(minor or 0)
    if _is_x(patch):
        upper = f"{m}.{n + 1}.0-0" if m == 0 else f"{m + 1}.0.0-0"
        return f">={m}.{n}.0 <{upper}"
    p = int(patch or 0)
    low = f"{m}.{n}.{p}" + (f"-{pre}" if pre else "")
    if m != 0:
        upper = f"{m + 1}.0.0-0"
    elif n != 0:
        upper = f"{m}.{n + 1}.0-0"
    else:
        upper = f"{m}.{n}.{p + 1}-0"
    return f">={low} <{upper}"


def _expand_tilde(major: str | None, minor: str | None, patch: str | None, pre: str | None) -> str:
    if _is_x(major):
        return ""
    m = int(major or 0)
    if _is_x(minor):
        return f">={m}.0.0 <{m + 1}.0.0-0"
    n = int(minor or 0)
    if _is_x(patch):
        return f">={m}.{n}.0 <{m}.{n + 1}.0-0"
    low = f"{m}.{n}.{int(patch or 0)}" + (f"-{pre}" if pre else "")
    return f">={low} <{m}.{n + 1}.0-0"


def _expand_x(
    operator: str, major: str | None, minor: str | None, patch: str | None, pre: str | None
) -> str:
    x_major = _is_x(major)
    x_minor = x_major or _is_x(minor)
    x_patch = x_minor or _is_x(patch)
    if operator == "=" and x_patch:
        operator = ""
    if x_major:
        return "<0.0.0-0" if operator in (">", "<") else ""
    m, n, p = int(major or 0), 0 if x_minor else int(minor or 0), 0 if x_patch else int(patch or 0)
    if operator and x_patch:
        suffix = ""
        if operator == ">":
            operator = ">="
            m, n = (m + 1, 0) if x_minor else (m, n + 1)
        elif operator == "<=":
            operator = "<"
            m, n = (m + 1, n) if x_minor else (m, n + 1)
        if operator == "<":
            suffix = "-0"
        return f"{operator}{m}.{n}.{p}{suffix}"
    if x_minor:
        return f">={m}.0.0 <{m + 1}.0.0-0"
    if x_patch:
        return f">={m}.{n}.0 <{m}.{n + 1}.0-0"
    return f"{operator}{m}.{n}.{p}" + (f"-{pre}" if pre else "")


def _expand_hyphen(match: re.Match[str]) -> str:
    fm, fn, fp, fpre, tm, tn, tp, tpre = match.groups()
    if _is_x(fm):
        low = ""
    elif _is_x(fn):
        low = f">={fm}.0.0"
    elif _is_x(fp):
        low = f">={fm}.{fn}.0"
    else:
        low = f">={fm}.{fn}.{fp}" + (f"-{fpre}" if fpre else "")
    if _is_x(tm):
        high = ""
    elif _is_x(tn):
        high = f"<{int(tm) + 1}.0.0-0"
    elif _is_x(tp):
        high = f"<{tm}.{int(tn or 0) + 1}.0-0"
    else:
        high = f"<={tm}.{tn}.{tp}" + (f"-{tpre}" if tpre else "")
    return f"{low} {high}".strip()


def _expand_word(word: str) -> str:
    if word in ("*", "x", "X", ""):
        return ""
    shorthand = _SHORTHAND.match(word)
    if shorthand:
        parts = shorthand.group(2, 3, 4, 5)
        return _expand_caret(*parts) if shorthand.group(1) == "^" else _expand_tilde(*parts)
    match = _XRANGE.match(word)
    if match is None:
        raise ValueError(word)
    return _expand_x(match.group(1) or "", *match.group(2, 3, 4, 5))


def _comparator_set(text: str) -> ComparatorSet:
    hyphen = _HYPHEN.match(text)
    expanded = (
        _expand_hyphen(hyphen)
        if hyphen
        else " ".join(
            _expand_word(word) for word in _OPERATOR_SPACE.sub(r"\1", text.strip()).split()
        )
    )
    found: list[Comparator] = []
    for word in expanded.split():
        match = _COMPARATOR.match(word)
        version = parse(match.group(2)) if match else None
        if match is None or version is None:
            raise ValueError(word)
        found.append(Comparator(match.group(1) or "=", version))
    return tuple(found)


def parse_range(text: str) -> tuple[ComparatorSet, ...] | None:
    """The comparator sets of an npm range, or None when `text` is not one."""
    try:
        return tuple(_comparator_set(part) for part in text.split("||"))
    except ValueError:
        return None


def valid_range(text: str) -> bool:
    return parse_range(text) is not None


def satisfies(version: Version, text: str) -> bool:
    """Whether `version` is in the npm range `text` (False for an invalid range)."""
    sets = parse_range(text)
    if sets is None:
        return False
    for comparators in sets:
        if not all(c.test(version) for c in comparators):
            continue
        if version.prerelease is None:
            return True
        # A prerelease only counts where the range names one of the same release.
        if any(
            c.version.prerelease is not None
            and (c.version.major, c.version.minor, c.version.patch)
            == (version.major, version.minor, version.patch)
            for c in comparators
        ):
            return True
    return False
