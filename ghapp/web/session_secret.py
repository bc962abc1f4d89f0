"""The settings page's session secret: SESSION_SECRET, else one generated and kept in a
file beside `.env`, never in the database.

The secret signs the session cookies and derives the key that seals each person's
GitHub token in the database (`ghapp.web.sessions`). Kept in the same database, it would
let whoever reads the database alone unseal the tokens; so it lives in
`.ghapp-session-secret` next to `.env` (mode 0600, like `.env` itself), where the App's
other credentials already are. A secret an older ghapp kept in the database
(`app_values`) moves to that file once and is deleted from the database, so signed-in
people stay signed in. Several web processes on different machines must share
SESSION_SECRET instead (docs/security.md).

Without a `.env` path (settings built in code, as tests do) the generated secret lives in
this process's memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from ghapp.config import Settings, new_secret
from ghapp.logs import remember_secrets
from ghapp.store import AppValues

SECRET_FILE = ".ghapp-session-secret"  # noqa: S105 - a file name, not a secret
LEGACY_NAME = "session_secret"  # where ghapp ≤ 0.1 kept it: the app_values table

log = logging.getLogger("ghapp.web")


def session_secret_path(settings: Settings) -> Path | None:
    """The file beside `.env` that holds the generated secret (None: no `.env` path)."""
    if settings.env_file is None:
        return None
    return settings.env_file.with_name(SECRET_FILE)


def read_or_create_secret_file(path: Path, value: str) -> str:
    """The secret in `path`; when there is none, `value` written there first (mode 0600).

    The file appears whole or not at all (written aside, then hard-linked into place), so
    two processes starting together agree on whichever secret got there first.
    """
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        text = ""
    if text:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(0o600)
            log.warning("%s was readable by others: made it 0600", path)
        return text
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # Another process was first: use its secret.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()


async def load_session_secret(settings: Settings, values: AppValues) -> str:
    """SESSION_SECRET, else the generated one (moved out of the database if found there)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    legacy = await values.get(LEGACY_NAME)
    path = session_secret_path(settings)
    if path is None:
        secret = legacy or new_secret()
    else:
        secret = await asyncio.to_thread(read_or_create_secret_file, path, legacy or new_secret())
        if legacy is not None:
            await values.delete(LEGACY_NAME)
            log.info("session secret moved out of the database into %s", path)
    remember_secrets([secret])
    return secret
