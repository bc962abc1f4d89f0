"""The fake GitHub (in a thread of the benchmark) and the PostgreSQL database and Redis
namespace a run uses (created for it, emptied afterwards)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._constants import (
    APP_ID,
    APP_SLUG,
    DEFAULT_REDIS_URL,
    POSTGRES_ADMIN_URL,
)
from benchmarks._servers import ServerFailed

if TYPE_CHECKING:
    from tests.support.fake_github import FakeGitHub


# -- the fake GitHub and the services ---------------------------------------------------------


def new_fake_github(latency: float = 0.0) -> FakeGitHub:
    from ghapp.testing import test_key_pair
    from tests.support.fake_github import FakeGitHub

    _private, public = test_key_pair()
    return FakeGitHub(
        app_id=APP_ID, app_slug=APP_SLUG, public_key_pem=public.encode(), latency=latency
    )


@contextlib.contextmanager
def fake_github(fake: FakeGitHub) -> Iterator[str]:
    """Serve `fake` on loopback; yields the REST root (…/api/v3) for GITHUB_API_URL."""
    from tests.support.fake_github import API_PREFIX, run_fake_github

    with run_fake_github(fake) as root:
        yield root + API_PREFIX


def services_reason(redis_url: str = DEFAULT_REDIS_URL) -> str | None:
    """Why PostgreSQL + Redis scale-out cannot be measured here, or None when it can."""
    for host, port, what in (("127.0.0.1", 5432, "PostgreSQL"), ("127.0.0.1", 6379, "Redis")):
        try:
            with socket.create_connection((host, port), timeout=1):
                pass
        except OSError as exc:
            return f"{what} at {host}:{port} unreachable ({exc.strerror or exc})"
    return scaleout_reason()


def scaleout_reason() -> str | None:
    """None when ghapp's scale-out (REDIS_URL) code has landed; else why not."""
    import inspect

    from ghapp import scaleout

    if "NotImplementedError" in inspect.getsource(scaleout.build):
        return "ghapp.scaleout.build is not implemented yet (scale-out has not landed)"
    return None


@contextlib.contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL, suffix: str = "") -> Iterator[str]:
    """A fresh database for this run (dropped afterwards); yields its URL."""
    import asyncpg

    tail = "".join(ch if ch.isalnum() else "_" for ch in suffix)
    name = f"ghapp_bench_{os.getpid()}_{int(time.time())}{'_' + tail if tail else ''}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def db_upgrade(env: dict[str, str], workdir: Path) -> None:
    """`ghapp db upgrade` (PostgreSQL is not migrated by `ghapp run` itself)."""
    done = subprocess.run(
        [sys.executable, "-m", "ghapp.cli", "db", "upgrade"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ServerFailed(f"ghapp db upgrade failed:\n{done.stdout}{done.stderr}")


@dataclass
class RedisNamespace:
    url: str
    env: dict[str, str]  # extra environment for ghapp (a key prefix, when ghapp has one)


@contextlib.contextmanager
def redis_namespace(base_url: str = DEFAULT_REDIS_URL) -> Iterator[RedisNamespace]:
    """A Redis logical database that is empty now, used by this run only, emptied afterwards.

    ghapp has no key-prefix setting, so the run takes a whole logical database (from the
    top, 15 down to 8) that holds no key; its keys are deleted with SCAN + DEL afterwards
    (never FLUSHALL / FLUSHDB: the server is shared).
    """
    import redis

    root = base_url.rsplit("/", 1)[0] if base_url.count("/") > 2 else base_url
    chosen: str | None = None
    for index in range(15, 7, -1):
        url = f"{root}/{index}"
        client = redis.Redis.from_url(url)
        try:
            if client.dbsize() == 0:
                client.set(f"ghapp-bench:claimed:{os.getpid()}", "1", ex=3600)
                chosen = url
                break
        finally:
            client.close()
    if chosen is None:
        raise ServerFailed("no empty Redis logical database (8..15) for this run")
    try:
        yield RedisNamespace(chosen, {})
    finally:
        client = redis.Redis.from_url(chosen)
        try:
            for key in list(client.scan_iter(count=1000)):
                client.delete(key)
        finally:
            client.close()
