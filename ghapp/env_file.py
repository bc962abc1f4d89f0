"""The `.env` file as setup mode uses it: one variable read back, and the App's
credentials written in, every other line kept as it was.

Reading the whole configuration is `ghapp.config`'s job (pydantic-settings); this module
only answers "which App does this file already name?" and writes the file safely.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from dotenv import dotenv_values

_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_./:@+=,-]*")
_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")


def env_file_value(path: Path, name: str) -> str | None:
    """One variable as the `.env` file at `path` sets it (None: unset or no file)."""
    if not path.is_file():
        return None
    return dotenv_values(path).get(name) or None


def _quote_env(value: str) -> str:
    if _PLAIN_VALUE.fullmatch(value):
        return value
    # Double quotes with backslash escapes: python-dotenv (and Probot's dotenv) turn `\n`
    # back into newlines, so a PEM key fits on one line.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _closes(text: str, quote: str) -> bool:
    """Whether `text` holds the (unescaped) closing `quote` of a value."""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quote == '"':
            escaped = True
        elif char == quote:
            return True
    return False


def update_env_file(path: Path, values: dict[str, str]) -> None:
    """Set `values` in the `.env` file at `path`, keeping every other line as it was.

    The new file is written whole to a sibling created with mode 0600 and renamed over the
    old one: the secrets it holds are never readable by others, not even for a moment,
    and a crash leaves the previous file intact.
    """
    kept: list[str] = []
    open_quote: str | None = None  # inside a replaced value that spans several lines
    old = path.read_text().splitlines() if path.is_file() else []
    for line in old:
        if open_quote is not None:
            if _closes(line, open_quote):
                open_quote = None
            continue
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) in values:
            value = match.group(2).strip()
            if value[:1] in ("'", '"') and not _closes(value[1:], value[0]):
                open_quote = value[0]
            continue
        kept.append(line)
    if kept and kept[-1].strip():
        kept.append("")
    kept += [f"{name}={_quote_env(value)}" for name, value in values.items()]
    text = "\n".join(kept) + "\n"
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
