"""Release notes, release names and "released" comments, rendered from plain data.

Pure functions: the handler fetches merged pull requests (or, with none, the commits of
the compare range) and hands them over as `MergedPull` / `CommitInfo`.

Templates use release-drafter's variables. Substitution is a single pass over the
template, so text that came from a pull request (a title containing `$CONTRIBUTORS`, say)
is never expanded a second time.

Choices where release-drafter leaves room:
- labels match case-insensitively, as GitHub treats label names;
- changes are listed oldest first (merged_at, then number), so notes read in the order
  the work landed and repeated renders are identical;
- changes no category claims go under `other_title` after the categories (or into the
  category without labels, as in release-drafter); with no categories at all, the
  changes are listed without headings;
- `exclude_bots` removes bots from the contributors line, not their changes: a
  dependency bump is still a change, and `exclude_labels` is the way to drop those;
- header, template and footer are joined by a blank line, so a header written without
  a trailing newline does not run into the first heading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from semver import Version

from ghapp.skills.release_publish.options import Category, ReleaseOptions
from ghapp.skills.release_publish.versions import (
    VersionError,
    bump,
    parse_version,
    version_from_tag,
)

_BOT_SUFFIX = "[bot]"


@dataclass(frozen=True, slots=True)
class MergedPull:
    """A pull request merged into the default branch since the previous release."""

    number: int
    title: str
    author: str
    author_is_bot: bool
    labels: tuple[str, ...]
    merged_at: datetime
    url: str


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit from the compare API; `author` is None when no GitHub user is linked."""

    sha: str
    message: str
    author: str | None


def substitute(template: str, values: Mapping[str, str]) -> str:
    """Replace `$NAME` for every NAME in `values`, in one pass; other `$…` stay as written.

    The longest name wins, so `$NEXT_PATCH_VERSION` is not read as `$NEXT` plus text.
    """
    names = sorted(values, key=len, reverse=True)
    if not names:
        return template
    pattern = re.compile(r"\$(" + "|".join(re.escape(name) for name in names) + ")")
    return pattern.sub(lambda match: values[match.group(1)], template)


def escape_title(title: str, escapes: str) -> str:
    """A title fit for one list item: on one line, with each char in `escapes` escaped."""
    one_line = " ".join(title.split())
    return "".join(f"\\{char}" if char in escapes else char for char in one_line)


def is_bot(login: str, *, flagged: bool = False) -> bool:
    """Whether a login belongs to a bot (GitHub App bots carry a `[bot]` suffix)."""
    return flagged or login.endswith(_BOT_SUFFIX)


def select_pulls(pulls: Iterable[MergedPull], options: ReleaseOptions) -> list[MergedPull]:
    """The pulls the notes list: label filters applied, duplicates dropped, oldest first."""
    exclude = _folded(options.exclude_labels)
    include = _folded(options.include_labels)
    by_number: dict[int, MergedPull] = {}
    for pull in pulls:
        labels = _folded(pull.labels)
        if labels & exclude:
            continue
        if include and not labels & include:
            continue
        # Pages can overlap when a pull merges mid-listing; one line per pull.
        by_number[pull.number] = pull
    return sorted(by_number.values(), key=lambda pull: (pull.merged_at, pull.number))


def render_changes(
    pulls: Sequence[MergedPull],
    options: ReleaseOptions,
    commits_if_no_pulls: Sequence[CommitInfo] = (),
) -> str:
    """The `$CHANGES` block for already selected pulls (see `select_pulls`)."""
    if not pulls:
        if not commits_if_no_pulls:
            return options.no_changes_template
        return "\n".join(_commit_line(commit, options) for commit in commits_if_no_pulls)
    if not options.categories:
        return "\n".join(_change_line(pull, options) for pull in pulls)

    grouped = _group(pulls, options.categories)
    sections: list[str] = []
    for index, category in enumerate(options.categories):
        members = grouped.get(index, []) if category.all_labels else grouped[None]
        section = _section(category.title, members, category.collapse_after, options)
        if section:
            sections.append(section)
    if not any(not category.all_labels for category in options.categories):
        section = _section(options.other_title, grouped[None], None, options)
        if section:
            sections.append(section)
    return "\n\n".join(sections)


def contributors(
    pulls: Sequence[MergedPull], options: ReleaseOptions, commits: Sequence[CommitInfo] = ()
) -> list[str]:
    """Logins credited in the notes, sorted case-insensitively, without repeats."""
    excluded = _folded(options.exclude_contributors)
    candidates = [(pull.author, pull.author_is_bot) for pull in pulls]
    candidates += [(commit.author, False) for commit in commits if commit.author]
    seen: dict[str, str] = {}
    for login, flagged in candidates:
        if options.exclude_bots and is_bot(login, flagged=flagged):
            continue
        if login.casefold() in excluded:
            continue
        seen.setdefault(login.casefold(), login)
    return sorted(seen.values(), key=lambda login: (login.casefold(), login))


