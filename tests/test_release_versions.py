"""Versions as release-drafter resolves them: npm's semver rules, the previous release, the
bump the merged pull requests ask for, and the `$NEXT_*`/`$RESOLVED_*` variables.

The expected values are facts about release-drafter v7 (its README and its tests) and
npm's `semver` 7 (which it uses), written here as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from semver import Version

from ghapp.options import validate_options
from ghapp.skills.release_publish.notes import MergedPull
from ghapp.skills.release_publish.npm_ranges import satisfies, valid_range
from ghapp.skills.release_publish.npm_semver import coerce, compare_tags, increment, parse
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.versions import (
    VersionError,
    level_for,
    parse_version,
    previous_release,
    resolve_requested,
    tag_matches,
    version_info,
    version_of,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def options_from(section: dict[str, Any]) -> ReleaseOptions:
    """A section as ghapp's loader reads it (`-` keys included)."""
    return validate_options("release-publish", ReleaseOptions, section)  # type: ignore[return-value]


@dataclass(frozen=True)
class Rel:
    tag: str
    name: str | None = None
    draft: bool = False
    prerelease: bool = False
    created_at: datetime = T0
    target_commitish: str = "main"


def pull(
    number: int, *labels: str, title: str = "Change", files: tuple[str, ...] | None = None
) -> MergedPull:
    return MergedPull(
        number=number,
        title=title,
        author="mona",
        author_is_bot=False,
        labels=labels,
        merged_at=T0 + timedelta(minutes=number),
        url=f"https://github.com/o/r/pull/{number}",
        changed_files=files,
    )


# -- npm's semver --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed", "coerced"),
    [
        ("1.2.3", "1.2.3", "1.2.3"),
        ("v1.2.3-rc.1", "1.2.3-rc.1", "1.2.3"),
        (" v2.0.0 ", "2.0.0", "2.0.0"),
        ("v2.1", None, "2.1.0"),
        ("release-7", None, "7.0.0"),
        ("1.2.3.4", None, "1.2.3"),
        ("v1.2.3-RC1 (Code name)", None, "1.2.3"),
        ("01.2.3", None, None),
        ("nightly", None, None),
    ],
)
def test_parse_and_coerce_read_text_as_npm_does(
    text: str, parsed: str | None, coerced: str | None
) -> None:
    assert (str(parse(text)) if parse(text) else None) == parsed
    assert (str(coerce(text)) if coerce(text) else None) == coerced


@pytest.mark.parametrize(
    ("version", "level", "identifier", "expected"),
    [
        ("1.2.3", "patch", None, "1.2.4"),
        ("1.2.3", "minor", None, "1.3.0"),
        ("1.2.3", "major", None, "2.0.0"),
        # A prerelease is finished by the bump it is on the way to.
        ("1.2.3-alpha", "patch", None, "1.2.3"),
        ("1.5.0-alpha", "minor", None, "1.5.0"),
        ("1.0.0-alpha", "major", None, "1.0.0"),
        ("1.5.0-alpha", "major", None, "2.0.0"),
        ("1.2.3", "prerelease", None, "1.2.4-0"),
        ("1.2.3", "prerelease", "beta", "1.2.4-beta.0"),
        ("1.2.3-beta.0", "prerelease", "beta", "1.2.3-beta.1"),
        ("1.2.3-alpha.1", "prerelease", "beta", "1.2.3-beta.0"),
        ("1.2.3-rc", "prerelease", None, "1.2.3-rc.0"),
        ("1.2.3", "prepatch", "beta", "1.2.4-beta.0"),
        ("1.2.3-beta.1", "prepatch", "beta", "1.2.4-beta.0"),
        ("1.2.3", "preminor", "rc", "1.3.0-rc.0"),
        ("1.2.3", "premajor", "rc", "2.0.0-rc.0"),
    ],
)
def test_increment_is_npms_inc(
    version: str, level: Any, identifier: str | None, expected: str
) -> None:
    assert str(increment(Version.parse(version), level, identifier)) == expected


