"""Structured logging: one JSON object per line (or a readable line on a terminal).

Fields travel as `extra=` (event, action, delivery, installation, repo, skill,
duration_ms). A filter scrubs every configured secret, every secret ghapp learns while
running (`remember_secrets`: the generated session secret, credentials setup receives,
tokens of an unfamiliar shape) and anything shaped like a GitHub token, a sealed user
token or a PEM key from messages and fields, so a careless log call cannot leak them.

Libraries that log what they send or store (database drivers print statement parameters,
httpx full URLs) are held at WARNING whatever LOG_LEVEL says, and the access log never
prints a query string: callbacks carry one-time codes, `state` and the setup token there.

The access log leaves out accepted webhook deliveries (a 2xx answer to a POST on the
webhook path): the worker logs each delivery's outcome with its id, event and repository,
and one more JSON line per webhook was an eighth of ingress's CPU (issue 17). Refused
deliveries (401, 400, 413, …) and every other request keep their access line. `ghapp run`
writes that line itself (`ghapp.access`, ghapp/web/access_log.py) and leaves uvicorn's
off; the filter below still holds for uvicorn's, should it run ghapp's app itself.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections import OrderedDict
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
    # A Fernet token: a person's GitHub token as the settings page seals it.
    r"|(gAAAAA[A-Za-z0-9_\-]{40,}={0,2})"
    r"|(sk-[A-Za-z0-9_\-]{16,})"  # OpenAI-style API keys (the agent's OPENAI_API_KEY)
)
# Loggers of libraries that print statement parameters, results or full URLs at DEBUG or
# INFO: never below WARNING, whatever LOG_LEVEL says (ghapp logs what matters itself).
QUIET_LIBRARIES = (
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "alembic.runtime.migration",
    "httpx",
    "httpcore",
    "hishel",
    "multipart",
    "python_multipart",
    "redis",
    "urllib3",
    "asyncio",
    "openai",
)
# Libraries that log every job at INFO (saq: "Enqueuing", "Processing", "Finished",
# "Retrying" — three JSON lines per delivery, 5 % of the web process's CPU under load; ghapp
# logs each delivery's outcome itself): WARNING and above unless LOG_LEVEL is debug.
CHATTY_LIBRARIES = ("saq",)
# uvicorn's access log, and ghapp's own in its format (ghapp/web/access_log.py)
ACCESS_LOGGERS = frozenset({"uvicorn.access", "ghapp.access"})
# Secrets learnt at run time that no pattern recognises; the oldest are forgotten first.
MAX_REMEMBERED = 1000


class SecretScrubber(logging.Filter):
    """Replace secrets in a record's message and fields before any handler sees it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.learnt: OrderedDict[str, None] = OrderedDict()

    def remember(self, secrets: Iterable[str]) -> None:
        """Scrub these too from now on (values a pattern already catches are skipped)."""
        for secret in secrets:
            if len(secret) < 6 or secret in self.learnt or secret in self.secrets:
                continue
            if TOKEN_PATTERN.fullmatch(secret):
                continue
            self.learnt[secret] = None
            if len(self.learnt) > MAX_REMEMBERED:
                self.learnt.popitem(last=False)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[secret]")
        for secret in sorted(self.learnt, key=len, reverse=True):
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


class AccessLogWithoutQueries(logging.Filter):
    """uvicorn's access log with the path only: query strings of callbacks carry one-time
    codes and `state`, the setup URL its token (any query string is dropped).

    With `quiet_posts`, a 2xx answer to a POST on one of those paths is not logged at all
    (installed on the `uvicorn.access` logger itself, the record is dropped before the
    scrubber and the formatter run). uvicorn's arguments: client, method, path, version,
    status."""

    def __init__(self, quiet_posts: Iterable[str] = ()) -> None:
        super().__init__()
        self.quiet_posts = frozenset(quiet_posts)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name not in ACCESS_LOGGERS or not isinstance(args, tuple) or len(args) < 3:
            return True
        path = args[2]
        if not isinstance(path, str):
            return True
        path = path.split("?", 1)[0]
        if (
            len(args) >= 5
            and args[1] == "POST"
            and path in self.quiet_posts
            and isinstance(args[4], int)
            and 200 <= args[4] < 300
        ):
            return False
        record.args = (*args[:2], path, *args[3:])
        return True


def remember_secrets(secrets: Iterable[str]) -> None:
    """Teach the scrubbers installed by `configure_logging` secrets learnt while running."""
    values = [s for s in secrets if s]
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, SecretScrubber):
                found.remember(values)


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


def configure_logging(
    level: str,
    fmt: str | None,
    secrets: Iterable[str] = (),
    webhook_path: str | None = None,
) -> None:
    """Route ghapp's, uvicorn's and httpx's logs through one handler and one scrubber.

    With `webhook_path`, accepted deliveries leave no access-log line (see the module)."""
    chosen = fmt or ("pretty" if sys.stderr.isatty() else "json")
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if chosen == "json" else PrettyFormatter())
    handler.addFilter(AccessLogWithoutQueries())
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
        logger.setLevel(logging.NOTSET)  # LOG_LEVEL decides, not a level uvicorn set
    access = logging.getLogger("uvicorn.access")
    for old in list(access.filters):
        if isinstance(old, AccessLogWithoutQueries):
            access.removeFilter(old)
    access.addFilter(AccessLogWithoutQueries([webhook_path] if webhook_path else []))
    # httpx logs every request (URL and query) at INFO, database drivers statement
    # parameters at DEBUG: ghapp logs GitHub requests and what it stores itself.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    debug = root.getEffectiveLevel() <= logging.DEBUG
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
