"""Version parsing, bumping, label resolution and tag mapping for release-publish."""

from __future__ import annotations

import pytest
from semver import Version

from ghapp.skills.release_publish.options import LabelSet, Level, VersionResolver
from ghapp.skills.release_publish.versions import (
    VersionError,
    bump,
    level_from_labels,
    parse_version,
    render_tag,
    resolve_from_labels,
    resolve_requested,
    tag_matches,
    version_from_tag,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", Version(1, 2, 3)),
        ("v1.2.3", Version(1, 2, 3)),
        ("V1.2.3", Version(1, 2, 3)),
        (" 1.2.3 ", Version(1, 2, 3)),
        ("1.2.3-rc.1", Version(1, 2, 3, prerelease="rc.1")),
        ("v2.0.0-beta.2+build.7", Version(2, 0, 0, prerelease="beta.2", build="build.7")),
        ("0.0.0", Version(0, 0, 0)),
    ],
)
def test_parse_version(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    "text", ["", "v", "1.2", "1", "1.2.3.4", "01.2.3", "vv1.2.3", "latest", "1.2.x", "-1.2.3"]
)
def test_parse_version_rejects_with_a_message_for_people(text: str) -> None:
    with pytest.raises(VersionError, match=r"is not a semantic version; use MAJOR\.MINOR\.PATCH"):
        parse_version(text)


def test_version_error_is_a_value_error() -> None:
    assert issubclass(VersionError, ValueError)


