"""One release, planned from plain data: version, tag, name, body and flags.

This is where release-drafter's run is reproduced for ghapp: given the options, the
previous release and the pull requests merged since, `plan_release` gives what
release-drafter would put in the draft. The handlers fetch the data and write the plan;
the `release` command passes its version (and `--prerelease`) as `Overrides`, as a
workflow passes release-drafter's `version` and `prerelease` inputs (`tag` and `name`
are there for the same reason, though no command sets them yet).

The body is assembled as release-drafter assembles it: `header` + `template` + `footer`
with nothing added between them; `$PREVIOUS_TAG`, `$CHANGES`, `$CONTRIBUTORS`,
`$NEW_CONTRIBUTORS`, `$OWNER` and `$REPOSITORY` first, then the `replacers`, then the
version variables. What ghapp adds: a name and a tag when the file has no template for
them (`v1.2.3`, or `tag-prefix` + version), and its default template when the file has
none (see `options.GHAPP_TEMPLATE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from semver import Version

from ghapp.skills.release_publish.notes import (
    CommitInfo,
    MergedPull,
    contributors_sentence,
    included,
    new_contributors,
    render_changes,
    sort_pulls,
)
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.template import apply_replacers, protect, render, unprotect
from ghapp.skills.release_publish.versions import (
    ReleaseLike,
    VersionInfo,
    level_for,
    version_in_text,
    version_info,
    version_of,
)


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a single request may force, like release-drafter's action inputs."""

    version: str | None = None
    tag: str | None = None
    name: str | None = None
    prerelease: bool | None = None
    prerelease_identifier: str | None = None


@dataclass(frozen=True, slots=True)
class Repository:
    owner: str
    name: str
    server_url: str = "https://github.com"


@dataclass(frozen=True, slots=True)
class ReleasePlan:
    version: Version | None
    version_text: str  # `$RESOLVED_VERSION`, through `version-template`
    tag: str
    name: str
    body: str
    prerelease: bool
    make_latest: bool
    previous_tag: str | None


def release_flags(options: ReleaseOptions, overrides: Overrides) -> tuple[bool, bool, str | None]:
    """(prerelease, make latest, prerelease identifier) after a request's overrides, by
    release-drafter's rules: an identifier turns the release into a prerelease unless the
    request itself said `prerelease: false` without naming an identifier."""
    identifier = overrides.prerelease_identifier or options.prerelease_identifier
    prerelease = bool(options.prerelease) if overrides.prerelease is None else overrides.prerelease
    if (
        identifier
        and not prerelease
        and (overrides.prerelease is None or overrides.prerelease_identifier)
    ):
        prerelease = True
    latest = True if options.latest is None else options.latest
    return prerelease, latest and not prerelease, identifier


def resolve_version(
    options: ReleaseOptions,
    *,
    previous: ReleaseLike | None,
    pulls: Sequence[MergedPull],
    overrides: Overrides = Overrides(),
) -> VersionInfo:
    """The version variables for a release after `previous` with `pulls` merged."""
    prerelease, _latest, identifier = release_flags(options, overrides)
    forced = None
    for text in (overrides.version, overrides.tag, overrides.name):
        if text:
            forced = version_in_text(text, options.tag_prefix)
            break
    return version_info(
        options,
        previous=version_of(previous, options.tag_prefix) if previous else None,
        level=level_for(pulls, options),
        prerelease=prerelease,
        identifier=identifier,
        forced=forced,
    )


def render_body(
    options: ReleaseOptions,
    *,
    repository: Repository,
    previous_tag: str | None,
    pulls: Sequence[MergedPull],
    info: VersionInfo,
    commits_if_no_pulls: Sequence[CommitInfo] = (),
) -> str:
    """The release body for `pulls` (any order: they are filtered and sorted here)."""
    kept = sort_pulls(included(pulls, options.rules), options)
    server = repository.server_url
    # Commits stand in only where ghapp's own notes list them (see `lists_commits`).
    listed_commits = commits_if_no_pulls if options.lists_commits and not kept else ()
    body = (options.header or "") + options.effective_template + (options.footer or "")
    body = render(
        body,
        {
            "$PREVIOUS_TAG": protect(previous_tag or ""),
            "$CHANGES": render_changes(kept, options, server, listed_commits),
            "$CONTRIBUTORS": contributors_sentence(kept, options, server, listed_commits),
            "$NEW_CONTRIBUTORS": new_contributors(kept, options),
            "$OWNER": protect(repository.owner),
            "$REPOSITORY": protect(repository.name),
        },
    )
    body = apply_replacers(body, options.replacers)
    return unprotect(render(body, info.variables))


def plan_release(
    options: ReleaseOptions,
    *,
    repository: Repository,
    previous: ReleaseLike | None,
    pulls: Sequence[MergedPull],
    overrides: Overrides = Overrides(),
    commits_if_no_pulls: Sequence[CommitInfo] = (),
) -> ReleasePlan:
    """Everything release-drafter would write into the release, ghapp's name and tag
    filled in where the file has no template."""
    prerelease, latest, _identifier = release_flags(options, overrides)
    info = resolve_version(options, previous=previous, pulls=pulls, overrides=overrides)
    previous_tag = previous.tag if previous else None
    name = overrides.name or options.effective_name_template
    tag = overrides.tag or options.effective_tag_template
    return ReleasePlan(
        version=info.resolved,
        version_text=info.resolved_text,
        tag=render(tag, info.variables),
        name=render(name, info.variables),
        body=render_body(
            options,
            repository=repository,
            previous_tag=previous_tag,
            pulls=pulls,
            info=info,
            commits_if_no_pulls=commits_if_no_pulls,
        ),
        prerelease=prerelease,
        make_latest=latest,
        previous_tag=previous_tag,
    )
