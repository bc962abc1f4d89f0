"""Structured logging: one JSON object per line (or a readable line on a terminal).

Fields travel as `extra=` (event, action, delivery, installation, repo, skill,
duration_ms). A filter scrubs every configured secret and anything shaped like a GitHub
token or a PEM key from messages and fields, so a careless log call cannot leak them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

FIELDS = (
    "event",
    "action",
    "delivery",
    "installation",
    "repo",
    "skill",
    "task",
    "outcome",
    "duration_ms",
    "method",
    "path",
    "status",
    "body",
)
TOKEN_PATTERN = re.compile(
    r"(gh[pousr]_[A-Za-z0-9_]{8,})"
    r"|(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$))"
    r"|((?:Bearer|token)\s+[A-Za-z0-9._\-]{20,})"
    r"|(sk-[A-Za-z0-9_\-]{16,})"  # OpenAI-style API keys (the agent's OPENAI_API_KEY)
)


class SecretScrubber(logging.Filter):
    """Replace secrets in a record's message and fields before any handler sees it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[secret]")
        return TOKEN_PATTERN.sub("[secret]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for name in FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                record.__dict__[name] = self.scrub(value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            if name in record.__dict__ and record.__dict__[name] is not None:
                data[name] = record.__dict__[name]
        if record.exc_text:
            data["error"] = record.exc_text
        elif record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class PrettyFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{name}={record.__dict__[name]}"
            for name in FIELDS
            if record.__dict__.get(name) is not None
        )
        line = f"{record.levelname[:4]:4} {record.name}: {record.getMessage()}"
        if extras:
            line = f"{line}  {extras}"
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        return line


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (it may be replaced after set-up)."""

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def configure_logging(level: str, fmt: str | None, secrets: Iterable[str] = ()) -> None:
    """Route ghapp's, uvicorn's and httpx's logs through one handler and one scrubber."""
    chosen = fmt or ("pretty" if sys.stderr.isatty() else "json")
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if chosen == "json" else PrettyFormatter())
    handler.addFilter(SecretScrubber(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # httpx logs every request at INFO; ghapp logs GitHub requests itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