def render_contributors(logins: Sequence[str], options: ReleaseOptions) -> str:
    """`@a, @b and @c`, or the no-contributors template."""
    if not logins:
        return options.no_contributors_template
    mentions = [f"@{login}" for login in logins]
    if len(mentions) == 1:
        return mentions[0]
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


def release_values(
    options: ReleaseOptions, *, version: Version, previous_tag: str | None
) -> dict[str, str]:
    """The release-level template variables other than `$CHANGES` and `$CONTRIBUTORS`."""
    previous = _previous_version(previous_tag, options.tag_template)
    return {
        "RESOLVED_VERSION": str(version),
        "VERSION": str(version),
        "NEXT_MAJOR_VERSION": str(bump(previous, "major")),
        "NEXT_MINOR_VERSION": str(bump(previous, "minor")),
        "NEXT_PATCH_VERSION": str(bump(previous, "patch")),
        "PREVIOUS_TAG": previous_tag or "",
    }


def render_notes(
    pulls: Iterable[MergedPull],
    options: ReleaseOptions,
    *,
    version: Version,
    previous_tag: str | None,
    commits_if_no_pulls: Sequence[CommitInfo] = (),
) -> str:
    """The release body: header, template with changes and contributors, footer."""
    selected = select_pulls(pulls, options)
    commits = () if selected else commits_if_no_pulls
    values = release_values(options, version=version, previous_tag=previous_tag)
    values["CHANGES"] = render_changes(selected, options, commits)
    values["CONTRIBUTORS"] = render_contributors(contributors(selected, options, commits), options)
    parts = (options.header, options.template, options.footer)
    layout = "\n\n".join(part.strip("\n") for part in parts if part.strip())
    return substitute(layout, values)


def render_release_name(
    options: ReleaseOptions, *, version: Version, previous_tag: str | None
) -> str:
    """The release's title from `name_template`."""
    values = release_values(options, version=version, previous_tag=previous_tag)
    return substitute(options.name_template, values)


def render_released_comment(
    options: ReleaseOptions, *, version: Version, tag: str, url: str
) -> str:
    """The comment left on a pull request or issue once its release is published."""
    values = {"TAG": tag, "URL": url, "RESOLVED_VERSION": str(version), "VERSION": str(version)}
    return substitute(options.released_comment_template, values)


def _folded(labels: Iterable[str]) -> set[str]:
    return {label.casefold() for label in labels}


def _group(
    pulls: Sequence[MergedPull], categories: Sequence[Category]
) -> dict[int | None, list[MergedPull]]:
    """Pulls by the index of the first labelled category they match; None for the rest."""
    claims = [_folded(category.all_labels) for category in categories]
    grouped: dict[int | None, list[MergedPull]] = {None: []}
    for pull in pulls:
        labels = _folded(pull.labels)
        index = next((i for i, wanted in enumerate(claims) if labels & wanted), None)
        grouped.setdefault(index, []).append(pull)
    return grouped


def _section(
    title: str, pulls: Sequence[MergedPull], collapse_after: int | None, options: ReleaseOptions
) -> str:
    if not pulls:
        return ""
    lines = "\n".join(_change_line(pull, options) for pull in pulls)
    if collapse_after is not None and len(pulls) > collapse_after:
        lines = f"<details>\n<summary>{len(pulls)} changes</summary>\n\n{lines}\n</details>"
    heading = substitute(options.category_template, {"TITLE": title})
    return f"{heading}\n\n{lines}"


def _change_line(pull: MergedPull, options: ReleaseOptions) -> str:
    return substitute(
        options.change_template,
        {
            "TITLE": escape_title(pull.title, options.change_title_escapes),
            "NUMBER": str(pull.number),
            "AUTHOR": pull.author,
            "URL": pull.url,
        },
    )


def _commit_line(commit: CommitInfo, options: ReleaseOptions) -> str:
    lines = commit.message.strip().splitlines()
    subject = escape_title(lines[0] if lines else "", options.change_title_escapes)
    line = f"- {subject} ({commit.sha[:7]})"
    return f"{line} @{commit.author}" if commit.author else line


def _previous_version(previous_tag: str | None, tag_template: str) -> Version | None:
    if not previous_tag:
        return None
    found = version_from_tag(previous_tag, tag_template)
    if found is not None:
        return found
    # A tag made before the template changed may still be a plain version.
    try:
        return parse_version(previous_tag)
    except VersionError:
        return None
