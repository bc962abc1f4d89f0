"""Validation of the `label-sync:` section: what is accepted and what its author is told."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ghapp.skills.label_sync.options import DeclaredLabel, LabelSyncOptions, StatusLabels


def test_empty_section_has_defaults() -> None:
    options = LabelSyncOptions.model_validate({})
    assert options.labels == []
    assert options.delete_undeclared is False
    assert options.strict is False
    assert options.exclusive_scopes == []
    assert options.scope_separator == ":"
    assert options.status_labels == StatusLabels()
    assert options.command_permission == "write"


def test_null_values_from_bare_yaml_keys_mean_empty() -> None:
    options = LabelSyncOptions.model_validate(
        {"labels": None, "exclusive_scopes": None, "status_labels": None}
    )
    assert options.labels == []
    assert options.exclusive_scopes == []
    assert options.status_labels == StatusLabels()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"name": "bug", "color": "D73A4A"}, ("bug", "d73a4a", None, [], False)),
        ({"name": " bug ", "color": "#d73a4a"}, ("bug", "d73a4a", None, [], False)),
        # `description:` written with nothing after it clears the description.
        (
            {"name": "bug", "color": "d73a4a", "description": None, "aliases": None},
            ("bug", "d73a4a", "", [], False),
        ),
        (
            {"name": "bug", "color": "d73a4a", "aliases": "defect"},
            ("bug", "d73a4a", None, ["defect"], False),
        ),
        # An alias equal to the label's own name, or repeated, adds nothing and is dropped.
        (
            {"name": "bug", "color": "d73a4a", "aliases": ["Bug", "defect", "DEFECT"]},
            ("bug", "d73a4a", None, ["defect"], False),
        ),
        ({"name": "x" * 50, "color": "000000"}, ("x" * 50, "000000", None, [], False)),
        (
            {"name": "bug", "color": "000000", "description": "d" * 100},
            ("bug", "000000", "d" * 100, [], False),
        ),
        # github-label-sync's entries: color and description may be left out (kept as
        # they are), and `delete: true` marks a label for deletion.
        ({"name": "bug"}, ("bug", None, None, [], False)),
        (
            {"name": "wontfix", "delete": True, "aliases": ["invalid"]},
            ("wontfix", None, None, ["invalid"], True),
        ),
        ({"name": "bug", "description": "", "delete": False}, ("bug", None, "", [], False)),
    ],
)
def test_declared_label_is_normalised(raw: dict[str, Any], expected: tuple[Any, ...]) -> None:
    label = DeclaredLabel.model_validate(raw)
    assert (label.name, label.color, label.description, label.aliases, label.delete) == expected


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"labels": [{"name": "bug", "color": "d73a4"}]}, "label `bug` has color `d73a4`"),
        ({"labels": [{"name": "bug", "color": "zzzzzz"}]}, "6 hex digits"),
        ({"labels": [{"name": "bug", "color": None}]}, "must be quoted"),
        ({"labels": [{"name": "bug", "color": 1122}]}, "YAML read as a number"),
        ({"labels": [{"name": "x" * 51, "color": "000000"}]}, "51 characters long"),
        ({"labels": [{"name": "  ", "color": "000000"}]}, "must not be empty"),
        ({"labels": [{"name": 7, "color": "000000"}]}, "must be text"),
        (
            {"labels": [{"name": "bug", "color": "000000", "description": "d" * 101}]},
            "label `bug` has a description of 101 characters",
        ),
        (
            {"labels": [{"name": "bug", "color": "000000", "aliases": ["y" * 51]}]},
            "alias of label `bug`",
        ),
        (
            {"labels": [{"name": "bug", "color": "000000"}, {"name": "Bug", "color": "111111"}]},
            "label `Bug` is declared twice (also as `bug`)",
        ),
        (
            {
                "labels": [
                    {"name": "bug", "color": "000000", "aliases": ["defect"]},
                    {"name": "kind:bug", "color": "111111", "aliases": ["Defect"]},
                ]
            },
            "alias `Defect` is listed under both `bug` and `kind:bug`",
        ),
        ({"labels": [{"name": "bug", "colour": "000000"}]}, "colour"),
        ({"labels": [{"name": "bug", "delete": "maybe"}]}, "labels.0.delete"),
        (
            {
                "labels": [
                    {"name": "bug", "aliases": ["defect"]},
                    {"name": "defect", "delete": True},
                ]
            },
            "`defect` is marked `delete: true` (under `defect`) but is also kept by `bug`",
        ),
        (
            {"labels": [{"name": "bug"}, {"name": "wontfix", "delete": True, "aliases": ["Bug"]}]},
            "`Bug` is marked `delete: true` (under `wontfix`) but is also kept by `bug`",
        ),
        ({"delete_undeclard": True}, "delete_undeclard"),
        ({"command_permission": "read"}, "command_permission"),
        ({"exclusive_scopes": ["priority", " "]}, "empty scope"),
        ({"scope_separator": ""}, "scope_separator must not be empty"),
        ({"status_labels": {"pr_mergd": "done"}}, "pr_mergd"),
        ({"status_labels": {"pr_merged": ""}}, "status label for pr_merged must not be empty"),
    ],
)
def test_invalid_section_is_explained(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        LabelSyncOptions.model_validate(section)
    assert message in str(caught.value)


def test_alias_may_name_another_declared_label_for_chains_and_swaps() -> None:
    options = LabelSyncOptions.model_validate(
        {
            "labels": [
                {"name": "a", "color": "000000", "aliases": ["b"]},
                {"name": "b", "color": "111111", "aliases": ["a"]},
            ]
        }
    )
    assert [label.aliases for label in options.labels] == [["b"], ["a"]]


def test_status_labels_lookup() -> None:
    status = StatusLabels(pr_opened="status:in-progress", pr_merged="status:done")
    status = status.model_copy(update={"issue_opened": "Status:In-Progress"})
    assert status.label_for("pr_merged") == "status:done"
    assert status.label_for("issue_closed_completed") is None
    assert status.label_for("no_such_event") is None
    # Each status label once, case-insensitively, in field order.
    assert status.all_labels() == ["Status:In-Progress", "status:done"]
