"""Property tests of the environment: any value of any variable either configures ghapp
or stops it with one ConfigError line that names the variable — never another
exception, and never the secret value itself in the message."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghapp.config import ConfigError, load_settings
from ghapp.testing import WEBHOOK_SECRET, test_key_pair

VARIABLES = [
    "APP_ID",
    "PRIVATE_KEY",
    "WEBHOOK_SECRET",
    "GITHUB_API_URL",
    "GITHUB_URL",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "HOST",
    "PORT",
    "BASE_URL",
    "WEBHOOK_PATH",
    "DATABASE_URL",
    "REDIS_URL",
    "SESSION_SECRET",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DRY_RUN",
    "GITHUB_PACING",
]
SECRET_VARIABLES = {"PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_CLIENT_SECRET", "SESSION_SECRET"}
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e3",
            "99999999999999999999999",
            "http://",
            "https://[::1",
            "https://exa mple.com",
            "ftp://example.com",
            "postgres://u:p@h/db",
            "postgresql://u:p@[::1/db",
            "sqlite:///",
            "mysql://x",
            "redis://:6379",
            "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "LS0tLS1CRUdJTg==",
            "yes",
            "maybe",
            "DEBUG",
            "json",
            "off",
            "/",
            "relative/path",
            "\x00",
            "a,,b",
        ]
    ),
)


def base_env() -> dict[str, str]:
    private, _ = test_key_pair()
    return {"APP_ID": "1", "PRIVATE_KEY": private, "WEBHOOK_SECRET": WEBHOOK_SECRET}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(VARIABLES), VALUES, max_size=3))
def test_any_environment_configures_or_names_the_bad_variable(
    changes: dict[str, str],
) -> None:
    env = {**base_env(), **changes}
    try:
        load_settings(env, env_file=None, workdir=Path("/nonexistent-ghapp-workdir"))
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message.strip()
        assert any(name in message for name in VARIABLES), message
        failing = message.split(":", 1)[0]
        if failing in SECRET_VARIABLES and len(changes.get(failing, "")) >= 8:
            assert changes[failing] not in message, message
