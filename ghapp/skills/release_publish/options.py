"""Options of the release-publish skill: release-drafter v7's keys, plus ghapp's own.

A repository's `.github/ghapp.yml` section for `release-publish` may be a release-drafter
configuration moved over unchanged: the config loader turns `-` into `_` in keys before
validation, so `exclude-labels` arrives here as `exclude_labels`. Every key of
release-drafter v7's schema is accepted with release-drafter's default and meaning, and
the configurations release-drafter itself refuses (a changelog category without a title,
two catch-all categories, an unreadable `filter-by-range`, a replacer without `search`)
are refused here too.

Keys that only steer how release-drafter talks to GitHub (`pull-request-limit`,
`history-limit`), the autolabeler's section, and keys of older release-drafter versions
(`branches`, `references`) are accepted and listed in `ReleaseOptions.ignored_keys`, so a
migrating user is told what has no effect. Any other unknown key is an error: it is most
likely a typo (release-drafter drops such keys silently).

ghapp's own options (`tag_pattern`, `dispatch_event`, `comment_on_released`,
`build_timeout_minutes`, `max_concurrent_builds`, …) sit beside them; see
docs/coming-from-release-drafter.md and docs/releases.md.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ghapp.skills.release_publish.categories import Category, Condition, Level, Rule, normalize
from ghapp.skills.release_publish.npm_ranges import valid_range
from ghapp.skills.release_publish.npm_semver import valid_identifier

__all__ = ["Category", "Level", "ReleaseOptions", "Replacer", "VersionResolver"]

# Accepted, reported in `ignored_keys`, no effect. Keys arrive snake_cased.
IGNORED_KEYS: frozenset[str] = frozenset(
    {"autolabeler", "branches", "references", "history_limit", "pull_request_limit"}
)

# ghapp's body when a section sets no `template` (release-drafter's default is empty).
GHAPP_TEMPLATE = "## What's changed\n\n$CHANGES\n\n**Contributors:** $CONTRIBUTORS"
# The name and tag ghapp gives a release whose file sets no template (release-drafter
# leaves both empty); a `tag-prefix` takes the place of the `v`.
GHAPP_VERSION_TEMPLATE = "$RESOLVED_VERSION"

# Variables that stand for a version: a tag template needs one, or every release would
# get the same tag.
VERSION_VARIABLES = (
    "$RESOLVED_VERSION",
    "$NEXT_MAJOR_VERSION",
    "$NEXT_MINOR_VERSION",
    "$NEXT_PATCH_VERSION",
    "$NEXT_PRERELEASE_VERSION",
    "$VERSION",  # ghapp's older alias of $RESOLVED_VERSION
)


class LabelSet(BaseModel):
    """The labels that select one version level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: tuple[str, ...] = ()


class VersionResolver(BaseModel):
    """release-drafter's older `version-resolver`: labels per level, `default` for the
    rest. No labels by default, so with no resolver every release is a patch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    major: LabelSet = LabelSet()
    minor: LabelSet = LabelSet()
    patch: LabelSet = LabelSet()
    default: Level = "patch"


class Replacer(BaseModel):
    """A search (text, or `/regex/flags`) and its replacement, applied to the body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    search: str = Field(min_length=1)
    replace: str = ""


