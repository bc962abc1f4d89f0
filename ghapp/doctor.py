"""`ghapp doctor`: the configuration checked end to end, one line per check.

Each line says what was found and, when something is wrong, what to do next. Nothing
here prints a secret: only whether it is set, and for keys their size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from githubkit.exception import RequestError, RequestFailed

from ghapp.bus import load_skills
from ghapp.config import Settings
from ghapp.github import GitHubClients, RetryPolicy
from ghapp.manifest import build_manifest
from ghapp.store import Database

ACCESS_ORDER = ("read", "write", "admin")
# A doctor run should answer in seconds, not wait out GitHub's retry schedule.
DOCTOR_TIMEOUT = 10.0


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    advice: str = ""

    def line(self) -> str:
        text = f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"
        return f"{text} — {self.advice}" if self.advice and not self.ok else text


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order a person would fix things; the last line says what next."""
    results: list[CheckResult] = [_check_env_file(settings)]
    if not settings.configured:
        results.append(
            CheckResult(
                "app",
                False,
                "APP_ID is not set (setup mode)",
                f"run `ghapp run`, open {_local_url(settings)}/ and register the App: "
                "its id, key and secrets are then written to .env for you",
            )
        )
    else:
        results.append(CheckResult("app", True, f"APP_ID {settings.app_id}"))
        key = _check_key(settings)
        results.append(key)
        if key.ok:
            results.extend(await _check_github(settings))
    if settings.configured or settings.webhook_secrets or settings.client_id:
        results.append(_check_webhook_secret(settings))
        results.append(_check_sign_in(settings))
    else:
        # Setup writes them along with APP_ID: one thing to do, not three.
        results.append(CheckResult("credentials", True, "none yet; registering writes them"))
    results.append(_check_base_url(settings))
    results.append(await _check_database(settings))
    if settings.redis_url:
        results.append(await _check_redis(settings))
    results.append(_next_step(settings, results))
    return results


def _local_url(settings: Settings) -> str:
    return settings.base_url or f"http://{settings.host}:{settings.port}"


def _app_settings_url(settings: Settings, slug: str | None = None) -> str:
    return f"{settings.github_url}/settings/apps/{slug}" if slug else "the App's settings page"


def _check_env_file(settings: Settings) -> CheckResult:
    path = settings.env_file
    if path is None:
        return CheckResult(".env", True, "not read (environment only)")
    if path.is_file():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077 and settings.configured:
            return CheckResult(
                ".env",
                False,
                f"{path} is readable by others (mode {mode:o}) and holds secrets",
                f"run `chmod 600 {path}`",
            )
        return CheckResult(".env", True, f"{path} read")
    return CheckResult(".env", True, f"no {path}; environment only")


def _check_key(settings: Settings) -> CheckResult:
    # config.load_settings already refused keys that are not RSA PEM; this adds the size.
    assert settings.private_key is not None
    key = load_pem_private_key(settings.private_key.get_secret_value().encode(), password=None)
    bits = key.key_size if isinstance(key, RSAPrivateKey) else 0
    return CheckResult("private key", True, f"RSA PEM key, {bits} bits")


def _missing_grants(wanted: dict[str, str], granted: dict[str, Any]) -> list[str]:
    missing = []
    for name, access in wanted.items():
        have = granted.get(name)
        if have not in ACCESS_ORDER or ACCESS_ORDER.index(have) < ACCESS_ORDER.index(access):
            missing.append(f"{name}: {access}")
    return missing


