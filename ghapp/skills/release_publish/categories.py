"""release-drafter's categories: what they accept, and which pull requests they match.

A category is one of four kinds (release-drafter v7's `type`): `changelog` (a heading in
the notes, the default), `pre-include` and `pre-exclude` (filters applied before anything
else), and `version-resolver` (counts towards the next version without a heading). Its
`when` is one condition or a list of them (any may match); a condition's predicates
(labels, changed paths, a conventional-commit title) must all hold. The older spellings
(`label`/`labels` on the category, top-level `exclude-labels`, `include-paths`,
`version-resolver`…) are turned into the same rules by `ReleaseOptions.rules`, as
release-drafter does, so one matcher serves old and new files.

Differences kept on purpose: labels compare case-insensitively (GitHub treats label
names so, and refuses two labels differing only in case).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

Level = Literal["major", "minor", "patch"]
Mode = Literal["any", "all", "only", "exactly"]
Kind = Literal["changelog", "pre-include", "pre-exclude", "version-resolver"]


class Conventional(BaseModel):
    """`when.conventional`: a title shaped `type(scope)!: subject`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str | None = Field(default=None, min_length=1)
    types: tuple[str, ...] = ()
    scope: str | None = Field(default=None, min_length=1)
    scopes: tuple[str, ...] = ()
    breaking: bool | None = None


class Condition(BaseModel):
    """One `when` branch; every predicate it names must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conventional: Literal[True] | Conventional | None = None
    label: str | None = Field(default=None, min_length=1)
    labels: tuple[str, ...] = ()
    labels_mode: Mode = "any"
    path: str | None = Field(default=None, min_length=1)
    paths: tuple[str, ...] = ()
    paths_mode: Mode = "any"


class Category(BaseModel):
    """A category as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = Field(default=None, min_length=1)
    type: Kind = "changelog"
    exclusive: bool = False
    # More entries than this are folded into <details>; 0 always folds, -1 never.
    collapse_after: int = Field(default=-1, ge=-1)
    semver_increment: Level = "patch"
    labels: tuple[str, ...] = ()
    label: str | None = Field(default=None, min_length=1)
    when: Condition | tuple[Condition, ...] = ()
    # release-drafter v5's boolean spelling of collapse-after; accepted, has no effect.
    collapse: Any = None

    @field_validator("labels", mode="before")
    @classmethod
    def _one_label_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Rule:
    """A category after normalisation: what the matcher and the renderer use."""

    kind: Kind
    when: tuple[Condition, ...]
    title: str | None = None
    collapse_after: int = -1
    semver_increment: Level = "patch"
    exclusive: bool = False

    @property
    def catch_all(self) -> bool:
        """A rule without conditions takes every change (or, for changelog, the rest)."""
        return not self.when


def normalize(category: Category) -> Rule:
    """release-drafter's reading of one category: `label(s)` added to every branch, a
    branch with nothing to test dropped, `when` always a tuple."""
    legacy = [*category.labels, *([category.label] if category.label else [])]
    raw = category.when
    if isinstance(raw, Condition):
        branches: tuple[Condition, ...] = (raw,)
    elif raw:
        branches = raw
    else:
        branches = (Condition(),) if legacy else ()
    kept: list[Condition] = []
    for branch in branches:
        labels = (*legacy, *branch.labels, *([branch.label] if branch.label else []))
        paths = (*branch.paths, *([branch.path] if branch.path else []))
        merged = branch.model_copy(
            update={"labels": labels, "label": None, "paths": paths, "path": None}
        )
        if labels or paths or branch.conventional is not None:
            kept.append(merged)
    return Rule(
        kind=category.type,
        when=tuple(kept),
        title=category.title,
        collapse_after=category.collapse_after,
        semver_increment=category.semver_increment,
        exclusive=category.exclusive,
    )


# -- matching ------------------------------------------------------------------------------


