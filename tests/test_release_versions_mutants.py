"""Versions (`ghapp/skills/release_publish/versions.py`): the cases mutation testing found
unchecked (docs/testing.md, "Mutation testing").

Each test pins a rule of release-drafter's version resolution that the tables of
test_release_versions.py did not reach: prefixes with digits in them, filters that skip one
release and keep the next, the resolver's `default` against a catch-all changelog category,
and every version variable by name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from semver import Version

from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.versions import (
    VersionError,
    level_for,
    parse_version,
    previous_release,
    resolve_requested,
    version_in_text,
    version_info,
    version_of,
)
from tests.test_release_versions import T0, Rel, options_from, pull


def test_parse_version_refuses_with_the_whole_message() -> None:
    with pytest.raises(VersionError) as refused:
        parse_version(" one ")
    assert str(refused.value) == (
        "'one' is not a semantic version; use MAJOR.MINOR.PATCH such as 1.2.3 or 1.2.3-rc.1"
    )


def test_resolve_requested_refuses_with_the_whole_message() -> None:
    with pytest.raises(VersionError) as refused:
        resolve_requested("banana", None)
    assert str(refused.value) == (
        "'banana' is neither a version (such as 1.2.3 or 1.2.3-rc.1) nor one of major, minor, patch"
    )


# -- a tag prefix with a digit: the version is read after it, never from it -----------------


def test_a_prefix_with_a_digit_is_taken_off_before_reading() -> None:
    assert version_in_text("r2-1.0.0", "r2-") == Version(1, 0, 0)
    assert version_in_text("static-v2.1.4", "static-v") == Version(2, 1, 4)
    assert version_of(Rel("latest", name="r2-1.5.0"), "r2-") == Version(1, 5, 0)


def test_releases_compare_by_version_less_a_prefix_with_a_digit() -> None:
    # 1.10.0 is the higher version although 1.9.0 was published later.
    releases = [
        Rel("r2-1.10.0", created_at=T0),
        Rel("r2-1.9.0", created_at=T0 + timedelta(days=1)),
    ]
    found = previous_release(releases, options_from({"tag-prefix": "r2-"}), prerelease=False)
    assert found is not None and found.tag == "r2-1.10.0"


def test_a_hotfix_below_reads_versions_less_a_prefix_with_a_digit() -> None:
    releases = [Rel("r2-1.0.0"), Rel("r2-1.5.0")]
    options = options_from({"tag-prefix": "r2-"})
    found = previous_release(releases, options, prerelease=False, below=Version(1, 5, 0))
    assert found is not None and found.tag == "r2-1.0.0"


def test_unreadable_tags_published_together_keep_their_order() -> None:
    releases = [Rel("nightly"), Rel("latest")]
    found = previous_release(releases, ReleaseOptions(), prerelease=False)
    assert found is not None and found.tag == "latest"


# -- filters skip one release and go on to the next ----------------------------------------


@pytest.mark.parametrize(
    ("section", "releases", "branch", "expected"),
    [
        ({"filter-by-range": "^1.0.0"}, [Rel("v2.0.0"), Rel("v1.0.0")], "main", "v1.0.0"),
        ({"tag-prefix": "v"}, [Rel("x3.0.0"), Rel("v1.0.0")], "main", "v1.0.0"),
        ({"filter-by-range": "*"}, [Rel("nightly")], "main", "nightly"),
        # Branches are compared without `refs/heads/`, on either side.
        (
            {"filter-by-commitish": True},
            [Rel("v1.0.0", target_commitish="legacy"), Rel("v2.0.0")],
            "refs/heads/legacy",
            "v1.0.0",
        ),
        (
            {"filter-by-commitish": True},
            [
                Rel("v1.0.0", target_commitish="refs/heads/main"),
                Rel("v2.0.0", target_commitish="x"),
            ],
            "main",
            "v1.0.0",
        ),
    ],
)
def test_filters_keep_the_releases_they_should(
    section: dict[str, Any], releases: list[Rel], branch: str, expected: str
) -> None:
    found = previous_release(releases, options_from(section), prerelease=False, branch=branch)
    assert found is not None and found.tag == expected


# -- the bump ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "labels", "expected"),
    [
        # A rule that matches nothing does not stop the rules after it.
        (
            {"version-resolver": {"major": {"labels": ["breaking"]}, "minor": {"labels": ["x"]}}},
            [("x",)],
            "minor",
        ),
        # The resolver's default counts only when no label matched, even if some change
        # carries none of them.
        (
            {"version-resolver": {"default": "major", "minor": {"labels": ["feature"]}}},
            [("feature",), ("docs",)],
            "minor",
        ),
        # A catch-all changelog category does not lower what another category asked for.
        (
            {
                "categories": [
                    {"title": "Breaking", "semver-increment": "major", "when": {"label": "api"}},
                    {"title": "Other", "semver-increment": "minor"},
                ]
            },
            [("api",), ()],
            "major",
        ),
    ],
)
def test_level_rules(section: dict[str, Any], labels: list[tuple[str, ...]], expected: str) -> None:
    pulls = [pull(i + 1, *names) for i, names in enumerate(labels)]
    assert level_for(pulls, options_from(section)) == expected


# -- version variables ---------------------------------------------------------------------


def test_every_variable_by_name() -> None:
    info = version_info(
        ReleaseOptions(),
        previous=Version(2, 0, 0),
        level="minor",
        prerelease=True,
        identifier="rc",
    )
    assert info.variables == {
        "$NEXT_MAJOR_VERSION": "3.0.0",
        "$NEXT_MAJOR_VERSION_MAJOR": "3",
        "$NEXT_MAJOR_VERSION_MINOR": "0",
        "$NEXT_MAJOR_VERSION_PATCH": "0",
        "$NEXT_MINOR_VERSION": "2.1.0",
        "$NEXT_MINOR_VERSION_MAJOR": "2",
        "$NEXT_MINOR_VERSION_MINOR": "1",
        "$NEXT_MINOR_VERSION_PATCH": "0",
        "$NEXT_PATCH_VERSION": "2.0.1",
        "$NEXT_PATCH_VERSION_MAJOR": "2",
        "$NEXT_PATCH_VERSION_MINOR": "0",
        "$NEXT_PATCH_VERSION_PATCH": "1",
        "$NEXT_PRERELEASE_VERSION": "2.0.1-rc.0",
        "$NEXT_PRERELEASE_VERSION_PRERELEASE": "-rc.0",
        "$RESOLVED_VERSION": "2.1.0-rc.0",
        "$RESOLVED_VERSION_MAJOR": "2",
        "$RESOLVED_VERSION_MINOR": "1",
        "$RESOLVED_VERSION_PATCH": "0",
        "$RESOLVED_VERSION_PRERELEASE": "-rc.0",
        "$VERSION": "2.1.0-rc.0",
    }


def test_variables_of_a_plain_release_have_empty_prerelease_parts() -> None:
    info = version_info(
        ReleaseOptions(),
        previous=Version(2, 0, 0),
        level="patch",
        prerelease=False,
        identifier=None,
        forced=Version(2, 0, 0, "rc.1"),
    )
    assert info.variables["$RESOLVED_VERSION_PRERELEASE"] == "-rc.1"
    plain = version_info(
        ReleaseOptions(),
        previous=Version(2, 0, 0),
        level="patch",
        prerelease=False,
        identifier=None,
    )
    assert plain.variables["$RESOLVED_VERSION_PRERELEASE"] == ""
    assert plain.variables["$NEXT_PRERELEASE_VERSION_PRERELEASE"] == "-0"
    assert plain.variables["$VERSION"] == "2.0.1"


@pytest.mark.parametrize(
    ("previous", "prerelease", "identifier", "expected"),
    [
        # An identifier alone does not make a prerelease: the draft must be one.
        (Version(2, 0, 0), False, "beta", "2.0.1"),
        # A full release after a prerelease finishes it; it does not count the number up.
        (Version(2, 0, 1, "beta.0"), False, None, "2.0.1"),
    ],
)
def test_prerelease_only_when_asked(
    previous: Version, prerelease: bool, identifier: str | None, expected: str
) -> None:
    info = version_info(
        ReleaseOptions(),
        previous=previous,
        level="patch",
        prerelease=prerelease,
        identifier=identifier,
    )
    assert info.resolved_text == expected
