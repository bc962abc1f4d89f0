"""The plan as another skill sees it: label-sync's planner offered through `Skill.offer`.

The onboarding skill proposes a `label-sync:` section and shows what merging it would
change. It may not import label-sync, so label-sync offers one plain function of plain
data (`plan-rows`): the repository's labels as GitHub lists them and a proposed section
in, the plan's operations in words out, computed by the same planner a sync uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from ghapp.skills.label_sync.matching import ExistingLabel
from ghapp.skills.label_sync.operations import (
    Create,
    Delete,
    LabelOperation,
    Merge,
    Rename,
    Update,
    describe_operation,
)
from ghapp.skills.label_sync.options import LabelSyncOptions
from ghapp.skills.label_sync.plan import plan_label_changes

PLAN_ROWS = "plan-rows"

_KINDS: tuple[tuple[type, str], ...] = (
    (Create, "create"),
    (Rename, "rename"),
    (Update, "update"),
    (Merge, "merge"),
    (Delete, "delete"),
)


def _kind(op: LabelOperation) -> str:
    return next(word for kind, word in _KINDS if isinstance(op, kind))


def plan_rows(
    existing: Sequence[Mapping[str, Any]], section: Mapping[str, Any]
) -> list[dict[str, str]]:
    """What syncing `section` (a `label-sync:` section) would do to `existing` (labels as
    `GET /repos/{owner}/{repo}/labels` lists them): one `{"change", "what"}` per operation,
    in the order a sync applies them, then one `{"change": "conflict"}` per change left
    out. Empty: merging changes no label. ValueError when the section is invalid.

    Swaps count as applied already (nothing in a proposed section has been synced yet, and
    a first sync plans a swap the same way)."""
    try:
        options = LabelSyncOptions.model_validate(dict(section))
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    labels = [
        ExistingLabel(
            str(label["name"]),
            str(label.get("color") or ""),
            label.get("description"),
            int(label.get("id") or index),
        )
        for index, label in enumerate(existing, 1)
    ]
    plan = plan_label_changes(labels, options.labels, delete_undeclared=options.delete_undeclared)
    rows = [{"change": _kind(op), "what": describe_operation(op)} for op in plan.operations]
    rows += [{"change": "conflict", "what": conflict} for conflict in plan.conflicts]
    return rows
