"""Exclusive scopes and status labels: which labels an issue should carry after a change.

This module owns the decisions, as pure functions over label names; the handler reads
the issue's current labels from GitHub, calls these, and sets the returned list in one
request (so the swap is atomic and never based on a stale payload). `None` means the
labels are already right and no request is needed.

Label names compare case-insensitively, as GitHub compares them; names keep the spelling
they already have on the issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "STATUS_COLORS",
    "LifecycleEvent",
    "apply_exclusive",
    "exclusive_swap_for_label_event",
    "is_exclusive",
    "lifecycle_event",
    "scope_of",
    "status_swap",
]

# The field names of `StatusLabels`, one per lifecycle event a status label can follow.
LifecycleEvent = Literal[
    "issue_opened",
    "issue_assigned",
    "issue_closed_completed",
    "issue_closed_not_planned",
    "pr_opened",
    "pr_ready_for_review",
    "pr_merged",
    "pr_closed_unmerged",
    "pr_checks_failed",
    "pr_checks_passed",
]

# The color a status label gets when ghapp is the one creating it and `labels:` does not
# declare it (GitHub would make it grey): what each state usually looks like.
STATUS_COLORS: dict[str, str] = {
    "issue_opened": "c5def5",  # light blue: new
    "issue_assigned": "fbca04",  # yellow: in progress
    "issue_closed_completed": "0e8a16",  # green: done
    "issue_closed_not_planned": "d4c5f9",  # lavender: won't do
    "pr_opened": "fbca04",  # yellow: in progress
    "pr_ready_for_review": "0075ca",  # blue: in review
    "pr_merged": "6f42c1",  # purple, as GitHub shows a merge
    "pr_closed_unmerged": "e99695",  # faded red: closed
    "pr_checks_failed": "d73a4a",  # red: failing
    "pr_checks_passed": "fbca04",  # yellow: back in progress
}


def scope_of(label: str, separator: str) -> str | None:
    """The scope of `scope<separator>value` (`priority` in `priority: high`), else None.

    Both parts must be non-empty: `priority:` or `:high` is a plain label.
    """
    if not separator:
        return None
    scope, found, value = label.partition(separator)
    scope = scope.strip()
    if not found or not scope or not value.strip():
        return None
    return scope


def _exclusive_scope(label: str, exclusive_scopes: Iterable[str], separator: str) -> str | None:
    """The label's scope, casefolded, when that scope is exclusive."""
    scope = scope_of(label, separator)
    if scope is None:
        return None
    folded = scope.casefold()
    return folded if any(folded == s.strip().casefold() for s in exclusive_scopes) else None


def is_exclusive(label: str, exclusive_scopes: Iterable[str], separator: str) -> bool:
    """Whether `label` belongs to an exclusive scope (so adding it may displace others)."""
    return _exclusive_scope(label, exclusive_scopes, separator) is not None


def _with_label(
    current: Sequence[str], added: str, exclusive_scopes: Iterable[str], separator: str
) -> list[str]:
    scope = _exclusive_scope(added, exclusive_scopes, separator)
    key = added.casefold()
    labels = [
        label
        for label in current
        if label.casefold() == key
        or scope is None
        or (
            (other := scope_of(label, separator)) is None
            # A label of the same exclusive scope gives way to the one just added.
            or other.casefold() != scope
        )
    ]
    if all(label.casefold() != key for label in labels):
        labels.append(added)
    return labels


def apply_exclusive(
    current: Sequence[str],
    added: str,
    exclusive_scopes: Iterable[str],
    separator: str,
) -> list[str] | None:
    """The issue's labels once `added` is on it and its exclusive-scope rivals are off.

    Returns the full list to set, or None if `current` is already that.
    """
    labels = _with_label(current, added, exclusive_scopes, separator)
    return None if labels == list(current) else labels


def exclusive_swap_for_label_event(
    current: Sequence[str],
    labels_at_event: Sequence[str],
    added: str,
    exclusive_scopes: Iterable[str],
    separator: str,
) -> list[str] | None:
    """The labels to set after the event "`added` was put on the issue", or None to leave
    the issue alone.

    `current` is read from GitHub now; `labels_at_event` is the issue's label list in the
    event's payload (GitHub's snapshot when `added` went on). When two labels of one scope
    are added close together, the latest label event wins, whatever order the events
    are processed in:

    - `added` is no longer on the issue: it was taken off (or lost to a later rival)
      since, so this event is out of date;
    - a rival of the same scope is on the issue but was not in the event's snapshot: it
      arrived after `added`, and its own event will remove `added`.
    """
    folded = {label.casefold() for label in current}
    scope = _exclusive_scope(added, exclusive_scopes, separator)
    if scope is None or added.casefold() not in folded:
        return None
    at_event = {label.casefold() for label in labels_at_event}
    for label in current:
        other = scope_of(label, separator)
        is_rival = other is not None and other.casefold() == scope
        if is_rival and label.casefold() != added.casefold() and label.casefold() not in at_event:
            return None
    return apply_exclusive(current, added, exclusive_scopes, separator)


def status_swap(
    current: Sequence[str],
    status_label: str,
    status_scope_labels: Iterable[str],
    exclusive_scopes: Iterable[str],
    separator: str,
) -> list[str] | None:
    """The issue's labels with `status_label` set and every other status label removed.

    `status_scope_labels` are all configured status labels; they are removed even when
    they share no exclusive scope (`in-progress` and `done` need not be `status:*`), and
    the exclusive rule applies on top. Returns None if nothing changes.
    """
    key = status_label.casefold()
    others = {label.casefold() for label in status_scope_labels} - {key}
    remaining = [label for label in current if label.casefold() not in others]
    labels = _with_label(remaining, status_label, exclusive_scopes, separator)
    return None if labels == list(current) else labels


# Lifecycle events an action alone names; closing needs the payload (see below).
_BY_ACTION: dict[tuple[str, str], LifecycleEvent] = {
    ("issues", "opened"): "issue_opened",
    ("issues", "assigned"): "issue_assigned",
    ("pull_request", "opened"): "pr_opened",
    ("pull_request", "ready_for_review"): "pr_ready_for_review",
}


def lifecycle_event(event: str, action: str, payload: Mapping[str, Any]) -> LifecycleEvent | None:
    """Which status-label event a webhook delivery is, if any."""
    if (event, action) in _BY_ACTION:
        return _BY_ACTION[(event, action)]
    if action != "closed":
        return None
    if event == "issues":
        issue = payload.get("issue")
        reason = issue.get("state_reason") if isinstance(issue, Mapping) else None
        # Servers from before close reasons send none; every close was "completed" then.
        if reason in (None, "completed"):
            return "issue_closed_completed"
        # Closing as a duplicate is a kind of "not planned" (GitHub's UI groups them).
        if reason in ("not_planned", "duplicate"):
            return "issue_closed_not_planned"
        return None
    pull = payload.get("pull_request") if event == "pull_request" else None
    if not isinstance(pull, Mapping):
        return None
    # `merged` is authoritative; `merged_at` covers payloads that omit it.
    merged = pull.get("merged")
    if merged is None:
        merged = pull.get("merged_at") is not None
    return "pr_merged" if merged else "pr_closed_unmerged"
