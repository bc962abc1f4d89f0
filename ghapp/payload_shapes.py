"""Each webhook event's shape, derived from githubkit's models: `payload_shapes.json`.

Ingress checks that a body fits the event its header names (`payloads.shape_problem`)
against a table of top-level keys. Reading those keys from githubkit's models at run time
imported each event's models on its first delivery, on the event loop: 11 MiB and 0.1 s
for `issue_comment`, 68 MiB and a second (several under load) for `pull_request`, kept
for the life of the process and paid while every acknowledgement waited (issue 17). The
table is derived once, here, and shipped with ghapp; `tests/test_ingress_mutants.py`
checks it against the installed githubkit, so a githubkit upgrade that changes a shape
fails until it is derived again:

    python -m ghapp.payload_shapes      # rewrites ghapp/payload_shapes.json
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SCHEMAS = "githubkit_schemas.v2026_03_10.webhooks"
TABLE = Path(__file__).with_name("payload_shapes.json")

# Top-level keys that name what an event is about. One of them in a body whose claimed event
# never carries it (a `label` under `X-GitHub-Event: installation`) says the header lies.
SUBJECT_KEYS = frozenset(
    {
        "alert", "answer", "check_run", "check_suite", "comment", "commits", "deployment",
        "deployment_status", "discussion", "forkee", "hook", "issue", "label", "member",
        "membership", "milestone", "package", "pages", "project", "project_card",
        "project_column", "pull_request", "pusher", "release", "repositories_added",
        "repositories_removed", "review", "starred_at", "team", "thread", "workflow_job",
        "workflow_run",
    }
)  # fmt: skip

# What the full installation object of `installation*` events has and the {id, node_id}
# of every other event lacks.
INSTALLATION_KEYS = frozenset({"account", "app_id", "target_type"})


def _variants(annotation: Any) -> list[type[BaseModel]]:
    """The models of a (possibly Annotated, possibly union) webhook annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _variants(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return [model for arg in args for model in _variants(arg)]
    return []


def _required(model: type[BaseModel]) -> frozenset[str]:
    """Keys the model requires with a value that cannot be null."""
    return frozenset(
        f.alias or k
        for k, f in model.model_fields.items()
        if f.is_required() and type(None) not in typing.get_args(f.annotation)
    )


def derive(event: str) -> dict[str, Any] | None:
    """The shape of `event` from its githubkit models (None: no models to read)."""
    variants = _variants(importlib.import_module(f"{SCHEMAS}.{event}").Event)
    if not variants:
        return None
    # Only what tells events apart is required: GitHub's examples lack keys the schemas
    # call required (older versions), and a missing `requester` proves nothing.
    required = frozenset.intersection(*(_required(v) for v in variants)) & (
        SUBJECT_KEYS | {"installation"}
    )
    known = {f.alias or k for v in variants for k, f in v.model_fields.items()}
    nested: dict[str, list[str]] = {}
    # Objects grow and lose keys with GitHub's versions: only `installation` is checked
    # inside, where the full object (installation events) and the {id, node_id} every
    # other event carries tell the events apart.
    for key in required & {"installation"}:
        inner = [
            _required(m)
            for v in variants
            for k, f in v.model_fields.items()
            if (f.alias or k) == key
            for m in _variants(f.annotation)
        ]
        if inner:
            nested[key] = sorted(frozenset.intersection(*inner) & INSTALLATION_KEYS)
    return {"required": sorted(required), "known": sorted(known), "nested": nested}


def derive_all() -> dict[str, dict[str, Any]]:
    """Every event githubkit has models for, by name."""
    package = importlib.import_module(SCHEMAS)
    events = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name[0] != "_")
    return {event: shape for event in events if (shape := derive(event)) is not None}


def render(table: dict[str, dict[str, Any]]) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    TABLE.write_text(render(derive_all()))
