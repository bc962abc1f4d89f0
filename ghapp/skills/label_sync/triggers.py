"""When label-sync acts, decided from a webhook payload alone: pure functions, no I/O.

This module owns three questions the handlers ask before touching GitHub: did this push
change `.github/ghapp.yml` on the default branch (a sync is due), which declared label
did a person just edit or delete by hand (strict mode restores it), and how a plan
preview reads as a check run on the pull request that would apply it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ghapp import CONFIG_PATH
from ghapp.skills.label_sync.options import DeclaredLabel
from ghapp.skills.label_sync.plan import LabelPlan

__all__ = [
    "PREVIEW_CHECK_NAME",
    "CheckOutput",
    "config_changed_on_default_branch",
    "fit_for_github",
    "invalid_config_check",
    "label_to_restore",
    "plan_preview_check",
    "touches_config",
]

PREVIEW_CHECK_NAME = "ghapp: label plan"
# GitHub refuses a check run summary (or a comment) longer than this.
MAX_SUMMARY = 65_535

PREVIEW_NOTE = (
    "\n---\nThis is what merging this pull request makes of the repository's labels, "
    "computed from the labels it has now."
)


def touches_config(paths: Iterable[str | None]) -> bool:
    """Whether `.github/ghapp.yml` is among the paths (a rename's old name counts)."""
    return any(path == CONFIG_PATH for path in paths)


def config_changed_on_default_branch(payload: Mapping[str, Any]) -> bool:
    """A push to the default branch whose commits add, change or remove the config file."""
    repository = payload.get("repository")
    default_branch = repository.get("default_branch") if isinstance(repository, Mapping) else None
    if not default_branch or payload.get("ref") != f"refs/heads/{default_branch}":
        return False
    if payload.get("deleted"):
        return False
    commits = payload.get("commits")
    paths: list[str] = []
    for commit in commits if isinstance(commits, list) else []:
        if not isinstance(commit, Mapping):
            continue
        for key in ("added", "modified", "removed"):
            value = commit.get(key)
            if isinstance(value, list):
                paths.extend(path for path in value if isinstance(path, str))
    return touches_config(paths)


def label_to_restore(
    action: str | None, payload: Mapping[str, Any], declared: Sequence[DeclaredLabel]
) -> DeclaredLabel | None:
    """The declared label a hand edit or deletion broke, ready to plan its restoration.

    A declared label renamed by hand comes back with its new name added as an alias, so
    the plan renames it back (its issues keep it) instead of creating a second label.
    Aliases that name other declared labels (links of a rename chain) are dropped: planned
    alone, they would take those labels over. None when the event is about a label nobody
    declared.
    """
    label = payload.get("label")
    name = label.get("name") if isinstance(label, Mapping) else None
    if not isinstance(name, str):
        return None
    declared_names = {d.name.casefold() for d in declared}
    by_name = {
        d.name.casefold(): d.model_copy(
            update={"aliases": [a for a in d.aliases if a.casefold() not in declared_names]}
        )
        for d in declared
    }
    if action == "deleted":
        return by_name.get(name.casefold())
    if action != "edited":
        return None
    changes = payload.get("changes")
    renamed = changes.get("name") if isinstance(changes, Mapping) else None
    old = renamed.get("from") if isinstance(renamed, Mapping) else None
    if isinstance(old, str) and old.casefold() != name.casefold() and old.casefold() in by_name:
        restored = by_name[old.casefold()]
        if name.casefold() in by_name:
            # Renamed onto another declared label's name: that label is not ours to take,
            # so the renamed one is recreated instead.
            return restored
        return restored.model_copy(update={"aliases": [*restored.aliases, name]})
    return by_name.get(name.casefold())


@dataclass(frozen=True)
class CheckOutput:
    """A completed check run: its conclusion and what it shows."""

    conclusion: Literal["success", "neutral", "failure"]
    title: str
    summary: str


def fit_for_github(summary: str) -> str:
    """`summary`, cut to what GitHub accepts in a check run summary or a comment."""
    if len(summary) <= MAX_SUMMARY:
        return summary
    cut = "\n\n… (cut: the rest is longer than GitHub can show)"
    return summary[: MAX_SUMMARY - len(cut)] + cut


def plan_preview_check(plan: LabelPlan) -> CheckOutput:
    """The check run for a valid configuration: neutral (a grey mark worth opening) when
    merging would merge or delete labels, so nobody learns of a deletion afterwards."""
    count = len(plan.operations)
    destructive = plan.destructive_count
    if count == 0:
        title = "No label changes"
    else:
        title = f"{count} label change(s) on merge"
        if destructive:
            title += f", {destructive} removing a label from issues"
    return CheckOutput(
        "neutral" if destructive else "success",
        title,
        fit_for_github(plan.render_markdown() + PREVIEW_NOTE),
    )


def invalid_config_check(problems: Sequence[str]) -> CheckOutput:
    """The check run for a configuration that does not validate: it fails with the reasons."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    summary = f"Nothing would be synced, because {CONFIG_PATH} is invalid:\n\n{listed}\n"
    return CheckOutput("failure", f"Invalid {CONFIG_PATH}", fit_for_github(summary))
