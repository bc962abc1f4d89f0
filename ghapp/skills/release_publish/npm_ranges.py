"""npm's semver ranges (`^3.0.0`, `~1.2`, `1.x || >=2.5.0 <3`, `1.0 - 2.0`), for
release-drafter's `filter-by-range`.

A range is a list of comparator sets joined by `||`; a version satisfies it when it passes
every comparator of one set. Shorthands are expanded the way npm expands them, then each
comparator is `<`, `<=`, `>`, `>=` or `=` against a version. As in npm, a prerelease only
satisfies a set that names a prerelease of the same `major.minor.patch`.
Parsing is npm's strict one (no `loose`): no leading zeros, a prerelease after a `-`, a
whole version with at most a `v` before it (`v1.2.3`, not `==1.2.3`), no number after a
wildcard (`1.x.5`) outside `^`, `~` and hyphen ranges; build metadata is dropped anywhere.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from semver import Version

from ghapp.skills.release_publish.npm_semver import parse

_X = r"[xX*]|0|[1-9]\d*"
# npm drops build metadata (`+…`) wherever it stands before reading a set, so a partial
# version may carry it (`1.x+build`); `_PART` meets none.
_BUILD = re.compile(r"\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*")
_PART = rf"([v=\s]*)({_X})(?:\.({_X})(?:\.({_X})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?"
_XRANGE = re.compile(rf"^(<=|>=|<|>|=)?\s*{_PART}$")
_SHORTHAND = re.compile(rf"^(\^|~>?){_PART}$")
_HYPHEN = re.compile(rf"^\s*{_PART}\s+-\s+{_PART}\s*$")
_OPERATOR_SPACE = re.compile(r"(<=|>=|<|>|=|~>?|\^)\s+")
_COMPARATOR = re.compile(r"(<=|>=|<|>|=)?(\S+)")

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


def _number(part: str | None) -> int | None:
    """A version part's number; None for a wildcard (`x`, `X`, `*`) or a missing part."""
    return None if part is None or part.lower() in ("x", "*") else int(part)


def _release(m: int, n: int, p: int, pre: str | None) -> str:
    return f"{m}.{n}.{p}" + (f"-{pre}" if pre else "")


def _exact(prefix: str, m: int, n: int, p: int, pre: str | None) -> str:
    """A whole version npm keeps as written: its comparators allow one `v` before it, no
    `=` (`==1.2.3`, `v=1.2.3` and `vv1.2.3` are not ranges; `==1.2` is rebuilt, so it is)."""
    if prefix not in ("", "v"):
        raise ValueError
    return _release(m, n, p, pre)


def _expand_caret(major: str | None, minor: str | None, patch: str | None, pre: str | None) -> str:
    m, n, p = _number(major), _number(minor), _number(patch)
    if m is None:
        return ""
    if n is None:
        return f">={m}.0.0 <{m + 1}.0.0-0"
    if p is None:
        upper = f"{m}.{n + 1}.0-0" if m == 0 else f"{m + 1}.0.0-0"
        return f">={m}.{n}.0 <{upper}"
    if m != 0:
        upper = f"{m + 1}.0.0-0"
    elif n != 0:
        upper = f"{m}.{n + 1}.0-0"
    else:
        upper = f"{m}.{n}.{p + 1}-0"
    return f">={_release(m, n, p, pre)} <{upper}"


def _expand_tilde(major: str | None, minor: str | None, patch: str | None, pre: str | None) -> str:
    m, n, p = _number(major), _number(minor), _number(patch)
    if m is None:
        return ""
    if n is None:
        return f">={m}.0.0 <{m + 1}.0.0-0"
    if p is None:
        return f">={m}.{n}.0 <{m}.{n + 1}.0-0"
    return f">={_release(m, n, p, pre)} <{m}.{n + 1}.0-0"


def _expand_x(
    operator: str,
    prefix: str,
    major: str | None,
    minor: str | None,
    patch: str | None,
    pre: str | None,
) -> str:
    m, n, p = _number(major), _number(minor), _number(patch)
    if (m is None and n is not None) or (n is None and p is not None):
        raise ValueError  # a number after a wildcard: `x.1`, `1.x.5` (not so after `^`/`~`)
    if m is None:
        return "<0.0.0-0" if operator in (">", "<") else ""
    if n is None or p is None:  # `1` or `1.2`: a bound, or both ends of the span
        if operator == ">":
            return f">={m + 1}.0.0" if n is None else f">={m}.{n + 1}.0"
        if operator == ">=":
            return f">={m}.{n or 0}.0"
        if operator == "<":
            return f"<{m}.{n or 0}.0-0"
        if operator == "<=":
            return f"<{m + 1}.0.0-0" if n is None else f"<{m}.{n + 1}.0-0"
        if n is None:
            return f">={m}.0.0 <{m + 1}.0.0-0"
        return f">={m}.{n}.0 <{m}.{n + 1}.0-0"
    return operator + _exact(prefix, m, n, p, pre)


def _expand_hyphen(match: re.Match[str]) -> str:
    fprefix, fm, fn, fp, fpre, tprefix, tm, tn, tp, tpre = match.groups()
    m, n, p = _number(fm), _number(fn), _number(fp)
    if m is None:
        low = ""
    elif n is None:
        low = f">={m}.0.0"
    elif p is None:
        low = f">={m}.{n}.0"
    else:
        low = f">={_exact(fprefix, m, n, p, fpre)}"
    m, n, p = _number(tm), _number(tn), _number(tp)
    if m is None:
        high = ""
    elif n is None:
        high = f"<{m + 1}.0.0-0"
    elif p is None:
        high = f"<{m}.{n + 1}.0-0"
    else:
        # npm rebuilds an upper end with a prerelease, whatever came before it
        high = f"<={_exact('' if tpre else tprefix, m, n, p, tpre)}"
    return f"{low} {high}"


def _expand_word(word: str) -> str:
    shorthand = _SHORTHAND.match(word)
    if shorthand:
        parts = shorthand.group(3, 4, 5, 6)
        return _expand_caret(*parts) if shorthand.group(1) == "^" else _expand_tilde(*parts)
    match = _XRANGE.match(word)
    if match is None:
        raise ValueError  # parse_range answers None
    return _expand_x(match.group(1) or "", *match.group(2, 3, 4, 5, 6))


def _comparator_set(text: str) -> ComparatorSet:
    text = _BUILD.sub("", text)
    hyphen = _HYPHEN.match(text)
    expanded = (
        _expand_hyphen(hyphen)
        if hyphen
        else " ".join(_expand_word(word) for word in _OPERATOR_SPACE.sub(r"\1", text).split())
    )
    found: list[Comparator] = []
    for operator, version_text in _COMPARATOR.findall(expanded):
        version = parse(version_text)
        if version is None:
            raise ValueError
        found.append(Comparator(operator or "=", version))
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