class ReleaseOptions(BaseModel):
    """Everything a repository can configure for release-publish."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- release-drafter v7 ---------------------------------------------------------------
    template: str | None = None
    header: str | None = None
    footer: str | None = None
    name_template: str | None = None
    tag_template: str | None = None
    tag_prefix: str | None = None
    version_template: str = "$MAJOR.$MINOR.$PATCH$PRERELEASE"
    change_template: str = "* $TITLE (#$NUMBER) $AUTHORS"
    change_author_template: str = "$AUTHOR_MENTION"
    change_authors_separator: str = ", "
    change_authors_final_separator: str | None = None
    change_title_escapes: str = ""
    no_changes_template: str = "* No changes"
    category_template: str = "## $TITLE"
    categories: tuple[Category, ...] = ()
    exclude_labels: tuple[str, ...] = ()
    include_labels: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    include_paths: tuple[str, ...] = ()
    exclude_contributors: tuple[str, ...] = ()
    no_contributors_template: str = "No contributors"
    new_contributor_template: str = "* $AUTHOR_MENTION made their first contribution in #$NUMBER"
    no_new_contributor_template: str = "* No new contributors"
    sort_by: Literal["merged_at", "title"] = "merged_at"
    sort_direction: Literal["ascending", "descending"] = "descending"
    replacers: tuple[Replacer, ...] = ()
    version_resolver: VersionResolver = VersionResolver()
    prerelease: bool | None = None
    prerelease_identifier: str | None = None
    include_pre_releases: bool = False
    latest: bool | None = None
    commitish: str | None = None
    filter_by_commitish: bool = False
    filter_by_range: str | None = None

    # -- ghapp's own ----------------------------------------------------------------------
    # Tags whose push makes a release; unset: `v*`, or the `tag-prefix` followed by `*`.
    tag_pattern: str | None = None
    # None: list the commit messages when no pull request was merged only for a section
    # without `template` (ghapp's default notes); a release-drafter file says "No changes".
    commits_when_no_pull_requests: bool | None = None
    # A heading for the changes no category claims, placed last (a shorthand for a
    # catch-all category with this title at the end of `categories`).
    other_title: str | None = None
    exclude_bots: bool = False
    draft_next: bool = True
    dispatch_event: str | None = Field(default=None, min_length=1)
    unpack_artifacts: bool = False
    build_timeout_minutes: int = Field(default=60, ge=1)
    # Builds dispatched at once per repository; more wait for a slot, in order.
    max_concurrent_builds: int = Field(default=2, ge=1)
    comment_on_released: bool = False
    released_comment_template: str = "🎉 Released in [$TAG]($URL)"
    command_permission: Literal["triage", "write", "maintain", "admin"] = "maintain"
    # Filled in by validation, never by the user: the keys that had no effect.
    ignored_keys: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _set_aside_ignored_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "ignored_keys" in data:
            raise ValueError("`ignored_keys` is reported by ghapp, not an option to set")
        kept: dict[str, Any] = {}
        ignored: list[str] = []
        for key, value in data.items():
            if key in IGNORED_KEYS:
                ignored.append(str(key))
            elif key != "_extends":  # resolved by the config loader before we see it
                kept[key] = value
        kept["ignored_keys"] = tuple(sorted(ignored))
        return kept

    @model_validator(mode="after")
    def _as_release_drafter_checks(self) -> Self:
        if self.tag_template is not None and not any(
            variable in self.tag_template for variable in VERSION_VARIABLES
        ):
            raise ValueError(
                f"tag_template {self.tag_template!r} must contain a version such as "
                "$RESOLVED_VERSION or $NEXT_PATCH_VERSION (e.g. 'v$RESOLVED_VERSION')"
            )
        if self.filter_by_range and not valid_range(self.filter_by_range):
            raise ValueError(f"filter_by_range {self.filter_by_range!r} is not a semver range")
        if self.prerelease_identifier and not valid_identifier(self.prerelease_identifier):
            raise ValueError(
                f"prerelease_identifier {self.prerelease_identifier!r} is not a valid "
                "prerelease identifier (letters, digits, '-' and '.')"
            )
        for category in self.categories:
            if category.type == "changelog" and not category.title:
                raise ValueError("every changelog category needs a title")
            if category.exclusive and category.type in ("pre-include", "pre-exclude"):
                raise ValueError(f"`exclusive` cannot be set on a {category.type} category")
        rules = self.rules
        catch_all = [r for r in rules if r.kind == "changelog" and r.catch_all]
        if len(catch_all) > 1:
            raise ValueError(
                "only one changelog category may have no labels or `when` (it collects the "
                f"uncategorised changes); found {', '.join(repr(r.title) for r in catch_all)}"
            )
        return self

    # -- what the renderer and the resolver use -------------------------------------------

    @property
    def is_prerelease(self) -> bool:
        """release-drafter's rule: a `prerelease-identifier` makes the release a
        prerelease even when `prerelease` is left out or set false in the same file."""
        return bool(self.prerelease) or bool(self.prerelease_identifier)

    @property
    def effective_template(self) -> str:
        return GHAPP_TEMPLATE if self.template is None else self.template

    @property
    def lists_commits(self) -> bool:
        """Whether commit messages stand in for pull requests when none was merged."""
        if self.commits_when_no_pull_requests is not None:
            return self.commits_when_no_pull_requests
        return self.template is None

    @property
    def credits_commit_authors(self) -> bool:
        """Whether the notes name commit authors (`$AUTHORS`, `$CONTRIBUTORS`), so the
        pull requests' commits must be read."""
        texts = (self.header or "", self.effective_template, self.footer or "")
        return "$AUTHORS" in self.change_template or any("$CONTRIBUTORS" in t for t in texts)

    @property
    def default_tag_template(self) -> str:
        """The tag (and name) a file without templates gets: `v1.2.3`, or the
        `tag-prefix` in place of the `v`."""
        prefix = "v" if self.tag_prefix is None else self.tag_prefix
        return prefix + GHAPP_VERSION_TEMPLATE

    @property
    def effective_tag_pattern(self) -> str:
        if self.tag_pattern is not None:
            return self.tag_pattern
        return "v*" if self.tag_prefix is None else f"{self.tag_prefix}*"

    @property
    def effective_tag_template(self) -> str:
        return self.tag_template or self.default_tag_template

    @property
    def effective_name_template(self) -> str:
        return self.name_template or self.effective_tag_template

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every category as a rule, followed by the ones release-drafter builds from its
        older top-level keys (`exclude-*`, `include-*`, `version-resolver`)."""
        rules = [normalize(category) for category in self.categories]
        if self.other_title is not None and not any(
            r.kind == "changelog" and r.catch_all for r in rules
        ):
            rules.append(Rule(kind="changelog", when=(), title=self.other_title))
        if self.exclude_labels or self.exclude_paths:
            if any(r.kind == "pre-exclude" for r in rules):
                raise ValueError(
                    "exclude_labels/exclude_paths cannot be combined with a pre-exclude category"
                )
            rules.append(_filter_rule("pre-exclude", self.exclude_labels, self.exclude_paths))
        if self.include_labels or self.include_paths:
            if any(r.kind == "pre-include" for r in rules):
                raise ValueError(
                    "include_labels/include_paths cannot be combined with a pre-include category"
                )
            rules.append(_filter_rule("pre-include", self.include_labels, self.include_paths))
        resolver = self.version_resolver
        if resolver.default != "patch":
            if any(r.kind == "version-resolver" and r.catch_all for r in rules):
                raise ValueError(
                    "version_resolver.default cannot be combined with a version-resolver "
                    "category without `when`"
                )
            rules.append(Rule(kind="version-resolver", when=(), semver_increment=resolver.default))
        for level in ("major", "minor", "patch"):
            labels: tuple[str, ...] = getattr(resolver, level).labels
            if labels:
                rules.append(
                    Rule(
                        kind="version-resolver",
                        when=(Condition(labels=labels),),
                        semver_increment=level,
                    )
                )
        return tuple(rules)


def _filter_rule(
    kind: Literal["pre-include", "pre-exclude"], labels: tuple[str, ...], paths: tuple[str, ...]
) -> Rule:
    return Rule(kind=kind, when=(Condition(labels=labels, paths=paths),))
