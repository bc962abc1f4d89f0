"""ReleaseOptions: release-drafter v7's keys and defaults, what it refuses, what ghapp adds."""

from __future__ import annotations

from typing import Any

import pytest

from ghapp.options import validate_options
from ghapp.repo_config import RepoConfigError, parse_config_text
from ghapp.skills.release_publish.options import GHAPP_TEMPLATE, ReleaseOptions


def options_from(section: dict[str, Any]) -> ReleaseOptions:
    return validate_options("release-publish", ReleaseOptions, section)  # type: ignore[return-value]


def test_release_drafters_defaults() -> None:
    options = ReleaseOptions()
    assert options.change_template == "* $TITLE (#$NUMBER) $AUTHORS"
    assert options.change_author_template == "$AUTHOR_MENTION"
    assert options.change_authors_separator == ", "
    assert options.change_title_escapes == ""
    assert options.no_changes_template == "* No changes"
    assert options.no_contributors_template == "No contributors"
    assert options.category_template == "## $TITLE"
    assert options.version_template == "$MAJOR.$MINOR.$PATCH$PRERELEASE"
    assert (options.sort_by, options.sort_direction) == ("merged_at", "descending")
    assert options.version_resolver.default == "patch"
    assert options.version_resolver.minor.labels == ()  # no label bumps by default
    assert not options.include_pre_releases and not options.is_prerelease


def test_ghapps_own_defaults() -> None:
    options = ReleaseOptions()
    assert options.effective_tag_pattern == "v*"
    assert options.effective_template == GHAPP_TEMPLATE and options.lists_commits
    assert options.effective_tag_template == "v$RESOLVED_VERSION"
    assert options.effective_name_template == "v$RESOLVED_VERSION"
    assert options.draft_next and not options.exclude_bots and not options.comment_on_released
    assert options.dispatch_event is None and options.build_timeout_minutes == 60
    assert options.max_concurrent_builds == 2
    assert options.command_permission == "maintain"
    assert options.ignored_keys == ()


def test_a_template_makes_the_notes_release_drafters() -> None:
    options = options_from({"template": "$CHANGES"})
    assert not options.lists_commits
    assert options_from(
        {"template": "$CHANGES", "commits-when-no-pull-requests": True}
    ).lists_commits


def test_a_tag_prefix_replaces_the_v_of_ghapps_tag() -> None:
    options = options_from({"tag-prefix": "app-v"})
    assert options.effective_tag_template == "app-v$RESOLVED_VERSION"
    assert options.effective_tag_pattern == "app-v*"
    assert options_from({"tag-prefix": "app-v", "tag-pattern": "*"}).effective_tag_pattern == "*"
    named = options_from(
        {"tag-template": "v$NEXT_PATCH_VERSION", "name-template": "Release $RESOLVED_VERSION"}
    )
    assert (named.effective_tag_template, named.effective_name_template) == (
        "v$NEXT_PATCH_VERSION",
        "Release $RESOLVED_VERSION",
    )


EVERY_KEY = """\
release-publish:
  _extends: org/.github
  template: "$CHANGES"
  header: "Top"
  footer: "Bottom"
  name-template: "v$RESOLVED_VERSION"
  tag-template: "v$NEXT_PATCH_VERSION"
  tag-prefix: "v"
  version-template: "$MAJOR.$MINOR"
  change-template: "- $TITLE @$AUTHOR"
  change-author-template: "$AUTHOR"
  change-authors-separator: " / "
  change-authors-final-separator: " and "
  change-title-escapes: '\\<*_&'
  no-changes-template: "Nothing"
  category-template: "### $TITLE"
  exclude-labels: [skip]
  include-labels: [ship]
  exclude-paths: [docs/]
  include-paths: [src/]
  exclude-contributors: [bot]
  no-contributors-template: "Nobody"
  new-contributor-template: "* $AUTHOR_MENTION"
  no-new-contributor-template: "None"
  sort-by: title
  sort-direction: ascending
  filter-by-commitish: true
  filter-by-range: "^2.0.0"
  pull-request-limit: 10
  history-limit: 20
  replacers:
    - search: "/foo/g"
      replace: "bar"
  version-resolver:
    major: {labels: [major]}
    minor: {labels: [minor]}
    patch: {labels: [patch]}
    default: minor
  prerelease: true
  prerelease-identifier: rc
  include-pre-releases: true
  latest: false
  commitish: main
  autolabeler:
    - label: chore
      files: ['*.md']
  branches: [main]
  categories:
    - title: Features
      labels: [feature]
      collapse-after: -1
    - title: Fixes
      exclusive: true
      semver-increment: patch
      when:
        - labels: [bug, fix]
          labels-mode: any
        - paths: [src/**]
          paths-mode: only
        - conventional: {type: fix, scopes: [api], breaking: false}
    - type: version-resolver
      semver-increment: major
      when: {conventional: true}
"""


