"""Versions for release-publish, resolved as release-drafter resolves them.

Pure functions. The rules, all release-drafter's (npm's `semver` underneath, see
`npm_semver`):

- a release's version is read from its tag (less `tag-prefix`), else from its name:
  a semantic version (`v` allowed), else the first `N[.N[.N]]` in it;
- the previous release is the highest published one by tag (compare-versions' order,
  creation time for tags it cannot read), skipping drafts, prereleases (unless
  `include-pre-releases` or `prerelease`), releases of another branch
  (`filter-by-commitish`), outside `filter-by-range`, or without the `tag-prefix`;
- the next version bumps the previous one by the highest `semver-increment` among the
  categories the merged pull requests fall in (`patch` when none does); with
  `prerelease-identifier` and `prerelease` it is a `pre…` bump, and from a prerelease it
  only counts up the prerelease number;
- a forced version (`release 1.2.3`) is used as it is, and `$NEXT_*` count from it;
- every version variable is rendered through `version-template`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key
from typing import Literal, Protocol, TypeVar

from semver import Version

from ghapp.skills.release_publish.categories import Rule, rule_matches
from ghapp.skills.release_publish.notes import MergedPull, included
from ghapp.skills.release_publish.npm_ranges import satisfies
from ghapp.skills.release_publish.npm_semver import (
    Increment,
    coerce,
    compare_tags,
    increment,
    parse,
    read,
    render,
)
from ghapp.skills.release_publish.options import Level, ReleaseOptions

LEVELS: tuple[Level, ...] = ("major", "minor", "patch")
_RANK: dict[Level, int] = {"patch": 1, "minor": 2, "major": 3}
ZERO = Version(0, 0, 0)


class VersionError(ValueError):
    """A version or version request that cannot be used; the message is for people."""


class ReleaseLike(Protocol):
    """The parts of a GitHub release the version rules read (see `releases.ReleaseInfo`)."""

    @property
    def tag(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def draft(self) -> bool: ...
    @property
    def prerelease(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def target_commitish(self) -> str: ...


R = TypeVar("R", bound=ReleaseLike)


def parse_version(text: str) -> Version:
    """A semantic version as people type it (`1.2.3`, `v1.2.3-rc.1`)."""
    found = parse(text)
    if found is None:
        raise VersionError(
            f"{text.strip()!r} is not a semantic version; "
            "use MAJOR.MINOR.PATCH such as 1.2.3 or 1.2.3-rc.1"
        )
    return found.replace(build=None)


def _strip_prefix(text: str | None, prefix: str | None) -> str | None:
    if text is not None and prefix and text.startswith(prefix):
        return text[len(prefix) :]
    return text


def version_of(release: ReleaseLike, tag_prefix: str | None = None) -> Version | None:
    """The version a release stands for: from its tag, else from its name."""
    return read(_strip_prefix(release.tag, tag_prefix)) or read(
        _strip_prefix(release.name, tag_prefix)
    )


def version_in_text(text: str, tag_prefix: str | None = None) -> Version | None:
    """The version in a tag or a release name, as release-drafter reads it."""
    return read(_strip_prefix(text, tag_prefix))


def _compare_releases(a: ReleaseLike, b: ReleaseLike, prefix: str | None) -> int:
    try:
        return compare_tags(_strip_prefix(a.tag, prefix) or "", _strip_prefix(b.tag, prefix) or "")
    except ValueError:
        return (a.created_at > b.created_at) - (a.created_at < b.created_at)


def candidate_releases(
    releases: Iterable[R], options: ReleaseOptions, *, branch: str | None
) -> list[R]:
    """The releases release-drafter considers at all: commitish, range and prefix filters."""
    kept: list[R] = []
    branch = branch.removeprefix("refs/heads/") if branch is not None else None
    for release in releases:
        target = release.target_commitish.removeprefix("refs/heads/")
        if options.filter_by_commitish and branch is not None and target != branch:
            continue
        if options.filter_by_range and options.filter_by_range != "*":
            found = coerce(release.tag)
            if found is None or not satisfies(found, options.filter_by_range):
                continue
        if options.tag_prefix and not release.tag.startswith(options.tag_prefix):
            continue
        kept.append(release)
    return kept


def previous_release(
    releases: Iterable[R],
    options: ReleaseOptions,
    *,
    prerelease: bool,
    branch: str | None = None,
    below: Version | None = None,
) -> R | None:
    """The release the next one follows (see the module docstring); with `below`, the
    highest one under that version (a hotfix for an older line: ghapp's addition)."""
    published = [
        r
        for r in candidate_releases(releases, options, branch=branch)
        if not r.draft and (prerelease or options.include_pre_releases or not r.prerelease)
    ]
    if below is not None:
        published = [
            r
            for r in published
            if (v := version_of(r, options.tag_prefix)) is not None and v < below
        ]
    ordered = sorted(
        published, key=cmp_to_key(lambda a, b: _compare_releases(a, b, options.tag_prefix))
    )
    return ordered[-1] if ordered else None


# -- the increment -------------------------------------------------------------------------


def _highest(
    pulls: Sequence[MergedPull], rules: Sequence[Rule], fallback: Literal["default", "rest"]
) -> int | None:
    catch_all = next((r for r in rules if r.catch_all), None)
    matched: set[int] = set()
    best: int | None = None
    remaining = list(range(len(pulls)))
    for rule in rules:
        if rule.catch_all:
            continue
        hits = [i for i in remaining if rule_matches(rule, pulls[i])]
        if not hits:
            continue
        best = max(best or 0, _RANK[rule.semver_increment])
        matched.update(hits)
        if rule.exclusive:
            remaining = [i for i in remaining if i not in hits]
    if catch_all is None:
        return best
    if fallback == "default":
        return best if best is not None else _RANK[catch_all.semver_increment]
    if len(matched) == len(pulls):
        return best
    return max(best or 0, _RANK[catch_all.semver_increment])


def level_for(pulls: Sequence[MergedPull], options: ReleaseOptions) -> Level:
    """The bump the merged pull requests ask for through the categories."""
    rules = options.rules
    kept = included(pulls, rules)
    changelog = _highest(kept, [r for r in rules if r.kind == "changelog"], "rest")
    resolver = _highest(kept, [r for r in rules if r.kind == "version-resolver"], "default")
    rank = max(changelog or 0, resolver if resolver is not None else _RANK["patch"])
    return next(level for level in LEVELS if _RANK[level] == rank)


# -- version variables ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """The release's version and the `$NEXT_*` / `$RESOLVED_*` variables."""

    resolved: Version | None  # None: the forced version could not be read
    variables: dict[str, str]

    @property
    def resolved_text(self) -> str:
        return self.variables.get("$RESOLVED_VERSION", "")


def _parts(prefix: str, version: Version | None, template: str) -> dict[str, str]:
    if version is None:
        return {}
    return {
        prefix: render(version, template),
        f"{prefix}_MAJOR": str(version.major),
        f"{prefix}_MINOR": str(version.minor),
        f"{prefix}_PATCH": str(version.patch),
    }


def version_info(
    options: ReleaseOptions,
    *,
    previous: Version | None,
    level: Level,
    prerelease: bool,
    identifier: str | None,
    forced: Version | None = None,
) -> VersionInfo:
    """release-drafter's version variables, counted from `forced` when given, else from
    `previous` (0.0.0 when there is none)."""
    template = options.version_template
    base = forced or previous or ZERO
    step: Increment | None = None
    if forced is None:
        step = f"pre{level}" if prerelease and identifier else level  # type: ignore[assignment]
        if step and step.startswith("pre") and previous is not None and previous.prerelease:
            step = "prerelease"

    def bumped(how: Increment | None) -> Version:
        return base if how is None else increment(base, how, identifier)

    resolved = bumped(step)
    variables: dict[str, str] = {}
    for name, how in (("MAJOR", "major"), ("MINOR", "minor"), ("PATCH", "patch")):
        variables.update(_parts(f"$NEXT_{name}_VERSION", bumped(how), template))  # type: ignore[arg-type]
    pre = bumped("prerelease")
    variables["$NEXT_PRERELEASE_VERSION"] = render(pre, template)
    variables["$NEXT_PRERELEASE_VERSION_PRERELEASE"] = (
        f"-{pre.prerelease}" if pre.prerelease else ""
    )
    variables.update(_parts("$RESOLVED_VERSION", resolved, template))
    variables["$RESOLVED_VERSION_PRERELEASE"] = (
        f"-{resolved.prerelease}" if resolved.prerelease else ""
    )
    variables["$VERSION"] = variables["$RESOLVED_VERSION"]
    return VersionInfo(resolved, variables)


# -- tags ----------------------------------------------------------------------------------


def tag_matches(tag: str, pattern: str) -> bool:
    """Whether `tag` matches the glob `pattern` (case-sensitive, as git tags are)."""
    return fnmatch.fnmatchcase(tag, pattern)


def requested_level(request: str) -> Level | None:
    word = request.strip().lower()
    return word if word in LEVELS else None  # type: ignore[return-value]


def resolve_requested(request: str, previous: Version | None) -> Version:
    """The version a `release` command asks for: an explicit version or a bump level."""
    level = requested_level(request)
    if level is not None:
        return increment(previous or ZERO, level)
    try:
        return parse_version(request)
    except VersionError:
        raise VersionError(
            f"{request.strip()!r} is neither a version (such as 1.2.3 or 1.2.3-rc.1) "
            "nor one of major, minor, patch"
        ) from None
