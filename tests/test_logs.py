"""Logs are structured and never carry a secret, whatever a log call passes them."""

from __future__ import annotations

import json
import logging

import pytest

from ghapp.logs import JsonFormatter, SecretScrubber
from ghapp.testing import test_key_pair


@pytest.mark.parametrize(
    "leak",
    [
        "configured-webhook-secret",
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlLXBhcnQ",
        test_key_pair()[0],
    ],
    ids=["configured", "installation-token", "user-token", "jwt", "private-key"],
)
def test_secrets_are_scrubbed_from_messages_fields_and_tracebacks(leak: str) -> None:
    scrubber = SecretScrubber(["configured-webhook-secret"])
    try:
        raise RuntimeError(f"failed with {leak}")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "ghapp", logging.ERROR, __file__, 1, "sent %s", (leak,), sys.exc_info()
        )
    record.body = f"POST /x {leak}"
    assert scrubber.filter(record)
    line = JsonFormatter().format(record)
    assert leak.strip() not in line
    assert "BEGIN" not in line
    data = json.loads(line)
    assert data["msg"].strip() == "sent [secret]"
    assert "[secret]" in data["body"] and "[secret]" in data["error"]
