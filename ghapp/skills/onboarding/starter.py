"""The starter `.github/ghapp.yml` written for one repository, and the words around it.

Pure decisions, no I/O: given the repository's labels and its release-drafter file (if
any), `starter_file` writes the file the onboarding pull request adds, and
`proposal_body` the pull request's description, with the label plan label-sync's
planner computed for it.

- `label-sync:` declares every existing label as it is (name, color, description), so
  merging renames, recolours and deletes nothing.
- `release-publish:` is `.github/release-drafter.yml` carried over as written (its keys
  keep their spelling; a `version-resolver` level the file leaves out stays out, so the
  next version resolves as release-drafter resolves it). Without that file it is
  release-drafter's common layout, whose `feature`/`enhancement` → minor mapping is
  written out here because neither release-drafter nor ghapp assumes it.
- `milestone-progress: {}` switches the milestone progress block on with its defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from ghapp import CONFIG_PATH, code_span

BRANCH = "ghapp/configure"
TITLE = "Configure ghapp"
COMMIT_MESSAGE = "Add .github/ghapp.yml, ghapp's configuration"
RELEASE_DRAFTER_PATH = ".github/release-drafter.yml"

# release-drafter's common layout (its README's example), with the version mapping that
# its users usually add themselves: feature and enhancement make a minor release.
DEFAULT_RELEASE_SECTION = """\
name-template: 'v$RESOLVED_VERSION'
tag-template: 'v$RESOLVED_VERSION'
categories:
  - title: 'Features'
    labels: ['feature', 'enhancement']
  - title: 'Bug Fixes'
    labels: ['fix', 'bugfix', 'bug']
  - title: 'Maintenance'
    labels: ['chore']
change-template: '- $TITLE @$AUTHOR (#$NUMBER)'
change-title-escapes: '\\<*_&'
version-resolver:
  major:
    labels: ['major']
  minor:
    labels: ['minor', 'feature', 'enhancement']
  patch:
    labels: ['patch']
  default: patch
template: |
  ## Changes

  $CHANGES
"""


@dataclass(frozen=True)
class RepoLabel:
    """A label as the repository has it."""

    name: str
    color: str
    description: str | None = None


@dataclass(frozen=True)
class ReleaseSection:
    """The `release-publish:` section's lines (not yet indented) and where they came from."""

    text: str
    source: Literal["release-drafter", "default"]
    notes: tuple[str, ...] = ()


def label_section(labels: Sequence[RepoLabel]) -> dict[str, Any]:
    """`label-sync:` declaring `labels` as they are: nothing to rename, recolour or delete."""
    declared: list[dict[str, str]] = []
    for label in sorted(labels, key=lambda lb: lb.name.casefold()):
        entry = {"name": label.name, "color": label.color.lower()}
        if label.description:
            entry["description"] = label.description
        declared.append(entry)
    return {"labels": declared}


def translate_release_drafter(text: str | None) -> ReleaseSection:
    """`.github/release-drafter.yml` (its text, None when absent) as the section's lines."""
    if text is None:
        return ReleaseSection(DEFAULT_RELEASE_SECTION, "default")
    fallback = (
        "so release-drafter's common layout is proposed instead; copy what you need "
        f"from {code_span(RELEASE_DRAFTER_PATH)}."
    )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        note = f"{code_span(RELEASE_DRAFTER_PATH)} is not valid YAML, {fallback}"
        return ReleaseSection(DEFAULT_RELEASE_SECTION, "default", (note,))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        note = f"{code_span(RELEASE_DRAFTER_PATH)} is not a mapping of options, {fallback}"
        return ReleaseSection(DEFAULT_RELEASE_SECTION, "default", (note,))
    notes: list[str] = []
    if "_extends" in data:
        base = data.pop("_extends")
        notes.append(
            f"`_extends: {base}` was not carried over: in ghapp `_extends` applies to the "
            f"whole of {code_span(CONFIG_PATH)}. Copy the settings it inherited into "
            "`release-publish:`."
        )
    elif (verbatim := _as_written(text, data)) is not None:
        return ReleaseSection(verbatim, "release-drafter")
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000) if data else ""
    return ReleaseSection(dumped, "release-drafter", tuple(notes))


