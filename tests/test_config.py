"""Configuration: Probot-compatible names, one clear line per bad value, no secret echoed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ghapp.config import ConfigError, load_settings
from ghapp.testing import test_key_pair

PRIVATE, _PUBLIC = test_key_pair()
BASE = {"APP_ID": "42", "PRIVATE_KEY": PRIVATE, "WEBHOOK_SECRET": "s3cret-value"}


def load(tmp_path: Path, **values: str) -> object:
    return load_settings({**BASE, **values}, env_file=None, workdir=tmp_path)


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({}, env_file=None, workdir=tmp_path)
    assert not s.configured
    assert (s.host, s.port, s.webhook_path) == ("127.0.0.1", 3000, "/api/github/webhooks")
    assert s.github_api_url == "https://api.github.com"
    assert s.github_url == "https://github.com"
    assert s.database_url == "sqlite+aiosqlite:///ghapp.db"
    assert s.redis_url is None and not s.dry_run and s.pacing


@pytest.mark.parametrize(
    ("values", "variable", "fragment"),
    [
        ({"APP_ID": "abc"}, "APP_ID", "numeric"),
        ({"PRIVATE_KEY": "not a key"}, "PRIVATE_KEY", "PEM"),
        (
            {"PRIVATE_KEY_PATH": "/nonexistent/key.pem", "PRIVATE_KEY": ""},
            "PRIVATE_KEY_PATH",
            "cannot read",
        ),
        ({"WEBHOOK_SECRET": ""}, "WEBHOOK_SECRET", "missing"),
        ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL", "not a URL"),
        ({"GITHUB_URL": "ftp://x"}, "GITHUB_URL", "not a URL"),
        ({"PORT": "70000"}, "PORT", "port"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL", "unsupported"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL", "not a URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL", "not a URL"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL", "unknown level"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT", "json or pretty"),
        ({"DRY_RUN": "maybe"}, "DRY_RUN", "expected 1 or 0"),
        ({"GITHUB_PACING": "fast"}, "GITHUB_PACING", "github or off"),
        ({"WEBHOOK_PATH": "hooks"}, "WEBHOOK_PATH", "start with /"),
    ],
)
def test_bad_values_name_the_variable_in_one_line(
    tmp_path: Path, values: dict[str, str], variable: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, **values)
    message = str(info.value)
    assert message.startswith(f"{variable}:")
    assert fragment in message
    assert "\n" not in message
    assert "s3cret-value" not in message and "PRIVATE KEY" not in message


def test_ec_key_is_refused_as_not_rsa(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ConfigError, match="not an RSA key"):
        load(tmp_path, PRIVATE_KEY=pem)


@pytest.mark.parametrize(
    "form",
    ["pem", "escaped", "base64"],
)
def test_private_key_forms(tmp_path: Path, form: str) -> None:
    text = {
        "pem": PRIVATE,
        "escaped": PRIVATE.strip().replace("\n", "\\n"),
        "base64": base64.b64encode(PRIVATE.encode()).decode(),
    }[form]
    settings = load(tmp_path, PRIVATE_KEY=text)
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value().startswith("-----BEGIN PRIVATE KEY-----\n")


def test_key_from_path_and_single_pem_in_workdir(tmp_path: Path) -> None:
    (tmp_path / "app.private-key.pem").write_text(PRIVATE)
    values = {k: v for k, v in BASE.items() if k != "PRIVATE_KEY"}
    from_dir = load_settings(values, env_file=None, workdir=tmp_path)
    from_path = load_settings(
        {**values, "PRIVATE_KEY_PATH": str(tmp_path / "app.private-key.pem")},
        env_file=None,
        workdir=tmp_path / "..",
    )
    assert from_dir.private_key == from_path.private_key
    (tmp_path / "other.pem").write_text(PRIVATE)
    with pytest.raises(ConfigError, match="several"):
        load_settings(values, env_file=None, workdir=tmp_path)


def test_secret_rotation_and_database_urls(tmp_path: Path) -> None:
    s = load(tmp_path, WEBHOOK_SECRET="old-secret, new-secret")
    assert [secret.get_secret_value() for secret in s.webhook_secrets] == [
        "old-secret",
        "new-secret",
    ]
    assert load(tmp_path, DATABASE_URL="postgres://u@h/db").database_url == (
        "postgresql+asyncpg://u@h/db"
    )
    assert load(tmp_path, DATABASE_URL="sqlite:///x.db").database_url == (
        "sqlite+aiosqlite:///x.db"
    )


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PORT=4000\nHOST=0.0.0.0\n")
    s = load_settings({"PORT": "5000"}, env_file=env, workdir=tmp_path)
    assert (s.host, s.port) == ("0.0.0.0", 5000)


def test_an_empty_variable_is_unset_even_where_env_file_sets_it(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("APP_ID=42\nPORT=4000\n")
    s = load_settings({"APP_ID": "", "PORT": ""}, env_file=env, workdir=tmp_path)
    assert not s.configured and s.port == 3000
    assert s.env_file == env


def test_without_an_app_a_stale_key_is_not_read(tmp_path: Path) -> None:
    # Setup mode: nothing uses the key until APP_ID is set, so a stale one stops nothing.
    s = load_settings(
        {"PRIVATE_KEY": "not a key", "PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
        env_file=None,
        workdir=tmp_path,
    )
    assert not s.configured and s.private_key is None


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = load(tmp_path)
    with pytest.raises(ValueError):
        s.port = 1  # type: ignore[misc]
    assert s.port == 3000


def test_settings_repr_hides_secrets(tmp_path: Path) -> None:
    settings = load(
        tmp_path, GITHUB_CLIENT_SECRET="client-secret-xyz", SESSION_SECRET="session-secret-xyz"
    )
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert "s3cret-value" not in text and "client-secret-xyz" not in text
        assert "session-secret-xyz" not in text and "BEGIN" not in text
    assert {"s3cret-value", "client-secret-xyz", "session-secret-xyz"} <= set(
        settings.secret_values
    )
