"""Semantic versions for release-publish: parsing, bumping, and mapping versions to tags.

Pure functions. Bumps follow npm's `semver.inc` (which release-drafter uses), not
python-semver's `bump_*`: a prerelease is finished by the bump it is on the way to, so
`patch` of `1.2.3-rc.1` is `1.2.3`, and only then `1.2.4`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from semver import Version

from ghapp.skills.release_publish.options import VERSION_VARIABLES, Level, VersionResolver

# Highest first: label resolution relies on this order.
LEVELS: tuple[Level, ...] = ("major", "minor", "patch")
_LEVEL_BY_WORD: dict[str, Level] = {level: level for level in LEVELS}

# Where each level bumps to when nothing has been released yet.
_FIRST_RELEASE: dict[Level, Version] = {
    "major": Version(1, 0, 0),
    "minor": Version(0, 1, 0),
    "patch": Version(0, 0, 1),
}


class VersionError(ValueError):
    """A version or version request that cannot be used; the message is for people."""


def parse_version(text: str) -> Version:
    """Parse a semantic version, allowing the `v`/`V` prefix tags usually carry."""
    candidate = text.strip()
    if candidate[:1] in ("v", "V"):
        candidate = candidate[1:]
    try:
        return Version.parse(candidate)
    except (ValueError, TypeError):
        raise VersionError(
            f"{text.strip()!r} is not a semantic version; "
            "use MAJOR.MINOR.PATCH such as 1.2.3 or 1.2.3-rc.1"
        ) from None


def bump(latest: Version | None, level: Level) -> Version:
    """The version after `latest` at `level`; build metadata is dropped."""
    if latest is None:
        return _FIRST_RELEASE[level]
    base = latest.replace(build=None)
    if base.prerelease is None:
        if level == "major":
            return base.bump_major()
        if level == "minor":
            return base.bump_minor()
        return base.bump_patch()
    # A prerelease already points at a release; reaching that release is the bump,
    # unless the requested level is higher than the one it points at.
    final = base.replace(prerelease=None)
    if level == "major":
        return final if (final.minor, final.patch) == (0, 0) else final.bump_major()
    if level == "minor":
        return final if final.patch == 0 else final.bump_minor()
    return final


def resolve_requested(request: str, latest: Version | None) -> Version:
    """The version a `release` command asks for: an explicit version or a bump level.

    `latest` is the latest non-draft release, or None when there is none yet.
    """
    level = _LEVEL_BY_WORD.get(request.strip().lower())
    if level is not None:
        return bump(latest, level)
    try:
        return parse_version(request)
    except VersionError:
        raise VersionError(
            f"{request.strip()!r} is neither a version (such as 1.2.3 or 1.2.3-rc.1) "
            "nor one of major, minor, patch"
        ) from None


def level_from_labels(pr_labels: Iterable[Iterable[str]], resolver: VersionResolver) -> Level:
    """The highest level any pull request's labels ask for, or the resolver's default."""
    wanted: dict[Level, set[str]] = {
        "major": {label.casefold() for label in resolver.major.labels},
        "minor": {label.casefold() for label in resolver.minor.labels},
        "patch": {label.casefold() for label in resolver.patch.labels},
    }
    found: set[Level] = set()
    for labels in pr_labels:
        for label in labels:
            folded = label.casefold()
            found.update(level for level in LEVELS if folded in wanted[level])
    # LEVELS runs from highest to lowest, so the first one found wins.
    for level in LEVELS:
        if level in found:
            return level
    return resolver.default


def resolve_from_labels(
    pr_labels: Iterable[Iterable[str]], resolver: VersionResolver, latest: Version | None
) -> Version:
    """The next version from the labels of the pull requests merged since `latest`."""
    return bump(latest, level_from_labels(pr_labels, resolver))


def render_tag(template: str, version: Version) -> str:
    """The tag for `version`: `$RESOLVED_VERSION` (or `$VERSION`) replaced in `template`."""
    tag = template
    for variable in VERSION_VARIABLES:
        tag = tag.replace(variable, str(version))
    return tag


def tag_matches(tag: str, pattern: str) -> bool:
    """Whether `tag` matches the glob `pattern` (case-sensitive, as git tags are)."""
    return fnmatch.fnmatchcase(tag, pattern)


def version_from_tag(tag: str, tag_template: str) -> Version | None:
    """The version a tag made from `tag_template` names, or None if it is not one."""
    variables = "|".join(re.escape(v) for v in VERSION_VARIABLES)
    parts = re.split(f"(?:{variables})", tag_template)
    pattern = "(.+?)".join(re.escape(part) for part in parts)
    match = re.fullmatch(pattern, tag)
    if match is None or not match.groups():
        return None
    texts = set(match.groups())
    if len(texts) != 1:  # a template naming the version twice must name one version
        return None
    try:
        # Strict parse: the template already accounts for any prefix such as `v`.
        return Version.parse(texts.pop())
    except ValueError:
        return None
