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
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

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
