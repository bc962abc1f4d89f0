"""Webhook payloads: typed parsing with githubkit's models, tolerant of shape drift, and
what routing reads from a payload (installation, repository, ordering key).

githubkit's `parse()` builds a pydantic TypeAdapter on every call (1.75 ms for a 31 KB
payload, LIBRARIES.md); one adapter per event type is built once here instead, on first
use only (`Context.model`). Ingress's shape check reads a table derived from the same
models (`payload_shapes`) and imports none of them. A payload that does not validate
(older GitHub Enterprise Servers, older examples, fields GitHub added) is still
delivered: the model is None and the mismatch is logged once per event.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ghapp.payload_shapes import SCHEMAS, SUBJECT_KEYS, TABLE

log = logging.getLogger("ghapp.payloads")
_reported: set[str] = set()


@cache
def _adapter(event: str) -> TypeAdapter[Any] | None:
    if not event.replace("_", "").isalnum():
        return None
    try:
        module = importlib.import_module(f"{SCHEMAS}.{event}")
    except ImportError:
        return None
    return TypeAdapter(module.Event)


@dataclass(frozen=True)
class _Shape:
    required: frozenset[str]  # top-level keys every variant of the event has
    known: frozenset[str]  # top-level keys some variant of the event may have
    nested: dict[str, frozenset[str]]  # required key → keys its object always has


@cache
def _shapes() -> dict[str, _Shape]:
    """Every event's shape, from the table derived from githubkit's models
    (`ghapp.payload_shapes`): no model is imported to check a delivery."""
    table = json.loads(TABLE.read_text())
    return {
        event: _Shape(
            frozenset(shape["required"]),
            frozenset(shape["known"]),
            {key: frozenset(keys) for key, keys in shape["nested"].items()},
        )
        for event, shape in table.items()
    }


def _shape(event: str) -> _Shape | None:
    return _shapes().get(event)


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
    foreign = sorted(k for k in payload.keys() & SUBJECT_KEYS if k not in shape.known)
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