def _as_written(text: str, data: dict[str, Any]) -> str | None:
    """The file's own lines (comments and layout kept) when, indented under a key, they
    read back as the same options; None when they would not."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":
        lines = lines[1:]
    body = "\n".join(lines).strip("\n") + "\n"
    try:
        again = yaml.safe_load("section:\n" + _indent(body))
    except yaml.YAMLError:
        return None
    if not isinstance(again, dict) or again.get("section") != data:
        return None
    return body


def _indent(text: str, by: str = "  ") -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(True))


def starter_file(full_name: str, labels: Sequence[RepoLabel], release: ReleaseSection) -> str:
    """The whole `.github/ghapp.yml` proposed for `full_name`."""
    labels_yaml = yaml.safe_dump(
        {"label-sync": label_section(labels)}, sort_keys=False, allow_unicode=True, width=1000
    )
    release_body = release.text if release.text.strip() else "{}\n"
    if release_body == "{}\n":
        release_yaml = "release-publish: {}\n"
    else:
        release_yaml = "release-publish:\n" + _indent(release_body)
    origin = (
        f"carried over from {RELEASE_DRAFTER_PATH}"
        if release.source == "release-drafter"
        else "release-drafter's common layout"
    )
    return (
        f"# ghapp's configuration for {full_name}: one top-level key per skill.\n"
        "# Proposed by ghapp's onboarding pull request; edit it as you like.\n"
        "\n"
        "# The labels this repository has today, declared as they are.\n"
        f"{labels_yaml}"
        "\n"
        f"# Release notes and versions ({origin}).\n"
        f"{release_yaml}"
        "\n"
        "# Progress, a bar and the due date in each milestone's description.\n"
        "milestone-progress: {}\n"
    )


def plan_table(rows: Sequence[Mapping[str, str]] | None, problem: str | None = None) -> str:
    """The label plan of merging, as a table; "no changes" when it plans nothing."""
    if problem is not None:
        return f"The label plan could not be computed: {problem}"
    if rows is None:
        return "label-sync is not installed here, so merging changes no labels."
    if not rows:
        return "**No changes**: every label stays exactly as it is."
    lines = ["| # | Change | What |", "| --- | --- | --- |"]
    for number, row in enumerate(rows, 1):
        what = " ".join(str(row.get("what", "")).split()).replace("|", "\\|")
        lines.append(f"| {number} | {row.get('change', '')} | {what} |")
    return "\n".join(lines)


def proposal_body(
    *,
    labels: int,
    release: ReleaseSection,
    plan: str,
    slug: str,
) -> str:
    """The pull request's description: what each section does, what merging changes."""
    if release.source == "release-drafter":
        release_text = (
            f"Your {code_span(RELEASE_DRAFTER_PATH)}, carried over as written: ghapp reads "
            "release-drafter's options and templates, so drafts and versions come out as "
            "they do today."
        )
    else:
        release_text = (
            "release-drafter's common layout: features, bug fixes and maintenance as "
            "categories; `major`, `minor` (also `feature`, `enhancement`) and `patch` "
            "labels choose the next version, patch when none applies."
        )
    notes = "".join(f"\n- {note}" for note in release.notes)
    return (
        f"This pull request adds {code_span(CONFIG_PATH)}, ghapp's configuration, written "
        "for this repository. Nothing that ghapp does in bulk (syncing labels, drafting "
        "releases) happens before it is merged.\n"
        "\n"
        "### What each section does\n"
        "\n"
        f"- **`label-sync`** declares the {labels} label(s) this repository has, as they "
        "are. From then on the file is the list of labels: edit a label here and ghapp "
        "changes it on GitHub.\n"
        f"- **`release-publish`**: {release_text}{notes}\n"
        "- **`milestone-progress`** writes each milestone's progress (closed/total, a bar, "
        "the due date) into its description.\n"
        "\n"
        "### What merging changes\n"
        "\n"
        f"{plan}\n"
        "\n"
        "---\n"
        "Not now? Close this pull request: ghapp will not open it again by itself. "
        f"`@{slug} config` on any issue opens a new one.\n"
    )
