"""A whole release planned from a release-drafter file: body assembly, name and tag,
requests that force a version, prerelease and latest flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ghapp.options import validate_options
from ghapp.skills.release_publish.notes import MergedPull
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.planner import Overrides, Repository, plan_release, release_flags

T0 = datetime(2026, 5, 1, tzinfo=UTC)
REPO = Repository("octo-org", "hello")


@dataclass(frozen=True)
class Rel:
    tag: str
    name: str | None = None
    draft: bool = False
    prerelease: bool = False
    created_at: datetime = T0
    target_commitish: str = "main"


def options_from(section: dict[str, Any]) -> ReleaseOptions:
    return validate_options("release-publish", ReleaseOptions, section)  # type: ignore[return-value]


def pull(number: int, title: str, *labels: str) -> MergedPull:
    return MergedPull(
        number=number,
        title=title,
        author="mona",
        author_is_bot=False,
        labels=labels,
        merged_at=T0 + timedelta(hours=number),
        url=f"https://github.com/octo-org/hello/pull/{number}",
    )


PULLS = [pull(1, "Add search", "feature"), pull(2, "Fix crash", "bug")]


def plan(section: dict[str, Any], previous: str | None = "v2.0.0", **overrides: Any) -> Any:
    return plan_release(
        options_from(section),
        repository=REPO,
        previous=Rel(previous) if previous else None,
        pulls=PULLS,
        overrides=Overrides(**overrides),
    )


@pytest.mark.parametrize(
    ("section", "body"),
    [
        # header + template + footer, joined as written: no blank lines added.
        ({"template": "Middle", "header": "Top", "footer": "Bottom"}, "TopMiddleBottom"),
        (
            {"template": "Middle\n", "header": "Top\n", "footer": "Bottom\n"},
            "Top\nMiddle\nBottom\n",
        ),
        (
            {"template": "$OWNER/$REPOSITORY $PREVIOUS_TAG...v$RESOLVED_VERSION"},
            "octo-org/hello v2.0.0...v2.0.1",
        ),
        (
            {
                "template": "$NEXT_MAJOR_VERSION $NEXT_MINOR_VERSION "
                "$NEXT_PATCH_VERSION $NEXT_PRERELEASE_VERSION"
            },
            "3.0.0 2.1.0 2.0.1 2.0.1-0",
        ),
        ({"template": "$NEXT_MAJOR_VERSION_MAJOR.$NEXT_MINOR_VERSION_MINOR"}, "3.1"),
        ({"template": "A big thanks to: $CONTRIBUTORS"}, "A big thanks to: @mona"),
        # Replacers see the changes before the version variables are filled in.
        (
            {"template": "$CHANGES", "replacers": [{"search": "Fix", "replace": "Repair"}]},
            "* Repair crash (#2) @mona\n* Add search (#1) @mona",
        ),
        ({"template": "$UNKNOWN stays"}, "$UNKNOWN stays"),
    ],
)
def test_body(section: dict[str, Any], body: str) -> None:
    assert plan(section).body == body


def test_ghapps_default_notes_when_the_file_has_no_template() -> None:
    assert plan({}).body == (
        "## What's changed\n\n* Fix crash (#2) @mona\n* Add search (#1) @mona\n\n"
        "**Contributors:** @mona"
    )


@pytest.mark.parametrize(
    ("section", "overrides", "name", "tag"),
    [
        ({}, {}, "v2.0.1", "v2.0.1"),  # ghapp fills what release-drafter leaves empty
        ({"tag-prefix": "app-"}, {}, "app-2.0.1", "app-2.0.1"),
        ({"name-template": "Release $RESOLVED_VERSION 🌈"}, {}, "Release 2.0.1 🌈", "v2.0.1"),
        (
            {"tag-template": "v$NEXT_MINOR_VERSION", "version-template": "$MAJOR.$MINOR"},
            {},
            "v2.1",
            "v2.1",
        ),
        ({"version-resolver": {"minor": {"labels": ["feature"]}}}, {}, "v2.1.0", "v2.1.0"),
        # A forced version is used as it is.
        ({}, {"version": "2.5.0"}, "v2.5.0", "v2.5.0"),
        ({"tag-template": "v$RESOLVED_VERSION"}, {"tag": "v1.0.2-rc"}, "v1.0.2-rc", "v1.0.2-rc"),
        ({"version-template": "$MAJOR.$MINOR.$PATCH"}, {"tag": "v1.0.2-rc"}, "v1.0.2", "v1.0.2-rc"),
        # The version is read from the forced name before it is rendered: release-drafter
        # finds the `1` of `RC1` (npm's coerce), and so does ghapp.
        ({}, {"name": "v$RESOLVED_VERSION-RC1"}, "v1.0.0-RC1", "v1.0.0"),
        (
            {"prerelease": True, "prerelease-identifier": "beta"},
            {},
            "v2.0.1-beta.0",
            "v2.0.1-beta.0",
        ),
    ],
)
def test_name_and_tag(
    section: dict[str, Any], overrides: dict[str, Any], name: str, tag: str
) -> None:
    planned = plan(section, **overrides)
    assert (planned.name, planned.tag) == (name, tag)


def test_next_versions_count_from_a_forced_version() -> None:
    planned = plan({"template": "$NEXT_PATCH_VERSION / $RESOLVED_VERSION"}, version="2.1.1")
    assert planned.body == "2.1.2 / 2.1.1"
    assert planned.version_text == "2.1.1"


def test_nothing_released_yet() -> None:
    planned = plan({"template": "[$PREVIOUS_TAG] $RESOLVED_VERSION"}, previous=None)
    assert planned.body == "[] 0.0.1" and planned.previous_tag is None


@pytest.mark.parametrize(
    ("section", "overrides", "prerelease", "latest"),
    [
        ({}, {}, False, True),
        ({"prerelease": True}, {}, True, False),
        ({"latest": False}, {}, False, False),
        ({"prerelease": True}, {"prerelease": False}, False, True),
        ({}, {"prerelease": True}, True, False),
        ({"prerelease-identifier": "alpha"}, {}, True, False),
        # A request saying "not a prerelease" wins over the file's identifier…
        ({"prerelease-identifier": "alpha"}, {"prerelease": False}, False, True),
        # …unless it names an identifier itself.
        ({}, {"prerelease": False, "prerelease_identifier": "beta"}, True, False),
    ],
)
def test_prerelease_and_latest(
    section: dict[str, Any], overrides: dict[str, Any], prerelease: bool, latest: bool
) -> None:
    flags = release_flags(options_from(section), Overrides(**overrides))
    assert flags[:2] == (prerelease, latest)


def test_a_request_without_prerelease_keeps_a_plain_patch() -> None:
    # The file names an identifier, the request says "not a prerelease": a plain bump.
    planned = plan({"prerelease-identifier": "alpha"}, prerelease=False)
    assert (planned.tag, planned.prerelease) == ("v2.0.1", False)
