"""ReleaseOptions: defaults, validation, and a release-drafter configuration moved over."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from ghapp.skills.release_publish.notes import MergedPull, render_notes, render_release_name
from ghapp.skills.release_publish.options import (
    DEFAULT_CHANGE_TITLE_ESCAPES,
    Category,
    ReleaseOptions,
)
from ghapp.skills.release_publish.versions import (
    parse_version,
    render_tag,
    resolve_from_labels,
)


def snake_keys(value: Any) -> Any:
    """What ghapp's config loader does before validation: `-` → `_` in keys, at every depth."""
    if isinstance(value, dict):
        return {str(k).replace("-", "_"): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(item) for item in value]
    return value


def test_defaults() -> None:
    options = ReleaseOptions()
    assert options.name_template == "v$RESOLVED_VERSION"
    assert options.tag_template == "v$RESOLVED_VERSION"
    assert options.tag_pattern == "v*"
    assert options.change_template == "- $TITLE (#$NUMBER) @$AUTHOR"
    assert options.change_title_escapes == DEFAULT_CHANGE_TITLE_ESCAPES
    assert set(DEFAULT_CHANGE_TITLE_ESCAPES) == set("\\<*_&`#@")
    assert options.category_template == "## $TITLE"
    assert "$CHANGES" in options.template and "$CONTRIBUTORS" in options.template
    assert options.version_resolver.major.labels == ("major", "breaking")
    assert options.version_resolver.minor.labels == ("minor", "feature", "enhancement")
    assert options.version_resolver.patch.labels == ("patch", "fix", "bugfix", "bug")
    assert options.version_resolver.default == "patch"
    assert options.exclude_bots and options.draft_next
    assert not options.prerelease and not options.unpack_artifacts
    assert not options.comment_on_released
    assert options.dispatch_event is None
    assert options.build_timeout_minutes == 60
    assert options.released_comment_template == "🎉 Released in [$TAG]($URL)"
    assert options.command_permission == "maintain"
    assert options.ignored_keys == ()


@pytest.mark.parametrize("template", ["v$RESOLVED_VERSION", "v$VERSION", "$VERSION-final"])
def test_tag_template_accepts_either_version_variable(template: str) -> None:
    assert ReleaseOptions(tag_template=template).tag_template == template


@pytest.mark.parametrize("template", ["v1", "v$NEXT_PATCH_VERSION", ""])
def test_tag_template_must_name_the_version(template: str) -> None:
    with pytest.raises(ValidationError, match=r"must contain \$RESOLVED_VERSION"):
        ReleaseOptions(tag_template=template)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"exclude_lables": ["x"]}, "exclude_lables"),  # a typo is not silently ignored
        ({"command_permission": "read"}, "command_permission"),
        ({"build_timeout_minutes": 0}, "build_timeout_minutes"),
        ({"version_resolver": {"default": "huge"}}, "default"),
        ({"version_resolver": {"mayor": {"labels": ["x"]}}}, "mayor"),
        ({"categories": [{"labels": ["x"]}]}, "title"),
        ({"categories": [{"title": "A", "colour": "red"}]}, "colour"),
        ({"ignored_keys": ["x"]}, "reported by ghapp"),
        (
            {"categories": [{"title": "A"}, {"title": "B"}]},
            "only one category may have no labels",
        ),
    ],
)
def test_invalid_options_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ReleaseOptions.model_validate(data)


