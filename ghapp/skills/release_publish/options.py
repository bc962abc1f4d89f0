"""Options of the release-publish skill, named as release-drafter names them.

A repository's `.github/ghapp.yml` section for `release-publish` may be a release-drafter
configuration moved over unchanged: the config loader turns `-` into `_` in keys before
validation, so `exclude-labels` arrives here as `exclude_labels`.

Release-drafter options that ghapp does not implement (`autolabeler`, `replacers`,
`sort-by`, …) are accepted and listed in `ReleaseOptions.ignored_keys`, so a migrating user
is told what has no effect instead of having the whole file refused. Any other unknown
key is an error, because it is most likely a typo.
"""

from __future__ import annotations

from typing import Any, Literal, Self, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Level = Literal["major", "minor", "patch"]

# Release-drafter's documented top-level options that ghapp accepts but does not act on.
# Keys arrive snake_cased; `_extends` is the loader's business, never ours.
RELEASE_DRAFTER_IGNORED_KEYS: frozenset[str] = frozenset(
    {
        "autolabeler",
        "commitish",
        "filter_by_commitish",
        "history_limit",
        "include_paths",
        "include_pre_releases",
        "initial_commits_since",
        "latest",
        "prerelease_identifier",
        "pull_request_limit",
        "references",
        "replacers",
        "sort_by",
        "sort_direction",
        "tag_prefix",
        "version_template",
    }
)

# Release-drafter's per-category keys that ghapp accepts but does not act on
# (`collapse` is the old boolean spelling of `collapse-after`).
RELEASE_DRAFTER_IGNORED_CATEGORY_KEYS: frozenset[str] = frozenset({"collapse"})

# Default title escapes: the characters that let a pull-request title break out of its list
# item or act on GitHub. `\` first so existing escapes cannot combine with ours; `<` and `&`
# start HTML and entities; `*` and `_` emphasis; a backtick opens a code span that could
# swallow the rest of the line; `#` links issues and `@` pings people, which a title quoted
# in release notes should never do. Release-drafter's own default is "" (no escaping).
DEFAULT_CHANGE_TITLE_ESCAPES = "\\<*_&`#@"

VERSION_VARIABLES = ("$RESOLVED_VERSION", "$VERSION")


class Category(BaseModel):
    """A heading in the notes and the labels that put a pull request under it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    labels: tuple[str, ...] = ()
    # Release-drafter allows a single `label:` as well as (or instead of) `labels:`.
    label: str | None = None
    # More entries than this are folded into a <details> block.
    collapse_after: int | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in RELEASE_DRAFTER_IGNORED_CATEGORY_KEYS}
        return data

    @property
    def all_labels(self) -> tuple[str, ...]:
        """`labels` plus the singular `label`, in that order, without repeats."""
        if self.label is None or self.label in self.labels:
            return self.labels
        return (*self.labels, self.label)


class LabelSet(BaseModel):
    """The labels that select one version level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: tuple[str, ...] = ()


class VersionResolver(BaseModel):
    """Which labels on merged pull requests bump which part of the next version.

    Unlike release-drafter (whose levels default to no labels), each level has useful
    default labels, and a level the user leaves out keeps its defaults.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    major: LabelSet = LabelSet(labels=("major", "breaking"))
    minor: LabelSet = LabelSet(labels=("minor", "feature", "enhancement"))
    patch: LabelSet = LabelSet(labels=("patch", "fix", "bugfix", "bug"))
    default: Level = "patch"


class ReleaseOptions(BaseModel):
    """Everything a repository can configure for release-publish."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_template: str = "v$RESOLVED_VERSION"
    tag_template: str = "v$RESOLVED_VERSION"
    tag_pattern: str = "v*"
    categories: tuple[Category, ...] = ()
    # Heading for changes no category claims, listed after the categories (ghapp's own
    # option; release-drafter lists them unheaded, first). A category without labels takes
    # this role instead, as in release-drafter. Unused when no categories are configured.
    other_title: str = "Other changes"
    exclude_labels: tuple[str, ...] = ()
    include_labels: tuple[str, ...] = ()
    exclude_contributors: tuple[str, ...] = ()
    no_contributors_template: str = "No contributors"
    no_changes_template: str = "- No changes"
    change_template: str = "- $TITLE (#$NUMBER) @$AUTHOR"
    change_title_escapes: str = DEFAULT_CHANGE_TITLE_ESCAPES
    category_template: str = "## $TITLE"
    template: str = "## What's changed\n\n$CHANGES\n\n**Contributors:** $CONTRIBUTORS"
    header: str = ""
    footer: str = ""
    version_resolver: VersionResolver = VersionResolver()
    exclude_bots: bool = True
    prerelease: bool = False
    draft_next: bool = True
    dispatch_event: str | None = Field(default=None, min_length=1)
    unpack_artifacts: bool = False
    build_timeout_minutes: int = Field(default=60, ge=1)
    comment_on_released: bool = False
    released_comment_template: str = "🎉 Released in [$TAG]($URL)"
    command_permission: Literal["triage", "write", "maintain", "admin"] = "maintain"
    # Filled in by validation, never by the user: the release-drafter keys that had no effect.
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
            if key in RELEASE_DRAFTER_IGNORED_KEYS:
                ignored.append(key)
            elif key != "_extends":  # resolved by the config loader before we see it
                kept[key] = value
        categories: Any = data.get("categories")
        if isinstance(categories, list):
            for index, category in enumerate(cast(list[Any], categories)):
                if isinstance(category, dict):
                    ignored.extend(
                        f"categories[{index}].{key}"
                        for key in cast(dict[str, Any], category)
                        if key in RELEASE_DRAFTER_IGNORED_CATEGORY_KEYS
                    )
        kept["ignored_keys"] = tuple(sorted(ignored))
        return kept

    @field_validator("tag_template")
    @classmethod
    def _tag_names_the_version(cls, value: str) -> str:
        # Without the version in it every release would get the same tag.
        if not any(variable in value for variable in VERSION_VARIABLES):
            raise ValueError(
                f"tag_template {value!r} must contain $RESOLVED_VERSION (or $VERSION), "
                "e.g. 'v$RESOLVED_VERSION'"
            )
        return value

    @model_validator(mode="after")
    def _one_catch_all_category(self) -> Self:
        # As in release-drafter, a category without labels collects the changes no other
        # category claims; two of them would leave it unclear which one does.
        catch_all = [c.title for c in self.categories if not c.all_labels]
        if len(catch_all) > 1:
            raise ValueError(
                "only one category may have no labels (it collects uncategorised changes); "
                f"found {', '.join(repr(t) for t in catch_all)}"
            )
        return self
