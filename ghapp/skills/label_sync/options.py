"""The `label-sync:` section of `.github/ghapp.yml`, as pydantic models.

This module owns what a valid section looks like and the messages its author sees when it
is not. Keys arrive normalised (the config loader turns `-` into `_` in mapping keys), so
fields are snake_case; unknown keys are rejected so that a typo such as `delete_undeclard`
is reported instead of silently doing nothing.

A label list written for github-label-sync works as it is: `color` and `description`
may be left out (the label keeps its current ones), and `delete: true` marks a label to
delete wherever it, or one of its aliases, exists.

Aliases (old names) may name another declared label: `c` with alias `b` and `b` with alias
`a` is a rename chain (`b` becomes `c`, then `a` becomes `b`), and two labels listing each
other are a swap. `matching` explains why both settle once applied (a chain link acts only
while its new name is missing; a swap is applied once). What is refused is ambiguity: two
labels with the same name, one old name listed under two labels, or a name both kept and
marked `delete: true`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "CommandPermission",
    "DeclaredLabel",
    "LabelSyncOptions",
    "StatusLabels",
    "normalise_color",
]

# GitHub's own limits for labels; checking them here reports the problem on the commit
# that introduced it instead of as a 422 in the middle of a sync.
MAX_NAME_LENGTH = 50
MAX_DESCRIPTION_LENGTH = 100

CommandPermission = Literal["triage", "write", "maintain", "admin"]

_HEX_COLOR = re.compile(r"#?[0-9a-fA-F]{6}")


def normalise_color(color: str) -> str:
    """Return `color` as GitHub stores it: six lower-case hex digits without `#`."""
    return color.strip().removeprefix("#").lower()


def _check_label_name(value: str, what: str) -> str:
    name = value.strip()
    if not name:
        raise ValueError(f"{what} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"{what} `{name}` is {len(name)} characters long; GitHub allows at most "
            f"{MAX_NAME_LENGTH}"
        )
    return name


class DeclaredLabel(BaseModel):
    """One entry of `label-sync.labels`: the label as it should exist on the repository."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    # None (left out): keep the label's current color; a new label gets GitHub's default.
    color: str | None = None
    # None (left out): keep the current description; "" clears it.
    description: str | None = None
    aliases: list[str] = Field(default_factory=list)
    # github-label-sync's flag: delete this label (and its aliases) wherever it exists.
    delete: bool = False

    @field_validator("name", mode="before")
    @classmethod
    def _valid_name(cls, value: Any) -> Any:
        if not isinstance(value, str):
            # YAML turns `name: 1` or `name: yes` into a number or a boolean.
            raise ValueError(f"label name {value!r} must be text; put it in quotes")
        return _check_label_name(value, "label name")

    @field_validator("color", mode="before")
    @classmethod
    def _valid_color(cls, value: Any, info: ValidationInfo) -> str:
        label = _label_for_message(info)
        if value is None:
            # Only an explicit `color:` gets here (leaving the key out keeps the color).
            # The commonest mistake: an unquoted `#rrggbb` is a YAML comment.
            raise ValueError(
                f"{label} has no color; a color starting with `#` must be quoted, "
                "e.g. color: '#d73a4a'"
            )
        if not isinstance(value, str):
            # YAML reads 001122 as an (octal) number, so the digits cannot be recovered.
            raise ValueError(
                f"{label} has color {value!r}, which YAML read as a number; "
                "quote it, e.g. color: '001122'"
            )
        if not _HEX_COLOR.fullmatch(value.strip()):
            raise ValueError(
                f"{label} has color `{value}`; a color is 6 hex digits, "
                "with or without `#`, e.g. 'd73a4a'"
            )
        return normalise_color(value)

    @field_validator("description", mode="before")
    @classmethod
    def _valid_description(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:  # `description:` with nothing after it: written, but empty
            return ""
        if isinstance(value, str):
            value = value.strip()
            if len(value) > MAX_DESCRIPTION_LENGTH:
                raise ValueError(
                    f"{_label_for_message(info)} has a description of {len(value)} characters; "
                    f"GitHub allows at most {MAX_DESCRIPTION_LENGTH}"
                )
        return value

    @field_validator("aliases", mode="before")
    @classmethod
    def _valid_aliases(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            # `aliases: old-name` is an obvious enough intent to accept.
            value = [value]
        if not isinstance(value, list):
            return value  # let pydantic report the type error
        label = _label_for_message(info)
        own_name = info.data.get("name")
        # An alias equal to the label's own name, or listed twice, says nothing more;
        # dropping it keeps the plan free of self-renames.
        seen = {own_name.casefold()} if isinstance(own_name, str) else set[str]()
        names: list[str] = []
        for alias in value:
            if not isinstance(alias, str):
                raise ValueError(f"alias {alias!r} of {label} must be text; put it in quotes")
            name = _check_label_name(alias, f"alias of {label}")
            if name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
        return names


def _label_for_message(info: ValidationInfo) -> str:
    name = info.data.get("name")
    return f"label `{name}`" if isinstance(name, str) else "a label"


class StatusLabels(BaseModel):
    """Which label an issue or pull request carries after each lifecycle event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issue_opened: str | None = None
    issue_assigned: str | None = None
    issue_closed_completed: str | None = None
    issue_closed_not_planned: str | None = None
    pr_opened: str | None = None
    pr_ready_for_review: str | None = None
    pr_merged: str | None = None
    pr_closed_unmerged: str | None = None
    # CI on the pull request's head commit: a failing check suite or workflow run sets
    # `pr_checks_failed`; once every check passes, `pr_checks_passed` (by default the
    # in-progress label: `pr_ready_for_review` for a ready pull request, else `pr_opened`).
    pr_checks_failed: str | None = None
    pr_checks_passed: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _valid_name(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or not isinstance(value, str):
            return value
        return _check_label_name(value, f"status label for {info.field_name}")

    def label_for(self, event: str) -> str | None:
        """The label configured for lifecycle `event` (a field name), if any."""
        value = getattr(self, event, None) if event in type(self).model_fields else None
        return value if isinstance(value, str) else None

    def all_labels(self) -> list[str]:
        """Every configured status label once (case-insensitively), in field order.

        These are the labels a status swap removes when it sets another one.
        """
        seen: set[str] = set()
        labels: list[str] = []
        for field in type(self).model_fields:
            value = getattr(self, field)
            if isinstance(value, str) and value.casefold() not in seen:
                seen.add(value.casefold())
                labels.append(value)
        return labels


class LabelSyncOptions(BaseModel):
    """The whole `label-sync:` section; every key is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[DeclaredLabel] = Field(default_factory=list)
    delete_undeclared: bool = False
    strict: bool = False
    exclusive_scopes: list[str] = Field(default_factory=list)
    scope_separator: str = ":"
    status_labels: StatusLabels = Field(default_factory=StatusLabels)
    command_permission: CommandPermission = "write"

    @field_validator("labels", "exclusive_scopes", mode="before")
    @classmethod
    def _empty_list(cls, value: Any) -> Any:
        # `labels:` with nothing under it is YAML null; treat it as an empty list.
        return [] if value is None else value

    @field_validator("status_labels", mode="before")
    @classmethod
    def _empty_map(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("exclusive_scopes")
    @classmethod
    def _valid_scopes(cls, value: list[str]) -> list[str]:
        scopes = [scope.strip() for scope in value]
        if any(not scope for scope in scopes):
            raise ValueError("exclusive_scopes must not contain an empty scope")
        return scopes

    @field_validator("scope_separator")
    @classmethod
    def _valid_separator(cls, value: str) -> str:
        if not value:
            raise ValueError("scope_separator must not be empty, e.g. ':' or '/'")
        return value

    @model_validator(mode="after")
    def _no_ambiguous_names(self) -> LabelSyncOptions:
        names: dict[str, str] = {}
        for label in self.labels:
            key = label.name.casefold()
            if key in names:
                raise ValueError(
                    f"label `{label.name}` is declared twice (also as `{names[key]}`); "
                    "GitHub label names ignore case, so keep one entry"
                )
            names[key] = label.name
        owners: dict[str, str] = {}
        for label in self.labels:
            for alias in label.aliases:
                key = alias.casefold()
                if key in owners:
                    raise ValueError(
                        f"alias `{alias}` is listed under both `{owners[key]}` and "
                        f"`{label.name}`; an old name can become only one label"
                    )
                owners[key] = label.name
        # Twice-declared names and twice-listed aliases are refused above; what is left is
        # a deleted label's name or alias that is a kept label's alias or name.
        keepers = {
            name.casefold(): label.name
            for label in self.labels
            if not label.delete
            for name in (label.name, *label.aliases)
        }
        for label in self.labels:
            for name in (label.name, *label.aliases) if label.delete else ():
                keeper = keepers.get(name.casefold())
                if keeper is not None:
                    raise ValueError(
                        f"`{name}` is marked `delete: true` (under `{label.name}`) but is "
                        f"also kept by `{keeper}` (its name or an alias); keep one of the two"
                    )
        return self