def test_every_release_drafter_v7_key_is_accepted() -> None:
    sections = parse_config_text(EVERY_KEY, ".github/ghapp.yml")
    options = options_from(sections["release-publish"])
    assert options.ignored_keys == (
        "autolabeler",
        "branches",
        "history_limit",
        "pull_request_limit",
    )
    assert options.filter_by_range == "^2.0.0" and options.latest is False
    kinds = [rule.kind for rule in options.rules]
    # The older top-level keys become the rules release-drafter builds from them.
    assert kinds == [
        "changelog",
        "changelog",
        "version-resolver",
        "pre-exclude",
        "pre-include",
        "version-resolver",  # version-resolver.default: minor
        "version-resolver",
        "version-resolver",
        "version-resolver",
    ]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"exclude-lables": ["x"]}, "exclude_lables"),  # a typo is not silently ignored
        ({"categories": [{"labels": ["x"]}]}, "title"),  # a changelog category needs one
        ({"categories": [{"title": "A"}, {"title": "B"}]}, "only one changelog category"),
        (
            {"categories": [{"type": "pre-exclude", "exclusive": True, "when": {"label": "x"}}]},
            "exclusive",
        ),
        (
            {
                "exclude-labels": ["x"],
                "categories": [{"type": "pre-exclude", "when": {"label": "y"}}],
            },
            "pre-exclude",
        ),
        (
            {
                "version-resolver": {"default": "minor"},
                "categories": [{"type": "version-resolver"}],
            },
            "version_resolver.default",
        ),
        ({"filter-by-range": "not a range"}, "filter_by_range"),
        ({"replacers": [{"search": None, "replace": ""}]}, "search"),
        ({"replacers": [{"search": "", "replace": ""}]}, "search"),
        ({"collapse-after": 3}, "collapse_after"),  # a category key, not a top-level one
        ({"categories": [{"title": "A", "collapse-after": -2}]}, "collapse_after"),
        ({"categories": [{"title": "A", "type": "other"}]}, "type"),
        ({"categories": [{"title": "A", "when": {"labels-mode": "some"}}]}, "labels_mode"),
        ({"sort-by": "author"}, "sort_by"),
        ({"tag-template": "release"}, "must contain a version"),
        ({"prerelease-identifier": "not valid!"}, "prerelease_identifier"),
        ({"command-permission": "read"}, "command_permission"),
        ({"build-timeout-minutes": 0}, "build_timeout_minutes"),
        ({"max-concurrent-builds": 0}, "max_concurrent_builds"),
        ({"ignored_keys": ["x"]}, "reported by ghapp"),
    ],
)
def test_what_release_drafter_refuses_is_refused(section: dict[str, Any], message: str) -> None:
    with pytest.raises(RepoConfigError, match=message):
        options_from(section)


@pytest.mark.parametrize(
    "template",
    ["v$RESOLVED_VERSION", "v$NEXT_PATCH_VERSION", "$NEXT_MAJOR_VERSION.x", "v$VERSION"],
)
def test_a_tag_template_may_use_any_version_variable(template: str) -> None:
    assert options_from({"tag-template": template}).tag_template == template


@pytest.mark.parametrize(
    ("section", "prerelease"),
    [
        ({}, False),
        ({"prerelease": True}, True),
        ({"prerelease-identifier": "rc"}, True),
        ({"prerelease": False, "prerelease-identifier": "rc"}, True),  # as release-drafter
    ],
)
def test_prerelease(section: dict[str, Any], prerelease: bool) -> None:
    assert options_from(section).is_prerelease is prerelease


def test_a_category_label_may_be_one_string() -> None:
    [rule] = options_from({"categories": [{"title": "A", "labels": "feature", "label": "x"}]}).rules
    assert rule.when[0].labels == ("feature", "x")
