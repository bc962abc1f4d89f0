"""Where the repository is (`tests.support` is imported from it) and the benchmark App's
settings shared by every script."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `tests.support` lives beside `benchmarks`
    sys.path.insert(0, str(REPO_ROOT))

WEBHOOK_SECRET = "benchmark-webhook-secret"
APP_ID = 1
APP_SLUG = "ghapp-bench"
WEBHOOK_PATH = "/api/github/webhooks"
POSTGRES_ADMIN_URL = "postgresql://127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Variables a developer's shell might carry that would change what is measured.
_GHAPP_VARS = (
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "GITHUB_API_URL",
    "GITHUB_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "HOST",
    "PORT",
    "WEBHOOK_PATH",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DRY_RUN",
    "GITHUB_PACING",
    "BASE_URL",
)
