"""Configuration: the environment (and `.env`) read once into one frozen `Settings`.

Names follow Probot's so an existing `.env` works. Every bad value becomes a
`ConfigError` whose message is one line naming the variable and what is wrong; secret
values never appear in that message (pydantic's own errors echo inputs, so they are
rewritten here).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///ghapp.db"
SECRET_NAMES = ("PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_CLIENT_SECRET", "SESSION_SECRET")


class ConfigError(Exception):
    """A configuration value a person must fix; the message is one line, secret-free."""


@dataclass(frozen=True)
class Settings:
    app_id: int | None
    private_key: str | None = field(repr=False)
    webhook_secrets: tuple[str, ...] = field(repr=False)
    github_api_url: str
    github_url: str
    client_id: str | None
    client_secret: str | None = field(repr=False)
    host: str
    port: int
    base_url: str | None
    webhook_path: str
    database_url: str
    redis_url: str | None
    session_secret: str | None = field(repr=False)
    log_level: str
    log_format: Literal["json", "pretty"] | None
    dry_run: bool
    pacing: bool
    env_file: Path | None = None

    @property
    def configured(self) -> bool:
        """An App is configured; otherwise `ghapp run` serves setup mode."""
        return self.app_id is not None

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every secret this process knows, for redaction in logs and pages."""
        values = [*self.webhook_secrets]
        for value in (self.private_key, self.client_secret, self.session_secret):
            if value:
                values.append(value)
        return tuple(v for v in values if len(v) >= 6)


def _fail(name: str, problem: str) -> ConfigError:
    return ConfigError(f"{name}: {problem}")


