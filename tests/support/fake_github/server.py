"""Keys and processes for the fake GitHub: test RSA keys, manifest apps, a loopback server.

`generate_test_key` caches one RSA key pair per process (generation takes a noticeable
fraction of a second); `run_fake_github` serves a `FakeGitHub` with uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .state import AppIdentity, next_id

if TYPE_CHECKING:
    from .core import FakeGitHub


def _new_key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # GitHub hands out PKCS#1 PEMs
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


@cache
def generate_test_key() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of an RSA 2048 key, the same one for the whole process."""
    return _new_key_pair()


@cache
def other_test_key() -> tuple[bytes, bytes]:
    """A second cached key pair, for "signed with the wrong key" tests."""
    return _new_key_pair()


def make_app_from_manifest(
    fake: FakeGitHub, manifest: dict[str, Any], owner: str
) -> tuple[AppIdentity, str]:
    """Register the app a manifest describes; returns it and its fresh private key PEM."""
    private_pem, public_pem = _new_key_pair()
    name = str(manifest["name"])
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"
    hook = manifest.get("hook_attributes") or {}
    identity = AppIdentity(
        app_id=next_id(),
        slug=slug,
        name=name,
        public_key_pem=public_pem,
        client_id="Iv23li" + secrets.token_hex(7),
        client_secret=secrets.token_hex(20),
        webhook_secret=secrets.token_hex(20) if hook.get("active", True) else None,
        owner=owner,
        description=manifest.get("description"),
        external_url=str(manifest["url"]),
    )
    if isinstance(manifest.get("default_permissions"), dict):
        identity.permissions = {str(k): str(v) for k, v in manifest["default_permissions"].items()}
    if isinstance(manifest.get("default_events"), list):
        identity.events = [str(e) for e in manifest["default_events"]]
    fake.apps[identity.app_id] = identity
    fake._user(identity.bot_login, "Bot")
    return identity, private_pem.decode()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def run_fake_github(fake: FakeGitHub) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1 in a background thread; yields its root URL."""
    port = _free_port()
    config = uvicorn.Config(
        fake.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fake-github-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake GitHub did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