class Change(Protocol):
    """What a rule looks at in a pull request (see `notes.MergedPull`)."""

    @property
    def title(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def changed_files(self) -> tuple[str, ...] | None: ...


def _values_match(actual: Iterable[str], expected: Iterable[str], mode: Mode) -> bool:
    have = {value.casefold() for value in actual}
    want = {value.casefold() for value in expected}
    if not want:
        return True
    if mode == "all":
        return want <= have
    if mode == "only":
        return bool(have) and have <= want
    if mode == "exactly":
        return have == want
    return bool(have & want)


def _glob_regex(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    """A gitignore-style pattern as a regex, and whether it names directories only."""
    pattern = pattern.rstrip(" ")
    if not pattern or pattern.startswith(("#", "!")):
        return None
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out, i = out + "(?:/.*)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out, i = out + "[" + ("^" + body[1:] if body[:1] == "!" else body) + "]", end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out, i = out + re.escape(pattern[i + 1]), i + 2
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{out}"), dir_only


def path_matches(pattern: str, path: str) -> bool:
    """Whether `path` (a changed file) falls under the gitignore-style `pattern`: the
    file itself or one of its directories matches, as npm's `ignore` decides."""
    compiled = _glob_regex(pattern)
    if compiled is None:
        return False
    regex, dir_only = compiled
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        candidate = "/".join(parts[:depth])
        is_dir = depth < len(parts)
        if (is_dir or not dir_only) and regex.fullmatch(candidate):
            return True
    return False


def _paths_match(condition: Condition, files: Sequence[str] | None) -> bool:
    if not condition.paths:
        return True
    changed = list(dict.fromkeys(files or ()))
    if not changed:
        return False
    wanted = list(dict.fromkeys(condition.paths))
    every_pattern = all(any(path_matches(p, f) for f in changed) for p in wanted)
    every_file = all(any(path_matches(p, f) for p in wanted) for f in changed)
    if condition.paths_mode == "all":
        return every_pattern
    if condition.paths_mode == "only":
        return every_file
    if condition.paths_mode == "exactly":
        return every_pattern and every_file
    return any(path_matches(p, f) for f in changed for p in wanted)


_HEADER = re.compile(r"^(\w*)(?:\((.*)\))?(!?): (.*)$")
_BREAKING_NOTE = re.compile(r"^[\s|*]*(?:BREAKING CHANGE|BREAKING-CHANGE)[:\s]+", re.MULTILINE)


def conventional_title(title: str) -> tuple[str, str | None, bool] | None:
    """(type, scope, breaking) of a conventional-commit title, or None."""
    lines = title.splitlines() or [""]
    match = _HEADER.match(lines[0])
    if match is None:
        return None
    breaking = bool(match.group(3)) or bool(_BREAKING_NOTE.search("\n".join(lines[1:])))
    return match.group(1), match.group(2), breaking


def _conventional_match(condition: Condition, title: str) -> bool:
    wanted = condition.conventional
    if wanted is None:
        return True
    parsed = conventional_title(title)
    if parsed is None:
        return False
    if wanted is True:
        return True
    kind, scope, breaking = parsed
    types = (*wanted.types, *([wanted.type] if wanted.type else []))
    scopes = (*wanted.scopes, *([wanted.scope] if wanted.scope else []))
    return (
        (not types or kind in types)
        and (not scopes or (scope is not None and scope in scopes))
        and (wanted.breaking is None or wanted.breaking == breaking)
    )


def condition_matches(condition: Condition, change: Change) -> bool:
    return (
        _values_match(change.labels, condition.labels, condition.labels_mode)
        and _paths_match(condition, change.changed_files)
        and _conventional_match(condition, change.title)
    )


def rule_matches(rule: Rule, change: Change) -> bool:
    return rule.catch_all or any(condition_matches(c, change) for c in rule.when)


def needs_changed_files(rules: Iterable[Rule]) -> bool:
    """Whether any rule tests paths, so the pull requests' files must be fetched."""
    return any(condition.paths for rule in rules for condition in rule.when)