def test_release_drafter_keys_we_do_not_implement_are_reported() -> None:
    options = ReleaseOptions.model_validate(
        {
            "autolabeler": [{"label": "docs", "files": ["*.md"]}],
            "replacers": [{"search": "x", "replace": "y"}],
            "sort_by": "title",
            "filter_by_commitish": True,
            "categories": [{"title": "Fixes", "label": "fix", "collapse": True}],
            "_extends": "owner/.github",
        }
    )
    assert options.ignored_keys == (
        "autolabeler",
        "categories[0].collapse",
        "filter_by_commitish",
        "replacers",
        "sort_by",
    )
    assert options.categories == (Category(title="Fixes", label="fix"),)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"title": "A", "label": "x"}, ("x",)),
        ({"title": "A", "labels": ["x", "y"]}, ("x", "y")),
        ({"title": "A", "label": "z", "labels": ["x"]}, ("x", "z")),
        ({"title": "A", "label": "x", "labels": ["x"]}, ("x",)),
        ({"title": "Other"}, ()),
    ],
)
def test_category_takes_label_and_labels(data: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert Category.model_validate(data).all_labels == expected


def test_partial_version_resolver_keeps_the_other_defaults() -> None:
    options = ReleaseOptions.model_validate(
        {"version_resolver": {"major": {"labels": ["semver:major"]}}}
    )
    assert options.version_resolver.major.labels == ("semver:major",)
    assert options.version_resolver.minor.labels == ("minor", "feature", "enhancement")


RELEASE_DRAFTER_YML = """\
name-template: 'Version $RESOLVED_VERSION'
tag-template: 'v$RESOLVED_VERSION'
categories:
  - title: '🚀 Features'
    labels:
      - 'feature'
      - 'enhancement'
  - title: '🐛 Bug Fixes'
    labels:
      - 'fix'
      - 'bugfix'
      - 'bug'
  - title: '🧰 Maintenance'
    label: 'chore'
    collapse-after: 3
exclude-labels:
  - 'skip-changelog'
change-template: '* $TITLE @$AUTHOR (#$NUMBER)'
change-title-escapes: '\\<*_&'
version-resolver:
  major:
    labels:
      - 'major'
  minor:
    labels:
      - 'minor'
      - 'feature'
  patch:
    labels:
      - 'patch'
  default: patch
exclude-contributors:
  - 'release-bot'
template: |
  ## Changes since $PREVIOUS_TAG

  $CHANGES

  Thanks to $CONTRIBUTORS
autolabeler:
  - label: 'chore'
    files:
      - '*.md'
  - label: 'bug'
    branch:
      - '/fix\\/.+/'
"""


def test_a_release_drafter_file_moves_over() -> None:
    options = ReleaseOptions.model_validate(snake_keys(yaml.safe_load(RELEASE_DRAFTER_YML)))

    assert options.ignored_keys == ("autolabeler",)
    assert [c.title for c in options.categories] == [
        "🚀 Features",
        "🐛 Bug Fixes",
        "🧰 Maintenance",
    ]
    assert options.categories[2].all_labels == ("chore",)
    assert options.categories[2].collapse_after == 3
    assert options.exclude_labels == ("skip-changelog",)
    assert options.change_title_escapes == "\\<*_&"
    assert options.version_resolver.minor.labels == ("minor", "feature")

    when = datetime(2024, 5, 1, tzinfo=UTC)
    pulls = [
        MergedPull(1, "Add *stars*", "alice", False, ("feature",), when, "https://x/1"),
        MergedPull(2, "Fix crash", "bob", False, ("bug",), when, "https://x/2"),
        MergedPull(3, "Bump deps", "release-bot", False, ("skip-changelog",), when, "https://x/3"),
        MergedPull(4, "Tidy", "carol", False, ("chore",), when, "https://x/4"),
    ]
    latest = parse_version("1.4.2")
    version = resolve_from_labels([p.labels for p in pulls], options.version_resolver, latest)
    assert str(version) == "1.5.0"
    assert render_tag(options.tag_template, version) == "v1.5.0"
    assert render_release_name(options, version=version, previous_tag="v1.4.2") == "Version 1.5.0"

    notes = render_notes(pulls, options, version=version, previous_tag="v1.4.2")
    assert notes == (
        "## Changes since v1.4.2\n"
        "\n"
        "## 🚀 Features\n"
        "\n"
        "* Add \\*stars\\* @alice (#1)\n"
        "\n"
        "## 🐛 Bug Fixes\n"
        "\n"
        "* Fix crash @bob (#2)\n"
        "\n"
        "## 🧰 Maintenance\n"
        "\n"
        "* Tidy @carol (#4)\n"
        "\n"
        "Thanks to @alice, @bob and @carol"
    )
