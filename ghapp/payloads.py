"""Webhook payloads: typed parsing with githubkit's models, tolerant of shape drift, and
what routing reads from a payload (installation, repository, ordering key).

githubkit's `parse()` builds a pydantic TypeAdapter on every call (1.75 ms for a 31 KB
payload, LIBRARIES.md); one adapter per event type is built once here instead. A payload
that does not validate (older GitHub Enterprise Servers, older examples, fields GitHub
added) is still delivered: the model is None and the mismatch is logged once per event.
"""

from __future__ import annotations

import importlib
import logging
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

log = logging.getLogger("ghapp.payloads")
_SCHEMAS = "githubkit_schemas.v2026_03_10.webhooks"
_reported: set[str] = set()


@cache
def _adapter(event: str) -> TypeAdapter[Any] | None:
    if not event.replace("_", "").isalnum():
        return None
    try:
        module = importlib.import_module(f"{_SCHEMAS}.{event}")
    except ImportError:
        return None
    return TypeAdapter(module.Event)


# Top-level keys that name what an event is about. One of them in a body whose claimed event
# never carries it (a `label` under `X-GitHub-Event: installation`) says the header lies.
_SUBJECT_KEYS = frozenset(
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
_INSTALLATION_KEYS = frozenset({"account", "app_id", "target_type"})


@dataclass(frozen=True)
class _Shape:
    required: frozenset[str]  # top-level keys every variant of the event has
    known: frozenset[str]  # top-level keys some variant of the event may have
    nested: dict[str, frozenset[str]]  # required key → keys its object always has


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


@cache
def _shape(event: str) -> _Shape | None:
    adapter = _adapter(event)
    if adapter is None:
        return None
    module = importlib.import_module(f"{_SCHEMAS}.{event}")
    variants = _variants(module.Event)
    if not variants:
        return None
    # Only what tells events apart is required: GitHub's examples lack keys the schemas
    # call required (older versions), and a missing `requester` proves nothing.
    required = frozenset.intersection(*(_required(v) for v in variants)) & (
        _SUBJECT_KEYS | {"installation"}
    )
    known = frozenset(f.alias or k for v in variants for k, f in v.model_fields.items())
    nested: dict[str, frozenset[str]] = {}
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
            nested[key] = frozenset.intersection(*inner) & _INSTALLATION_KEYS
    return _Shape(required, known, nested)


def shape_problem(event: str, payload: dict[str, Any]) -> str | None:
    """Why `payload` cannot be a `event` delivery (None: it can, or the event is unknown).

    Read from githubkit's models of the event, and lenient where GitHub drifts: keys GitHub
    adds are fine, but a key every variant requires must be there (an `installation` with
    the keys it always has), and no key may name the subject of another kind of event.
    """
    shape = _shape(event)
    if shape is None:
        return None
    missing = sorted(shape.required - payload.keys())
    if missing:
        return f"no {', '.join(missing)}"
    for key, inner in shape.nested.items():
        value = payload[key]
        if isinstance(value, dict) and not inner <= value.keys():
            return f"{key} lacks {', '.join(sorted(inner - value.keys()))}"
    foreign = sorted(k for k in payload.keys() & _SUBJECT_KEYS if k not in shape.known)
    if foreign:
        return f"unexpected {', '.join(foreign)}"
    return None


def parse_model(event: str, payload: dict[str, Any]) -> Any | None:
    """githubkit's typed model of a payload, or None when it does not validate."""
    adapter = _adapter(event)
    if adapter is None:
        return None
    try:
        return adapter.validate_python(payload)
    except ValidationError as exc:
        if event not in _reported:
            _reported.add(event)
            fields = sorted({".".join(map(str, e["loc"][:4])) for e in exc.errors()[:20]})
            log.warning(
                "payload does not match githubkit's model; delivering the raw payload",
                extra={"event": event, "body": ", ".join(fields[:10])},
            )
        return None


def ordering_key(payload: dict[str, Any]) -> str | None:
    """Deliveries with the same key (one issue or pull request) are applied in order."""
    repo = repository_of(payload)
    if repo is None:
        return None
    subject = payload.get("issue") or payload.get("pull_request") or {}
    number = subject.get("number") if isinstance(subject, dict) else None
    if number is None and isinstance(payload.get("number"), int):
        number = payload["number"]
    return f"{repo}#{number}" if number is not None else None


def installation_id_of(payload: dict[str, Any]) -> int | None:
    installation = payload.get("installation")
    if isinstance(installation, dict) and isinstance(installation.get("id"), int):
        return installation["id"]
    return None


def repository_of(payload: dict[str, Any]) -> str | None:
    repo = payload.get("repository")
    if isinstance(repo, dict) and isinstance(repo.get("full_name"), str):
        return repo["full_name"]
    return None
