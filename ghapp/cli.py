"""`ghapp …` commands: parse the arguments, call into ghapp, print. Nothing else lives here.

Exit codes: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ghapp.config import ConfigError, Settings, load_settings
from ghapp.logs import configure_logging, remember_secrets

MANIFEST_PATH = Path("manifest/app.yml")


class CommandFailed(Exception):
    """A command could not do its work; the message is printed as is."""


def parse_since(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 30m, 1h or 2d, got {text!r}")
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    return timedelta(**{units[match.group(2)]: int(match.group(1))})


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(
        settings.log_level, settings.log_format, settings.secret_values, settings.webhook_path
    )
    return settings


def _configured() -> Settings:
    settings = _settings()
    if not settings.configured:
        raise CommandFailed("APP_ID is not set: run `ghapp run` and finish setup at / first")
    return settings


# -- commands -------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from ghapp.ingress import receive_webhook
    from ghapp.runtime import RuntimeOptions
    from ghapp.web.access_log import AccessLog
    from ghapp.web.app import create_app, setup_url

    settings = _settings()
    app = create_app(settings, RuntimeOptions(warm_up=True, migrate_apart=True), freeze_heap=True)
    mode = "configured" if settings.configured else "setup mode"
    print(f"ghapp listening on http://{settings.host}:{settings.port} ({mode})", file=sys.stderr)
    if not settings.configured:
        # Printed, never logged: the token is what makes setup mode the operator's alone
        # (the log scrubber learns it, should a log line ever carry it).
        url = setup_url(app, settings.host, settings.port)
        remember_secrets([url.rpartition("token=")[2]])
        print(f"setup URL: {url}", file=sys.stderr)
    uvicorn.run(
        AccessLog(app, settings.webhook_path, receive_webhook),  # (not uvicorn's)
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        proxy_headers=True,
        ws="none",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from ghapp.runtime import Runtime

    settings = _configured()
    if not settings.redis_url:
        raise CommandFailed("ghapp worker needs REDIS_URL (without it, `ghapp run` processes)")

    async def main() -> None:
        runtime = Runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await runtime.warm_up()
        await runtime.start_workers()
        print("ghapp worker started", file=sys.stderr)
        await stop.wait()
        print("ghapp worker stopping: finishing work in flight", file=sys.stderr)
        await runtime.stop(timeout=30)

    asyncio.run(main())
    return 0


def cmd_receive(args: argparse.Namespace) -> int:
    from ghapp.github import request_journal
    from ghapp.ingress import new_delivery
    from ghapp.runtime import Runtime

    settings = _configured()
    try:
        body = Path(args.file).read_bytes()
        payload = json.loads(body)
    except OSError as exc:
        raise CommandFailed(f"cannot read {args.file}: {exc.strerror}") from None
    except ValueError:
        raise CommandFailed(f"{args.file} is not JSON") from None
    if not isinstance(payload, dict):
        raise CommandFailed(f"{args.file} is not a JSON object")
    event, _, forced_action = args.event.partition(".")

    async def main() -> int:
        with tempfile.TemporaryDirectory() as tmp:
            local = settings.model_copy(
                update={
                    "database_url": f"sqlite+aiosqlite:///{tmp}/receive.db",
                    "redis_url": None,
                    "dry_run": settings.dry_run or args.dry_run,
                }
            )
            runtime = Runtime(local)
            await runtime.prepare()
            action = forced_action or payload.get("action")
            delivery = new_delivery(
                f"receive-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}",
                event,
                body,
                payload,
                action=action if isinstance(action, str) else None,
            )
            await runtime.deliveries.record(delivery)
            journal: list[Any] = []
            token = request_journal.set(journal)
            try:
                await runtime.processor.process_delivery(delivery.id)
            finally:
                request_journal.reset(token)
            stored = await runtime.deliveries.get(delivery.id)
            await runtime.stop()
        for entry in journal:
            prefix = "would send" if not entry.sent else f"sent [{entry.status}]"
            print(f"{prefix}: {entry.line()}")
        if stored is not None:
            from ghapp.failures import read_reason

            for run in stored.runs:
                reason = read_reason(run.detail)
                detail = f" ({reason.line()})" if reason else ""
                print(f"{run.skill}: {run.outcome}{detail}")
            return 0 if stored.status == "done" else 1
        return 1

    return asyncio.run(main())


def cmd_manifest(args: argparse.Namespace) -> int:
    from ghapp.bus import load_skills
    from ghapp.manifest import build_manifest, render_manifest

    settings = load_settings()
    text = render_manifest(
        build_manifest(
            load_skills().values(),
            base_url=args.base_url or settings.base_url,
            webhook_path=settings.webhook_path,
            name=args.name,
        )
    )
    path = Path(args.output)
    if args.check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            raise CommandFailed(f"{path} is stale: run `ghapp manifest` and commit it")
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    from ghapp.failures import read_reason
    from ghapp.store import Database, DeliveryStore, InstallationStore

    settings = _settings()
    accounts: dict[int, str] = {}

    async def main() -> list[Any]:
        db = Database(settings.database_url)
        try:
            since = datetime.now(UTC) - args.since if args.since else None
            found = await DeliveryStore(db).list(
                since=since, failed_only=args.failed, limit=args.limit
            )
            # Where an owner accepts permissions: the installation's page on GitHub.
            store = InstallationStore(db)
            for iid in {d.installation_id for d in found if d.installation_id is not None}:
                known = await store.get(iid)
                root = settings.github_url.rstrip("/")
                if known is not None and known.account_type == "Organization":
                    accounts[iid] = (
                        f"{root}/organizations/{known.account_login}/settings/installations/{iid}"
                    )
                else:
                    accounts[iid] = f"{root}/settings/installations/{iid}"
            return found
        finally:
            await db.close()

    found = asyncio.run(main())
    if not found:
        print("no deliveries")
    for d in found:
        runs = " ".join(f"{r.skill}={r.outcome}" for r in d.runs) or "-"
        failed_runs = [r for r in d.runs if r.outcome in ("error", "retry", "skipped") and r.detail]
        # The delivery's own error says what no skill's does: it failed before any skill
        # ran, or gave up retrying.
        errors = any(r.outcome == "error" for r in d.runs)
        error = read_reason(d.error) if d.status == "failed" and not errors else None
        print(
            f"{d.received_at:%Y-%m-%d %H:%M:%S} {d.id} {d.name} {d.repository or '-'} "
            f"{d.status} {runs}" + (f" error={error.summary}" if error else "")
        )
        installation_url = accounts.get(d.installation_id or 0)
        for name, reason in [(r.skill, read_reason(r.detail)) for r in failed_runs] + [
            ("delivery", error)
        ]:
            if reason is None or (name != "delivery" and reason.summary == "switched off"):
                continue
            print(f"  {name}: {reason.line()}")
            link = reason.link_for(settings.github_url, installation_url)
            if link:
                print(f"    {reason.link_text or 'see'}: {link}")
    return 0


def cmd_redeliver(args: argparse.Namespace) -> int:
    from ghapp.redeliver import redeliver_missed

    settings = _configured()
    summary = asyncio.run(redeliver_missed(settings, since=args.since, dry_run=args.dry_run))
    for line in summary.lines():
        print(line)
    return 0 if not summary.errors else 1


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ghapp.store.database import run_upgrade

    settings = _settings()
    run_upgrade(settings.database_url)
    print("database is at the latest schema")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from ghapp.doctor import run_checks

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"FAIL configuration: {exc}")
        return 1
    results = asyncio.run(run_checks(settings))
    for result in results:
        print(result.line())
    return 0 if all(r.ok for r in results) else 1


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ghapp",
        description="A GitHub App: receives webhooks and runs skills on your repositories. "
        "Configured by environment variables or a .env file (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="serve webhooks, settings, health and metrics")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("worker", help="process queued deliveries (scale-out, needs REDIS_URL)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("receive", help="dispatch one payload file through the skills")
    p.add_argument("event", help="the event name (X-GitHub-Event), e.g. issue_comment")
    p.add_argument("file", help="a JSON payload file")
    p.add_argument(
        "--dry-run", action="store_true", help="send no writes; print what would be sent"
    )
    p.set_defaults(func=cmd_receive)

    p = sub.add_parser("manifest", help="write manifest/app.yml from the installed skills")
    p.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    p.add_argument("--output", default=str(MANIFEST_PATH), help="default: %(default)s")
    p.add_argument("--base-url", help="public URL of the App (default: BASE_URL)")
    p.add_argument("--name", default="ghapp", help="the App's name (default: %(default)s)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("deliveries", help="list recorded deliveries and their outcomes")
    p.add_argument("--failed", action="store_true", help="only failed deliveries")
    p.add_argument("--since", type=parse_since, help="e.g. 30m, 1h, 2d")
    p.add_argument("--limit", type=int, default=100, help="default: %(default)s")
    p.set_defaults(func=cmd_deliveries)

    p = sub.add_parser("redeliver", help="ask GitHub to redeliver failed or missed deliveries")
    p.add_argument("--since", type=parse_since, default=timedelta(hours=1), help="default: 1h")
    p.add_argument("--dry-run", action="store_true", help="list, do not ask")
    p.set_defaults(func=cmd_redeliver)

    p = sub.add_parser("db", help="database tasks")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="TASK")
    u = db_sub.add_parser("upgrade", help="apply database migrations")
    u.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("doctor", help="check the configuration end to end, one line per check")
    p.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"ghapp: configuration error: {exc}", file=sys.stderr)
        return 1
    except CommandFailed as exc:
        print(f"ghapp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())