def test_an_invalid_prerelease_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        increment(Version(1, 0, 0), "prerelease", "not valid!")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("v1.0.0", "v2.0.0", -1),
        ("v1.5.0-alpha", "v1.5.0", -1),
        ("v1.5.0-alpha.10", "v1.5.0-alpha.2", 1),
        ("v1", "v1.0.0", 0),
        ("1.2.3.4", "1.2.3", 1),  # compare-versions reads a fourth number
    ],
)
def test_release_tags_compare_as_compare_versions_does(a: str, b: str, expected: int) -> None:
    assert compare_tags(a, b) == expected


def test_an_unreadable_tag_cannot_be_compared() -> None:
    with pytest.raises(ValueError):
        compare_tags("nightly", "v1.0.0")


@pytest.mark.parametrize(
    ("version", "range_", "expected"),
    [
        ("3.0.0", "^3.0.0", True),
        ("3.9.9", "^3.0.0", True),
        ("4.0.0", "^3.0.0", False),
        ("2.0.0", "^3.0.0", False),
        ("0.2.5", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("1.2.9", "~1.2", True),
        ("1.3.0", "~1.2", False),
        ("2.6.0", "1.x || >=2.5.0", True),
        ("2.4.0", "1.x || >=2.5.0", False),
        ("2.0.5", "1.0 - 2.0", True),
        ("2.1.0", "1.0 - 2.0", False),
        ("1.3.0", ">1.2", True),
        ("1.2.9", "<=1.2", True),
        ("1.2.3", ">= 1.2.3", True),
        ("1.2.3-beta", "^1.2.3-alpha", True),
        ("1.2.4-beta", "^1.2.3-alpha", False),  # prereleases only of the named release
        ("7.0.0", "*", True),
    ],
)
def test_ranges_are_npm_ranges(version: str, range_: str, expected: bool) -> None:
    assert satisfies(Version.parse(version), range_) is expected


@pytest.mark.parametrize(
    ("range_", "valid"), [("^3.0.0", True), ("", True), ("garbage", False), ("1.2.3.4", False)]
)
def test_valid_range(range_: str, valid: bool) -> None:
    assert valid_range(range_) is valid


# -- the previous release ------------------------------------------------------------------


RELEASES = [
    Rel("v1.0.0", created_at=T0),
    Rel("v1.5.0-alpha", prerelease=True, created_at=T0 + timedelta(days=1)),
    Rel("v1.4.1", created_at=T0 + timedelta(days=2)),  # a hotfix published last
    Rel("v3.0.0-beta", draft=True),
    Rel("other-v9.0.0", target_commitish="legacy"),
]


@pytest.mark.parametrize(
    ("section", "prerelease", "expected"),
    [
        # The highest version; a tag compare-versions cannot read goes by creation time.
        ({}, False, "v1.4.1"),
        ({"tag-prefix": "v"}, False, "v1.4.1"),  # only tags with the prefix
        ({"filter-by-range": "^1.0.0"}, False, "v1.4.1"),
        ({"filter-by-range": "^1.0.0", "include-pre-releases": True}, False, "v1.5.0-alpha"),
        ({"filter-by-range": "^1.0.0"}, True, "v1.5.0-alpha"),  # a prerelease draft counts them
        ({"filter-by-range": "^3.0.0"}, False, None),  # drafts never count
        ({"filter-by-commitish": True, "commitish": "legacy"}, False, "other-v9.0.0"),
        ({"filter-by-commitish": True}, False, "v1.4.1"),
    ],
)
def test_previous_release(section: dict[str, Any], prerelease: bool, expected: str | None) -> None:
    options = options_from(section)
    branch = options.commitish or "main"
    found = previous_release(RELEASES, options, prerelease=prerelease, branch=branch)
    assert (found.tag if found else None) == expected


def test_a_hotfix_follows_the_release_below_it() -> None:
    options = options_from({"tag-prefix": "v"})
    found = previous_release(RELEASES, options, prerelease=False, below=Version(1, 4, 1))
    assert found is not None and found.tag == "v1.0.0"


def test_a_release_is_read_from_its_tag_less_the_prefix_then_its_name() -> None:
    assert version_of(Rel("static-v2.1.4-RC3"), "static-v") == Version(2, 1, 4, "RC3")
    assert version_of(Rel("latest", name="Release 4.2")) == Version(4, 2, 0)


# -- the bump ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "pulls", "expected"),
    [
        # No resolver: every release is a patch, whatever the labels say (issue 19).
        ({}, [pull(1, "major"), pull(2, "feature", "minor")], "patch"),
        ({"version-resolver": {"minor": {"labels": ["feature"]}}}, [pull(1, "feature")], "minor"),
        ({"version-resolver": {"minor": {"labels": ["feature"]}}}, [pull(1, "FEATURE")], "minor"),
        ({"version-resolver": {"default": "minor"}}, [pull(1, "docs")], "minor"),
        (
            {"version-resolver": {"default": "minor", "major": {"labels": ["major"]}}},
            [pull(1, "major")],
            "major",
        ),
        (
            {
                "categories": [
                    {"title": "New", "semver-increment": "minor", "when": {"label": "feature"}}
                ]
            },
            [pull(1, "feature"), pull(2, "fix")],
            "minor",
        ),
        (
            {
                "categories": [
                    {
                        "type": "version-resolver",
                        "semver-increment": "major",
                        "when": {"label": "breaking"},
                    }
                ]
            },
            [pull(1, "fix")],
            "patch",
        ),
        # A catch-all changelog category only counts for what no other category took.
        (
            {
                "categories": [
                    {"title": "Fixes", "when": {"label": "fix"}},
                    {"title": "Other", "semver-increment": "minor"},
                ]
            },
            [pull(1, "fix")],
            "patch",
        ),
        (
            {
                "categories": [
                    {"title": "Fixes", "when": {"label": "fix"}},
                    {"title": "Other", "semver-increment": "minor"},
                ]
            },
            [pull(1, "fix"), pull(2)],
            "minor",
        ),
        # An exclusive category keeps its changes from the ones after it.
        (
            {
                "categories": [
                    {"type": "version-resolver", "exclusive": True, "when": {"label": "docs"}},
                    {
                        "type": "version-resolver",
                        "semver-increment": "major",
                        "when": {"label": "api"},
                    },
                ]
            },
            [pull(1, "docs", "api")],
            "patch",
        ),
        # Excluded changes do not count.
        (
            {"exclude-labels": ["skip"], "version-resolver": {"major": {"labels": ["major"]}}},
            [pull(1, "major", "skip")],
            "patch",
        ),
        (
            {
                "categories": [
                    {
                        "title": "Breaking",
                        "semver-increment": "major",
                        "when": {"conventional": {"breaking": True}},
                    }
                ]
            },
            [pull(1, title="feat(api)!: drop v1")],
            "major",
        ),
        (
            {
                "categories": [
                    {"title": "Docs", "semver-increment": "minor", "when": {"paths": ["docs/"]}}
                ]
            },
            [pull(1, files=("docs/intro.md",))],
            "minor",
        ),
    ],
)
def test_level(section: dict[str, Any], pulls: list[MergedPull], expected: str) -> None:
    assert level_for(pulls, options_from(section)) == expected


