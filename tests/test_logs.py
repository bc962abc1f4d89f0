"""Logs are structured and never carry a secret, whatever a log call passes them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from ghapp.logs import JsonFormatter, SecretScrubber, configure_logging, remember_secrets
from ghapp.testing import test_key_pair


@pytest.mark.parametrize(
    "leak",
    [
        "configured-webhook-secret",
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlLXBhcnQ",
        test_key_pair()[0],
        "sk-proj-Abc123def456ghi789jkl012",  # an OpenAI key, even one not configured here
    ],
    ids=["configured", "installation-token", "user-token", "jwt", "private-key", "openai-key"],
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


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging rewires the root logger: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_configured_logging_scrubs_every_logger_it_routes(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    token = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
    configure_logging("info", "json", ["configured-webhook-secret"])
    logging.getLogger("ghapp.bus").warning(
        "sent %s", "configured-webhook-secret", extra={"body": f"POST /x {token}"}
    )
    logging.getLogger("uvicorn.error").error("client sent %s", token)
    try:
        raise RuntimeError(f"failed with {token}")
    except RuntimeError:
        logging.getLogger("ghapp.worker").exception("delivery failed")
    err = capsys.readouterr().err
    assert token not in err and "configured-webhook-secret" not in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [(line["logger"], line["msg"]) for line in lines] == [
        ("ghapp.bus", "sent [secret]"),
        ("uvicorn.error", "client sent [secret]"),
        ("ghapp.worker", "delivery failed"),
    ]
    assert lines[0]["body"] == "POST /x [secret]"
    assert lines[2]["error"].endswith("RuntimeError: failed with [secret]")


def test_secrets_learnt_while_running_are_scrubbed_from_then_on(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """The generated session secret and the setup URL's token are no configured value and
    match no token pattern: ghapp tells the scrubber about them when it makes them."""
    learnt = "Zq8v-generated-session-secret-3f9a"
    configure_logging("info", "json", ["configured-webhook-secret"])
    logging.getLogger("ghapp.web").warning("before %s", learnt)
    remember_secrets([learnt, "short", ""])
    logging.getLogger("ghapp.web").warning("after %s", learnt, extra={"body": learnt})
    logging.getLogger("ghapp.web").warning("too short to tell from words: %s", "short")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["msg"] for line in lines] == [
        f"before {learnt}",  # not known yet: nothing told the scrubber
        "after [secret]",
        "too short to tell from words: short",
    ]
    assert lines[1]["body"] == "[secret]"


@pytest.mark.parametrize("level", ["info", "debug"])
def test_saq_logs_every_job_only_at_debug(
    level: str, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """Issue 17: saq's per-job INFO lines (enqueuing, processing, finished) are not written
    at LOG_LEVEL=info; its warnings and errors are, and LOG_LEVEL=debug shows everything."""
    saq = logging.getLogger("saq")
    old = saq.level
    try:
        configure_logging(level, "json")
        saq.info("Enqueuing Job<ghapp_delivery>")
        saq.warning("No active workers found")
        saq.error("Error processing job")
        messages = [json.loads(line)["msg"] for line in capsys.readouterr().err.splitlines()]
    finally:
        saq.setLevel(old)
    expected = ["No active workers found", "Error processing job"]
    assert messages == (
        ["Enqueuing Job<ghapp_delivery>", *expected] if level == "debug" else expected
    )
