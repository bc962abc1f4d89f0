"""Single configuration values read from the environment: the one-line `ConfigError`,
URLs, the database URL and the App's private key (PEM, `\\n`-escaped PEM or base64; a
variable, a path or the single `*.pem` in the working directory)."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key


class ConfigError(ValueError):
    """A configuration value a person must fix; the message is one line naming the
    variable and what is wrong, and never quotes a secret.

    A ValueError, so that raised inside validation pydantic carries it out whole."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}".replace("\n", " "))
        self.variable = variable


def check_url(name: str, value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ConfigError(name, f"not a URL ({exc})") from None
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(name, f"not a URL: expected {'/'.join(schemes)}://HOST…")
    return value.rstrip("/")


def normalize_database_url(value: str) -> str:
    """Accept URLs as hosting platforms hand them out and pick the async driver."""
    try:
        scheme, rest = value.split("://", 1)
    except ValueError:
        raise ConfigError(
            "DATABASE_URL", "not a URL: expected sqlite:///FILE or postgresql://…"
        ) from None
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    raise ConfigError("DATABASE_URL", f"unsupported database {scheme!r}: use sqlite or postgresql")


def load_private_key(text: str, *, source: str) -> str:
    """Return the PEM text of an RSA private key given as PEM, `\\n`-escaped PEM or base64."""
    candidate = text.strip()
    if "-----BEGIN" not in candidate and "\\n" not in candidate:
        try:
            candidate = base64.b64decode(candidate, validate=True).decode().strip()
        except (binascii.Error, UnicodeDecodeError, ValueError):  # ValueError: not ASCII
            raise ConfigError(source, "is not a PEM key (nor base64 of one)") from None
    candidate = candidate.replace("\\n", "\n")
    try:
        key = load_pem_private_key(candidate.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(source, "is not a readable PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(source, "is not an RSA key (GitHub Apps sign with RSA)")
    return candidate + "\n"


def key_from_variables(values: dict[str, Any]) -> str | None:
    """The PEM named by PRIVATE_KEY or PRIVATE_KEY_PATH, or None when neither is set."""
    if "PRIVATE_KEY" in values:
        return load_private_key(str(values["PRIVATE_KEY"]), source="PRIVATE_KEY")
    if "PRIVATE_KEY_PATH" not in values:
        return None
    path = Path(str(values["PRIVATE_KEY_PATH"]))
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError("PRIVATE_KEY_PATH", f"cannot read {path}: {exc.strerror}") from None
    except ValueError:  # a NUL in the path
        raise ConfigError("PRIVATE_KEY_PATH", "cannot read a path with a NUL in it") from None
    return load_private_key(text, source="PRIVATE_KEY_PATH")


def key_in_directory(workdir: Path) -> str | None:
    """The single `*.pem` in `workdir` (Probot finds the App's key there too)."""
    pems = sorted(workdir.glob("*.pem"))
    if len(pems) > 1:
        raise ConfigError("PRIVATE_KEY_PATH", "several *.pem files here; name the App's key")
    if not pems:
        return None
    return load_private_key(pems[0].read_text(), source=f"PRIVATE_KEY ({pems[0].name})")
