"""`ghapp run` as a real process on loopback, for end-to-end, crash and secrets tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from ghapp.testing import WEBHOOK_SECRET, signature_for, test_key_pair

# The checkout under test: a git worktree's `ghapp run` runs its own code, not the
# virtualenv's editable install of another checkout.
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GhappProcess:
    """Starts `python -m ghapp.cli run` with an environment pointing at a fake GitHub."""

    def __init__(self, workdir: Path, github_url: str, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"ghapp-{self.port}.log"
        private, _ = test_key_pair()
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO_ROOT),
            "APP_ID": "1",
            "PRIVATE_KEY": private,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITHUB_API_URL": f"{github_url}/api/v3",
            "GITHUB_URL": github_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'ghapp.db'}",
            "PORT": str(self.port),
            "GITHUB_PACING": "off",
            "LOG_FORMAT": "json",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> GhappProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ghapp.cli", "run"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ghapp exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("ghapp did not start in time")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(40)

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def send(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        delivery_id: str | None = None,
        secret: str = WEBHOOK_SECRET,
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        return httpx.post(
            f"{self.url}/api/github/webhooks",
            content=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
                "X-Hub-Signature-256": signature_for(body, secret),
                "Content-Type": "application/json",
            },
            timeout=10,
        )


def wait_for(condition: Any, timeout: float = 60.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
