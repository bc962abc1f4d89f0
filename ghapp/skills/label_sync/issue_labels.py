"""`@slug label add|remove NAME…`: which labels the words name, and what the issue ends with.

Pure functions over label names; the command handler reads the repository's labels and
the issue's current labels, calls these, sets the result in one request and replies with
`render_label_reply`. Only labels the repository has can be added (as Prow's label
plugin does): a typo must not create a new label that nobody declared.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ghapp import code_span
from ghapp.skills.label_sync.swaps import apply_exclusive

__all__ = [
    "LabelNames",
    "labels_after_adding",
    "labels_after_removing",
    "render_label_reply",
    "resolve_label_names",
]

UNKNOWN_LABEL = "This repository has no label {name}."
DID_YOU_MEAN = " Did you mean {choices}?"
ADDED = "Added {names}."
REMOVED = "Removed {names}."
REPLACED = "Removed {names}: only one label of a scope stays."
ALREADY_ON = "Already there: {names}."
NOT_ON = "Not on this {thing}, so nothing to remove: {names}."
NOTHING_CHANGED = "Nothing changed."


@dataclass(frozen=True)
class LabelNames:
    """The words of a command resolved against the repository's labels."""

    found: tuple[str, ...] = ()  # the repository's spelling, in the order asked
    # Unknown words with up to three close matches each, for the reply.
    unknown: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())


def resolve_label_names(words: Sequence[str], repo_labels: Iterable[str]) -> LabelNames:
    """Match command words to labels, case-insensitively.

    Unquoted names with spaces arrive as several words (`label add good first issue`), so
    the longest run of words that names a label wins before single words are tried.
    """
    by_folded = {name.casefold(): name for name in repo_labels}
    found: list[str] = []
    unknown: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            name = by_folded.get(" ".join(words[i:j]).casefold())
            if name is not None:
                if name not in found:
                    found.append(name)
                i = j
                break
        else:
            word = words[i]
            close = difflib.get_close_matches(word.casefold(), list(by_folded), n=3, cutoff=0.6)
            unknown.append((word, tuple(by_folded[c] for c in close)))
            i += 1
    return LabelNames(tuple(found), tuple(unknown))


def labels_after_adding(
    current: Sequence[str], added: Sequence[str], exclusive_scopes: Iterable[str], separator: str
) -> list[str]:
    """The issue's labels with `added` on, each one displacing its exclusive-scope rivals."""
    scopes = list(exclusive_scopes)
    labels = list(current)
    for name in added:
        labels = apply_exclusive(labels, name, scopes, separator) or labels
    return labels


def labels_after_removing(current: Sequence[str], removed: Sequence[str]) -> list[str]:
    gone = {name.casefold() for name in removed}
    return [label for label in current if label.casefold() not in gone]


def _names(names: Iterable[str]) -> str:
    return ", ".join(code_span(name) for name in names)


def render_label_reply(
    *,
    adding: bool,
    before: Sequence[str],
    after: Sequence[str],
    asked: LabelNames,
    thing: str = "issue",
) -> str:
    """The reply to `label add|remove`: what changed, what was already so, what is unknown."""
    folded_before = {label.casefold() for label in before}
    folded_after = {label.casefold() for label in after}
    lines: list[str] = []
    if adding:
        added = [n for n in asked.found if n.casefold() not in folded_before]
        already = [n for n in asked.found if n.casefold() in folded_before]
        displaced = [label for label in before if label.casefold() not in folded_after]
        if added:
            lines.append(ADDED.format(names=_names(added)))
        if displaced:
            lines.append(REPLACED.format(names=_names(displaced)))
        if already:
            lines.append(ALREADY_ON.format(names=_names(already)))
    else:
        removed = [n for n in asked.found if n.casefold() in folded_before]
        absent = [n for n in asked.found if n.casefold() not in folded_before]
        if removed:
            lines.append(REMOVED.format(names=_names(removed)))
        if absent:
            lines.append(NOT_ON.format(thing=thing, names=_names(absent)))
    for word, close in asked.unknown:
        line = UNKNOWN_LABEL.format(name=code_span(word))
        if close:
            line += DID_YOU_MEAN.format(choices=" or ".join(code_span(c) for c in close))
        lines.append(line)
    if list(before) == list(after) and not asked.unknown and not lines:
        lines.append(NOTHING_CHANGED)
    return "\n".join(lines)