# -- version variables ---------------------------------------------------------------------


def test_next_versions_count_from_the_previous_release() -> None:
    info = version_info(
        ReleaseOptions(),
        previous=Version(2, 0, 0),
        level="patch",
        prerelease=False,
        identifier=None,
    )
    assert info.resolved == Version(2, 0, 1)
    assert {
        k: info.variables[k]
        for k in ("$NEXT_MAJOR_VERSION", "$NEXT_MINOR_VERSION", "$NEXT_PATCH_VERSION")
    } == {
        "$NEXT_MAJOR_VERSION": "3.0.0",
        "$NEXT_MINOR_VERSION": "2.1.0",
        "$NEXT_PATCH_VERSION": "2.0.1",
    }
    assert info.variables["$NEXT_MAJOR_VERSION_MAJOR"] == "3"
    assert info.variables["$NEXT_MINOR_VERSION_MINOR"] == "1"
    assert info.variables["$NEXT_PRERELEASE_VERSION"] == "2.0.1-0"
    assert info.variables["$RESOLVED_VERSION_PATCH"] == "1"


def test_next_versions_count_from_a_forced_version() -> None:
    info = version_info(
        ReleaseOptions(),
        previous=Version(2, 0, 0),
        level="major",
        prerelease=False,
        identifier=None,
        forced=Version(2, 1, 1),
    )
    assert info.resolved_text == "2.1.1"
    assert info.variables["$NEXT_PATCH_VERSION"] == "2.1.2"
    assert info.variables["$NEXT_MINOR_VERSION"] == "2.2.0"