def _read_env(env_file: Path | None, environ: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    # The process environment wins over `.env`, as with Probot and pydantic-settings.
    values.update(environ)
    return {k: v for k, v in values.items() if v != ""}


def _url(name: str, value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise _fail(name, f"not a URL ({exc})") from None
    if parts.scheme not in schemes or not parts.netloc:
        raise _fail(name, f"not a URL: expected {'/'.join(schemes)}://HOST…")
    return value.rstrip("/")


def normalize_database_url(value: str) -> str:
    """Accept URLs as hosting platforms hand them out and pick the async driver."""
    try:
        scheme, rest = value.split("://", 1)
    except ValueError:
        raise _fail(
            "DATABASE_URL", "not a URL: expected sqlite:///FILE or postgresql://…"
        ) from None
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    raise _fail("DATABASE_URL", f"unsupported database {scheme!r}: use sqlite or postgresql")


def load_private_key(text: str, *, source: str) -> str:
    """Return the PEM text of an RSA private key given as PEM, `\\n`-escaped PEM or base64."""
    candidate = text.strip()
    if "-----BEGIN" not in candidate and "\\n" not in candidate:
        try:
            candidate = base64.b64decode(candidate, validate=True).decode().strip()
        except (binascii.Error, UnicodeDecodeError, ValueError):  # ValueError: not ASCII
            raise _fail(source, "is not a PEM key (nor base64 of one)") from None
    candidate = candidate.replace("\\n", "\n")
    try:
        key = load_pem_private_key(candidate.encode(), password=None)
    except (ValueError, TypeError):
        raise _fail(source, "is not a readable PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise _fail(source, "is not an RSA key (GitHub Apps sign with RSA)")
    return candidate + "\n"


def _private_key(values: dict[str, str], workdir: Path) -> str | None:
    if "PRIVATE_KEY" in values:
        return load_private_key(values["PRIVATE_KEY"], source="PRIVATE_KEY")
    path_value = values.get("PRIVATE_KEY_PATH")
    if path_value:
        path = Path(path_value)
        try:
            text = path.read_text()
        except OSError as exc:
            raise _fail("PRIVATE_KEY_PATH", f"cannot read {path}: {exc.strerror}") from None
        return load_private_key(text, source="PRIVATE_KEY_PATH")
    pems = sorted(workdir.glob("*.pem"))
    if len(pems) == 1:
        return load_private_key(pems[0].read_text(), source=f"PRIVATE_KEY ({pems[0].name})")
    if len(pems) > 1:
        raise _fail("PRIVATE_KEY_PATH", "several *.pem files here; name the App's key")
    return None


def _bool(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise _fail(name, f"expected 1 or 0, got {value!r}")


def load_settings(
    environ: dict[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    workdir: Path | None = None,
) -> Settings:
    """Read and validate the configuration; raise ConfigError on the first bad value."""
    values = _read_env(env_file, dict(os.environ) if environ is None else environ)
    workdir = workdir or Path.cwd()

    app_id: int | None = None
    if "APP_ID" in values:
        raw = values["APP_ID"].strip()
        if not raw.isdigit():
            raise _fail("APP_ID", f"must be the App's numeric id, got {raw!r}")
        app_id = int(raw)

    private_key = _private_key(values, workdir) if app_id is not None else None
    if app_id is not None and private_key is None:
        raise _fail("PRIVATE_KEY", "missing: set PRIVATE_KEY or PRIVATE_KEY_PATH")

    webhook_secrets = tuple(
        s.strip() for s in values.get("WEBHOOK_SECRET", "").split(",") if s.strip()
    )
    if app_id is not None and not webhook_secrets:
        raise _fail("WEBHOOK_SECRET", "missing: deliveries cannot be verified without it")

    port_raw = values.get("PORT", "3000")
    if not port_raw.isdigit() or not 0 < int(port_raw) < 65536:
        raise _fail("PORT", f"must be a port number, got {port_raw!r}")

    webhook_path = values.get("WEBHOOK_PATH", "/api/github/webhooks")
    if not webhook_path.startswith("/"):
        raise _fail("WEBHOOK_PATH", "must start with /")

    log_level = values.get("LOG_LEVEL", "info").lower()
    if log_level not in ("debug", "info", "warning", "error", "critical", "trace", "fatal"):
        raise _fail("LOG_LEVEL", f"unknown level {log_level!r}")
    log_format = values.get("LOG_FORMAT")
    if log_format is not None and log_format not in ("json", "pretty"):
        raise _fail("LOG_FORMAT", f"expected json or pretty, got {log_format!r}")

    pacing = values.get("GITHUB_PACING", "github").lower()
    if pacing not in ("github", "off"):
        raise _fail("GITHUB_PACING", f"expected github or off, got {pacing!r}")

    redis_url = values.get("REDIS_URL")
    if redis_url is not None:
        redis_url = _url("REDIS_URL", redis_url, schemes=("redis", "rediss", "unix"))

    base_url = values.get("BASE_URL")
    return Settings(
        app_id=app_id,
        private_key=private_key,
        webhook_secrets=webhook_secrets,
        github_api_url=_url(
            "GITHUB_API_URL", values.get("GITHUB_API_URL", "https://api.github.com")
        ),
        github_url=_url("GITHUB_URL", values.get("GITHUB_URL", "https://github.com")),
        client_id=values.get("GITHUB_CLIENT_ID"),
        client_secret=values.get("GITHUB_CLIENT_SECRET"),
        host=values.get("HOST", "127.0.0.1"),
        port=int(port_raw),
        base_url=_url("BASE_URL", base_url) if base_url else None,
        webhook_path=webhook_path,
        database_url=normalize_database_url(values.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        redis_url=redis_url,
        session_secret=values.get("SESSION_SECRET"),
        log_level={"trace": "debug", "fatal": "critical"}.get(log_level, log_level),
        log_format=log_format,  # type: ignore[arg-type]
        dry_run=_bool("DRY_RUN", values.get("DRY_RUN"), False),
        pacing=pacing == "github",
        env_file=env_file,
    )


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# -- writing `.env` (setup mode) -----------------------------------------------------------

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
