"""What the benchmarks share, one import for the scripts (`from benchmarks import _common
as c`), held in modules named for what they hold:

* `_constants`: the repository root and the benchmark App's settings;
* `_stats`: percentiles, medians, ratios, `machine()`, CPU and RSS of a process, tables;
* `_load`: GitHub's example payloads, signatures and the load generator `fire()` (HTTP/1.1
  written by hand over keep-alive connections; each delivery with its own
  `X-GitHub-Delivery` id; it returns each acknowledgement's latency);
* `_servers`: `serve()` starts a server (ghapp under `ghapp run`, a worker, the bare
  endpoint, the Probot peer) in a subprocess on loopback and stops it with SIGTERM
  (SIGKILL after a grace period): with two cores, the load generator and the server each
  get one;
* `_services`: the test suite's fake GitHub in a thread of this process, PostgreSQL
  databases and Redis namespaces of a run.

Payloads are GitHub's own examples (`@octokit/webhooks-examples`, via `tests.support`);
when they cannot be fetched, `PayloadsUnavailable` says so and the benchmark stops.
"""

from __future__ import annotations

from benchmarks._constants import (
    _GHAPP_VARS,
    APP_ID,
    APP_SLUG,
    DEFAULT_REDIS_URL,
    POSTGRES_ADMIN_URL,
    REPO_ROOT,
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
)
from benchmarks._load import (
    Delivery,
    LoadResult,
    PayloadsUnavailable,
    _fire_httpx,
    dumps,
    example_payload,
    fire,
    run_client,
    sign,
    skip_failed_sniffio_import,
)
from benchmarks._servers import (
    PROBOT_DIR,
    PROBOT_VERSION,
    Server,
    ServerFailed,
    _profile,
    _wait_until_up,
    bare_app,
    bare_server,
    base_env,
    free_port,
    ghapp_env,
    ghapp_run,
    ghapp_worker,
    probot_reason,
    probot_server,
    queue_depth,
    serve,
    wait_queue_empty,
)
from benchmarks._services import (
    RedisNamespace,
    db_upgrade,
    fake_github,
    new_fake_github,
    postgres_database,
    redis_namespace,
    scaleout_reason,
    services_reason,
)
from benchmarks._stats import (
    cpu_seconds,
    header,
    machine,
    median,
    percentile,
    ratio,
    rss_kib,
    size_arg,
    table,
)

__all__ = [
    "APP_ID",
    "APP_SLUG",
    "DEFAULT_REDIS_URL",
    "POSTGRES_ADMIN_URL",
    "PROBOT_DIR",
    "PROBOT_VERSION",
    "REPO_ROOT",
    "WEBHOOK_PATH",
    "WEBHOOK_SECRET",
    "_GHAPP_VARS",
    "Delivery",
    "LoadResult",
    "PayloadsUnavailable",
    "RedisNamespace",
    "Server",
    "ServerFailed",
    "_fire_httpx",
    "_profile",
    "_wait_until_up",
    "bare_app",
    "bare_server",
    "base_env",
    "cpu_seconds",
    "db_upgrade",
    "dumps",
    "example_payload",
    "fake_github",
    "fire",
    "free_port",
    "ghapp_env",
    "ghapp_run",
    "ghapp_worker",
    "header",
    "machine",
    "median",
    "new_fake_github",
    "percentile",
    "postgres_database",
    "probot_reason",
    "probot_server",
    "queue_depth",
    "ratio",
    "redis_namespace",
    "rss_kib",
    "run_client",
    "scaleout_reason",
    "serve",
    "services_reason",
    "sign",
    "size_arg",
    "skip_failed_sniffio_import",
    "table",
    "wait_queue_empty",
]
