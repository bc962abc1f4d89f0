"""Trust (issue 15): configuration an attacker or a typo could weaken.

- WEBHOOK_SECRET: a comma always separates two secrets (rotation, PRODUCT.md §2), so a
  secret with a comma inside would silently become two weaker ones; what it leaves behind
  (an empty or a short part) stops start-up with one clear line instead.
- Every secret in Settings is in `secret_values` (what the log scrubber is taught).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from ghapp.config import ConfigError, Settings, load_settings
from ghapp.testing import test_key_pair

PRIVATE, _PUBLIC = test_key_pair()


def load(tmp_path: Path, secret: str) -> Settings:
    values = {"APP_ID": "42", "PRIVATE_KEY": PRIVATE, "WEBHOOK_SECRET": secret}
    return load_settings(values, env_file=None, workdir=tmp_path)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("correct-horse-battery,", "secret 2 of 2 is empty"),
        (",correct-horse-battery", "secret 1 of 2 is empty"),
        ("old-secret,,new-secret", "secret 2 of 3 is empty"),
        ("correct-horse,abc", "secret 2 of 2 is shorter than 6 characters"),
        ("abc", "the secret is shorter than 6 characters"),
    ],
)
def test_a_secret_split_at_its_comma_stops_start_up(
    tmp_path: Path, secret: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, secret)
    message = str(info.value)
    assert message.startswith("WEBHOOK_SECRET: ")
    assert problem in message
    assert "a comma separates secrets" in message
    assert "\n" not in message and "horse" not in message


def test_rotation_with_commas_still_works(tmp_path: Path) -> None:
    settings = load(tmp_path, "old-secret , new-secret")
    assert [s.get_secret_value() for s in settings.webhook_secrets] == ["old-secret", "new-secret"]


def test_every_secret_field_is_scrubbed(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "APP_ID": "42",
            "PRIVATE_KEY": PRIVATE,
            "WEBHOOK_SECRET": "hook-one,hook-two",
            "GITHUB_CLIENT_SECRET": "client-secret-value",
            "SESSION_SECRET": "session-secret-value",
        },
        env_file=None,
        workdir=tmp_path,
    )
    values = settings.secret_values
    for expected in ("hook-one", "hook-two", "client-secret-value", "session-secret-value"):
        assert expected in values
    assert any("PRIVATE KEY" in v for v in values)
    # Whatever SecretStr field Settings gains is covered without being listed.
    secret_fields = [
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    ]
    assert {"private_key", "webhook_secrets", "client_secret", "session_secret"} <= set(
        secret_fields
    )
    for name in secret_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            assert value.get_secret_value() in values, name