@pytest.mark.parametrize(
    ("latest", "level", "expected"),
    [
        # Nothing released yet.
        (None, "major", "1.0.0"),
        (None, "minor", "0.1.0"),
        (None, "patch", "0.0.1"),
        # Plain releases.
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        # 0.x is no different.
        ("0.3.4", "major", "1.0.0"),
        ("0.3.4", "minor", "0.4.0"),
        ("0.3.4", "patch", "0.3.5"),
        # A prerelease is finished by the bump it points at (npm's semver.inc).
        ("1.2.3-rc.1", "patch", "1.2.3"),
        ("1.2.3-rc.1", "minor", "1.3.0"),
        ("1.2.3-rc.1", "major", "2.0.0"),
        ("1.3.0-rc.1", "minor", "1.3.0"),
        ("1.3.0-rc.1", "patch", "1.3.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
        ("2.0.0-rc.1", "minor", "2.0.0"),
        # Build metadata never carries over.
        ("1.2.3+sha.abc", "patch", "1.2.4"),
    ],
)
def test_bump(latest: str | None, level: Level, expected: str) -> None:
    previous = None if latest is None else parse_version(latest)
    assert str(bump(previous, level)) == expected


@pytest.mark.parametrize(
    ("request_", "latest", "expected"),
    [
        ("1.4.0", "1.2.3", "1.4.0"),
        ("v1.4.0", None, "1.4.0"),
        ("1.2.3-rc.1", "1.2.2", "1.2.3-rc.1"),
        ("major", "1.2.3", "2.0.0"),
        ("MINOR", "1.2.3", "1.3.0"),
        (" patch ", "1.2.3", "1.2.4"),
        ("major", None, "1.0.0"),
        ("minor", None, "0.1.0"),
        ("patch", None, "0.0.1"),
        ("patch", "1.2.3-rc.1", "1.2.3"),
    ],
)
def test_resolve_requested(request_: str, latest: str | None, expected: str) -> None:
    previous = None if latest is None else parse_version(latest)
    assert str(resolve_requested(request_, previous)) == expected


@pytest.mark.parametrize("request_", ["", "next", "1.2", "v1.x", "huge"])
def test_resolve_requested_rejects_with_the_choices(request_: str) -> None:
    with pytest.raises(VersionError, match="nor one of major, minor, patch"):
        resolve_requested(request_, Version(1, 0, 0))


@pytest.mark.parametrize(
    ("pr_labels", "expected"),
    [
        ([], "patch"),
        ([["docs"]], "patch"),
        ([["bug"]], "patch"),
        ([["bug"], ["feature"]], "minor"),
        ([["feature"], ["breaking", "bug"], ["docs"]], "major"),
        ([["Enhancement"]], "minor"),  # labels compare case-insensitively
        ([["MAJOR"]], "major"),
    ],
)
def test_level_from_labels_highest_wins(pr_labels: list[list[str]], expected: str) -> None:
    assert level_from_labels(pr_labels, VersionResolver()) == expected


def test_level_from_labels_uses_the_configured_default_and_labels() -> None:
    resolver = VersionResolver(minor=LabelSet(labels=("kind/feature",)), default="minor")
    assert level_from_labels([["docs"]], resolver) == "minor"
    assert level_from_labels([["feature"]], resolver) == "minor"  # default, not the label
    assert level_from_labels([["kind/feature"], ["fix"]], resolver) == "minor"
    # A level left out of the configuration keeps its default labels.
    assert level_from_labels([["breaking"]], resolver) == "major"


def test_level_from_labels_accepts_one_shot_iterables() -> None:
    labels = (iter(pr) for pr in [["bug"], ["feature"]])
    assert level_from_labels(labels, VersionResolver()) == "minor"


@pytest.mark.parametrize(
    ("pr_labels", "latest", "expected"),
    [
        ([["feature"]], "1.2.3", "1.3.0"),
        ([["breaking"]], "0.9.1", "1.0.0"),
        ([], "1.2.3", "1.2.4"),
        ([["feature"]], None, "0.1.0"),
    ],
)
def test_resolve_from_labels(pr_labels: list[list[str]], latest: str | None, expected: str) -> None:
    previous = None if latest is None else parse_version(latest)
    assert str(resolve_from_labels(pr_labels, VersionResolver(), previous)) == expected


@pytest.mark.parametrize(
    ("template", "version", "expected"),
    [
        ("v$RESOLVED_VERSION", "1.2.3", "v1.2.3"),
        ("v$VERSION", "1.2.3-rc.1", "v1.2.3-rc.1"),
        ("release-$RESOLVED_VERSION", "2.0.0", "release-2.0.0"),
        ("$VERSION", "0.0.1", "0.0.1"),
    ],
)
def test_render_tag(template: str, version: str, expected: str) -> None:
    assert render_tag(template, parse_version(version)) == expected


@pytest.mark.parametrize(
    ("tag", "pattern", "expected"),
    [
        ("v1.2.3", "v*", True),
        ("1.2.3", "v*", False),
        ("V1.2.3", "v*", False),  # git tags are case-sensitive
        ("release-1.0.0", "release-*", True),
        ("v1.2.3", "v[0-9]*", True),
        ("vnext", "v[0-9]*", False),
    ],
)
def test_tag_matches(tag: str, pattern: str, expected: bool) -> None:
    assert tag_matches(tag, pattern) is expected


@pytest.mark.parametrize(
    ("tag", "template", "expected"),
    [
        ("v1.2.3", "v$RESOLVED_VERSION", "1.2.3"),
        ("v1.2.3-rc.1", "v$VERSION", "1.2.3-rc.1"),
        ("release-2.0.0", "release-$RESOLVED_VERSION", "2.0.0"),
        ("pkg@1.0.0-beta", "pkg@$RESOLVED_VERSION", "1.0.0-beta"),
        ("1.2.3", "v$RESOLVED_VERSION", None),
        ("vnext", "v$RESOLVED_VERSION", None),
        ("vv1.2.3", "v$RESOLVED_VERSION", None),  # the template owns the prefix
        ("v1.2.3", "release-$RESOLVED_VERSION", None),
        ("v1.2.3", "no-version", None),
    ],
)
def test_version_from_tag(tag: str, template: str, expected: str | None) -> None:
    found = version_from_tag(tag, template)
    assert (None if found is None else str(found)) == expected


def test_version_round_trips_through_its_tag() -> None:
    for text in ["0.0.1", "1.2.3", "10.20.30-rc.1", "1.0.0-alpha+001"]:
        version = parse_version(text)
        assert version_from_tag(render_tag("v$RESOLVED_VERSION", version), "v$VERSION") == version