async def _check_github(settings: Settings) -> list[CheckResult]:
    """`GET /app` with the App's JWT, then its permissions and events against the skills'."""
    assert settings.app_id is not None and settings.private_key is not None
    clients = GitHubClients(
        app_id=settings.app_id,
        private_key=settings.private_key.get_secret_value(),
        api_url=settings.github_api_url,
        timeout=DOCTOR_TIMEOUT,
        retry=RetryPolicy(max_retries=1, max_inline_wait=timedelta(seconds=5)),
    )
    try:
        data = (await clients.app.rest.apps.async_get_authenticated()).parsed_data
    except RequestFailed as exc:
        status = exc.response.status_code
        if status == 401:
            advice = (
                f"GitHub refused the App's token: the key does not belong to App "
                f"{settings.app_id}, or there is no such App. Check APP_ID and generate a new "
                "private key on the App's settings page"
            )
        else:
            advice = f"check APP_ID and GITHUB_API_URL ({settings.github_api_url})"
        return [CheckResult("GET /app", False, f"GitHub answered {status}", advice)]
    except RequestError as exc:
        return [
            CheckResult(
                "GET /app",
                False,
                f"cannot reach {settings.github_api_url} ({type(exc.exc).__name__})",
                "check GITHUB_API_URL (https://HOST/api/v3 for GitHub Enterprise Server) "
                "and this machine's network",
            )
        ]
    finally:
        await clients.close()
    if data is None:
        return [CheckResult("GET /app", False, "no App in the answer", "check GITHUB_API_URL")]
    slug = str(data.slug or data.name)
    results = [CheckResult("GET /app", True, f"authenticated as {slug} ({data.html_url})")]
    manifest = build_manifest(load_skills().values())
    granted = data.permissions.model_dump(exclude_none=True) if data.permissions else {}
    missing = _missing_grants(manifest["default_permissions"], granted)
    events = sorted(set(manifest["default_events"]) - set(data.events or []))
    if missing or events:
        lacking = "; ".join(
            part
            for part in (
                f"permissions {', '.join(missing)}" if missing else "",
                f"events {', '.join(events)}" if events else "",
            )
            if part
        )
        results.append(
            CheckResult(
                "App permissions",
                False,
                f"the installed skills need {lacking}",
                f"add them at {_app_settings_url(settings, slug)}/permissions "
                "(installations then accept the new permissions)",
            )
        )
    else:
        results.append(CheckResult("App permissions", True, "cover every installed skill's needs"))
    return results


def _check_webhook_secret(settings: Settings) -> CheckResult:
    count = len(settings.webhook_secrets)
    if count:
        detail = "1 configured" if count == 1 else f"{count} configured (rotation)"
        return CheckResult("webhook secret", True, detail)
    return CheckResult(
        "webhook secret",
        False,
        "WEBHOOK_SECRET is not set",
        "set WEBHOOK_SECRET to the webhook secret on the App's settings page "
        "(setup mode writes it for you)",
    )


def _check_sign_in(settings: Settings) -> CheckResult:
    if settings.client_id and settings.client_secret:
        return CheckResult(
            "settings sign-in", True, "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET set"
        )
    missing = [
        name
        for name, value in (
            ("GITHUB_CLIENT_ID", settings.client_id),
            ("GITHUB_CLIENT_SECRET", settings.client_secret),
        )
        if not value
    ]
    return CheckResult(
        "settings sign-in",
        False,
        f"{' and '.join(missing)} not set: the settings page cannot sign anyone in",
        "copy the client id and generate a client secret on the App's settings page",
    )


def _check_base_url(settings: Settings) -> CheckResult:
    if settings.base_url:
        return CheckResult(
            "public URL", True, f"webhooks expected at {settings.base_url}{settings.webhook_path}"
        )
    return CheckResult(
        "public URL",
        True,
        f"BASE_URL unset: links use each request's address; webhooks at {settings.webhook_path}",
    )


async def _check_database(settings: Settings) -> CheckResult:
    db = Database(settings.database_url)
    try:
        await db.ping()
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        for secret in settings.secret_values:
            detail = detail.replace(secret, "[redacted]")
        return CheckResult(
            "database",
            False,
            detail,
            "check DATABASE_URL and that the database server is running",
        )
    finally:
        await db.close()
    return CheckResult("database", True, settings.database_url.split("://", 1)[0] + " reachable")


async def _check_redis(settings: Settings) -> CheckResult:
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url or "")
    try:
        await client.ping()  # pyright: ignore[reportGeneralTypeIssues]
    except Exception as exc:
        return CheckResult(
            "redis", False, type(exc).__name__, "check REDIS_URL and that Redis is running"
        )
    finally:
        await client.aclose()
    return CheckResult("redis", True, "reachable")


def _next_step(settings: Settings, results: list[CheckResult]) -> CheckResult:
    failed = [r.name for r in results if not r.ok]
    if not failed:
        command = "`ghapp run` (and `ghapp worker`s)" if settings.redis_url else "`ghapp run`"
        return CheckResult("next", True, f"all set: start {command}, then install the App")
    if not settings.configured:
        return CheckResult(
            "next",
            False,
            "finish setup first",
            "open the setup URL `ghapp run` prints (setup URL: http://HOST:PORT/setup?token=…)",
        )
    return CheckResult("next", False, f"fix: {', '.join(failed)}", "then run `ghapp doctor` again")
