"""onboarding's pure decisions: the starter file, release-drafter's file carried over,
the label plan table (from label-sync's offered planner) and the pull request's body."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from ghapp.bus import load_skills
from ghapp.options import validate_options
from ghapp.repo_config import RepoConfigError
from ghapp.skills import label_sync
from ghapp.skills.onboarding.starter import (
    DEFAULT_RELEASE_SECTION,
    RepoLabel,
    label_section,
    plan_table,
    proposal_body,
    starter_file,
    translate_release_drafter,
)
from ghapp.skills.release_publish.options import ReleaseOptions

LABELS = [
    RepoLabel("help wanted", "008672", "Extra attention is needed"),
    RepoLabel("bug", "D73A4A", "Something isn't working"),
    RepoLabel("000000", "000000", None),  # a name and a color YAML would read as numbers
    RepoLabel("yes", "ededed", ""),
]


def plan_rows() -> Callable[..., list[dict[str, str]]]:
    """The planner as another skill gets it (`ctx.offered("label-sync", "plan-rows")`)."""
    return label_sync.skill.offers["plan-rows"]


def test_the_labels_are_declared_as_they_are() -> None:
    assert label_section(LABELS) == {
        "labels": [
            {"name": "000000", "color": "000000"},
            {"name": "bug", "color": "d73a4a", "description": "Something isn't working"},
            {"name": "help wanted", "color": "008672", "description": "Extra attention is needed"},
            {"name": "yes", "color": "ededed"},
        ]
    }


def test_the_starter_file_reads_back_valid_for_every_skill() -> None:
    text = starter_file("octo-org/hello", LABELS, translate_release_drafter(None))
    config = yaml.safe_load(text)
    assert list(config) == ["label-sync", "release-publish", "milestone-progress"]
    # Quoted where YAML would otherwise read a number or a boolean.
    assert config["label-sync"]["labels"][0] == {"name": "000000", "color": "000000"}
    assert config["label-sync"]["labels"][3]["name"] == "yes"
    skills = load_skills()
    for name, section in config.items():
        validate_options(name, skills[name].options, section)
    assert "octo-org/hello" in text.splitlines()[0]


def test_merging_the_starter_labels_plans_nothing() -> None:
    existing = [
        {"name": lb.name, "color": lb.color.lower(), "description": lb.description, "id": n}
        for n, lb in enumerate(LABELS, 1)
    ]
    assert plan_rows()(existing, label_section(LABELS)) == []


def test_the_plan_rows_are_label_syncs_plan() -> None:
    existing = [{"name": "defect", "color": "ee0701", "description": None, "id": 7}]
    section = {
        "labels": [
            {"name": "bug", "color": "d73a4a", "aliases": ["defect"]},
            {"name": "docs", "color": "0075ca"},
        ],
        "delete_undeclared": True,
    }
    rows = plan_rows()(existing, section)
    assert [row["change"] for row in rows] == ["rename", "create"]
    assert "`defect` → `bug`" in rows[0]["what"]
    table = plan_table(rows)
    assert table.splitlines()[:2] == ["| # | Change | What |", "| --- | --- | --- |"]
    assert table.splitlines()[2].startswith("| 1 | rename | Rename `defect` → `bug`")
    assert table.splitlines()[3].startswith("| 2 | create | Create `docs`")


def test_an_invalid_section_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="color"):
        plan_rows()([], {"labels": [{"name": "bug", "color": "red"}]})


def test_no_changes_and_missing_planner_read_plainly() -> None:
    assert plan_table([]) == "**No changes**: every label stays exactly as it is."
    assert "not installed" in plan_table(None)
    assert "could not be computed: boom" in plan_table([], problem="boom")
    # A pipe in a label name does not break the table.
    assert "a\\|b" in plan_table([{"change": "create", "what": "Create `a|b`"}])


RELEASE_DRAFTER = """\
---
# comments survive
name-template: 'v$RESOLVED_VERSION'
tag-template: 'v$RESOLVED_VERSION'
exclude-labels:
  - skip-changelog
version-resolver:
  major:
    labels: [breaking]
  default: minor
template: |
  ## Changes

  $CHANGES
"""


def test_release_drafter_is_carried_over_as_written() -> None:
    release = translate_release_drafter(RELEASE_DRAFTER)
    assert release.source == "release-drafter"
    assert release.notes == ()
    assert release.text.startswith("# comments survive\n")
    text = starter_file("o/r", [], release)
    section = yaml.safe_load(text)["release-publish"]
    assert section == yaml.safe_load(RELEASE_DRAFTER)
    # Left-out levels stay out: the next version resolves as release-drafter resolves it.
    assert set(section["version-resolver"]) == {"major", "default"}
    options = validate_options("release-publish", ReleaseOptions, section)
    assert isinstance(options, ReleaseOptions)
    assert options.version_resolver.minor.labels == ()


def test_extends_is_not_carried_over_and_is_explained() -> None:
    release = translate_release_drafter("_extends: .github\ntemplate: $CHANGES\n")
    assert yaml.safe_load(release.text) == {"template": "$CHANGES"}
    assert "_extends: .github" in release.notes[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("categories: [unclosed\n", "not valid YAML"), ("- a list\n", "not a mapping")],
)
def test_an_unreadable_release_drafter_file_falls_back_to_the_common_layout(
    text: str, problem: str
) -> None:
    release = translate_release_drafter(text)
    assert release.source == "default"
    assert release.text == DEFAULT_RELEASE_SECTION
    assert problem in release.notes[0]


def test_an_empty_release_drafter_file_gives_an_empty_section() -> None:
    text = starter_file("o/r", [], translate_release_drafter(""))
    assert yaml.safe_load(text)["release-publish"] == {}


def test_the_common_layout_makes_features_minor() -> None:
    section = yaml.safe_load(DEFAULT_RELEASE_SECTION)
    options = validate_options("release-publish", ReleaseOptions, section)
    assert isinstance(options, ReleaseOptions)
    assert set(options.version_resolver.minor.labels) >= {"feature", "enhancement"}
    assert options.version_resolver.default == "patch"


def test_a_release_drafter_file_invalid_for_ghapp_is_still_carried_over() -> None:
    """The file is carried as written; if ghapp cannot read it, the config check reports
    it on the pull request's commit, where its author sees it."""
    release = translate_release_drafter("tag-template: 'fixed'\n")
    section = yaml.safe_load(starter_file("o/r", [], release))["release-publish"]
    with pytest.raises(RepoConfigError, match="tag_template"):
        validate_options("release-publish", ReleaseOptions, section)


def test_the_body_explains_each_section_and_what_merging_changes() -> None:
    body = proposal_body(
        labels=3,
        release=translate_release_drafter(None),
        plan=plan_table([]),
        slug="my-app",
    )
    assert "the 3 label(s)" in body
    assert "**`label-sync`**" in body and "**`milestone-progress`**" in body
    assert "release-drafter's common layout" in body
    assert "### What merging changes\n\n**No changes**" in body
    assert "`@my-app config`" in body


def test_the_manifest_asks_for_what_onboarding_needs() -> None:
    from ghapp.manifest import build_manifest
    from ghapp.skills import onboarding

    permissions = build_manifest([onboarding.skill])["default_permissions"]
    assert permissions["contents"] == "write"  # the branch and the commit on it
    assert permissions["pull_requests"] == "write"  # the pull request
    assert "config" in onboarding.skill.commands