@pytest.mark.parametrize(
    ("previous", "identifier", "expected"),
    [
        (Version(2, 0, 0), "beta", "2.0.1-beta.0"),
        (Version(2, 0, 1, "beta.0"), "beta", "2.0.1-beta.1"),  # only the number moves on
        (None, "rc", "0.0.1-rc.0"),
    ],
)
def test_prerelease_with_an_identifier(
    previous: Version | None, identifier: str, expected: str
) -> None:
    info = version_info(
        ReleaseOptions(), previous=previous, level="patch", prerelease=True, identifier=identifier
    )
    assert info.resolved_text == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [("$MAJOR.$MINOR", "2.1"), ("$MAJOR", "3"), ("v$MAJOR-$MINOR-$PATCH$PRERELEASE", "v2-0-1")],
)
def test_version_template(template: str, expected: str) -> None:
    options = options_from({"version-template": template})
    info = version_info(
        options, previous=Version(2, 0, 0), level="patch", prerelease=False, identifier=None
    )
    value = {"$MAJOR.$MINOR": "$NEXT_MINOR_VERSION", "$MAJOR": "$NEXT_MAJOR_VERSION"}.get(
        template, "$RESOLVED_VERSION"
    )
    assert info.variables[value] == expected


def test_nothing_released_yet_counts_from_zero() -> None:
    info = version_info(
        ReleaseOptions(), previous=None, level="minor", prerelease=False, identifier=None
    )
    assert info.resolved_text == "0.1.0"


# -- the command's request -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "previous", "expected"),
    [
        ("minor", Version(1, 2, 3), "1.3.0"),
        ("MAJOR", None, "1.0.0"),
        ("v2.0.0-rc.1", None, "2.0.0-rc.1"),
    ],
)
def test_resolve_requested(request_: str, previous: Version | None, expected: str) -> None:
    assert str(resolve_requested(request_, previous)) == expected


@pytest.mark.parametrize("request_", ["banana", "1.2", ""])
def test_resolve_requested_refuses_with_the_choices(request_: str) -> None:
    with pytest.raises(VersionError, match="neither a version"):
        resolve_requested(request_, None)


def test_parse_version_message_is_for_people() -> None:
    with pytest.raises(VersionError, match=r"MAJOR\.MINOR\.PATCH"):
        parse_version("one")


@pytest.mark.parametrize(
    ("tag", "pattern", "expected"),
    [("v1.0.0", "v*", True), ("V1.0.0", "v*", False), ("nightly", "v*", False)],
)
def test_tag_matches(tag: str, pattern: str, expected: bool) -> None:
    assert tag_matches(tag, pattern) is expected
