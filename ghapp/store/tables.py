"""The schema, as SQLAlchemy Core tables (migrations in `migrations/` create them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(64), primary_key=True),  # X-GitHub-Delivery
    Column("event", String(64), nullable=False),
    Column("action", String(64)),
    Column("installation_id", BigInteger),
    Column("repository", String(200)),
    Column("ordering_key", String(260)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the body exactly as GitHub sent it
    # queued → running → done | failed; `ignored` when no skill handles the event
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("error", Text),
    Index("ix_deliveries_status", "status"),
    Index("ix_deliveries_received_at", "received_at"),
)

skill_runs = Table(
    "skill_runs",
    metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("skill", String(100), primary_key=True),
    Column("outcome", String(16), nullable=False),  # ok | error | skipped | retry
    Column("detail", Text),
    Column("duration_ms", Float),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

installations = Table(
    "installations",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("account_login", String(100)),
    Column("account_type", String(32)),
    Column("repository_selection", String(16)),
    Column("permissions", JSON),
    Column("events", JSON),
    Column("suspended_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("permissions_accepted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("full_name", String(200), nullable=False),
    Column("private", Boolean),
    Index("ix_repositories_installation", "installation_id"),
    Index("ix_repositories_full_name", "full_name"),
)

# One row per switch; repository "" is the installation-wide switch.
skill_switches = Table(
    "skill_switches",
    metadata,
    Column("installation_id", BigInteger, primary_key=True),
    Column("repository", String(200), primary_key=True),
    Column("skill", String(100), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_by", String(100)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

switch_audit = Table(
    "switch_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation_id", BigInteger, nullable=False),
    Column("repository", String(200), nullable=False),
    Column("skill", String(100), nullable=False),
    Column("before", String(16), nullable=False),  # on | off | inherit
    Column("after", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_switch_audit_installation", "installation_id"),
)

# The "effects happen once" guard, keyed by the triggering object.
effects = Table(
    "effects",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("state", String(16), nullable=False),  # started | done
    Column("delivery_id", String(64)),
    Column("result", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Deferred skill work (coalesced refreshes, periodic jobs) for the in-process queue.
tasks = Table(
    "tasks",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("skill", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("installation_id", BigInteger),
    Column("repository", String(200)),
    Column("args", JSON, nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False),
)

# Periodic jobs claim their period here, so each runs once per period across workers.
periodic_claims = Table(
    "periodic_claims",
    metadata,
    Column("job", String(300), primary_key=True),
    Column("period", BigInteger, primary_key=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# The last run of each periodic job per installation and repository ("" for a job per
# installation), and how it ended: what the settings page shows under "Scheduled work".
periodic_runs = Table(
    "periodic_runs",
    metadata,
    Column("job", String(300), primary_key=True),  # skill:periodic
    Column("installation_id", BigInteger, primary_key=True),
    Column("repository", String(200), primary_key=True),
    Column("period", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | error | skipped | retry
    Column("detail", Text),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

# Last valid `.github/ghapp.yml` per repository, used when a newer one is invalid.
repo_configs = Table(
    "repo_configs",
    metadata,
    Column("repository", String(200), primary_key=True),
    Column("content", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Small named values the App keeps for itself (the generated session secret, …).
app_values = Table(
    "app_values",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# Settings-page sign-ins. The cookie carries a signed random id; only its SHA-256 is kept
# here, so a copy of the database cannot be replayed as a cookie. The person's GitHub
# token never leaves the server and is stored encrypted with a key derived from the
# session secret.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_login", String(100), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("token", Text, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_web_sessions_expires_at", "expires_at"),
)
