"""The Starlette application factory.

The app starts in setup mode when no App is configured and switches to serving the
configured App in place (`activate`) once setup has written the credentials. The factory
is the one web module that knows the runtime: it hands the pages only the narrow
services of `ghapp.web.services`.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ghapp.bus import load_skills
from ghapp.config import Settings
from ghapp.ingress import receive_webhook
from ghapp.manifest import build_manifest
from ghapp.metrics import CONTENT_TYPE
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.skill import Skill
from ghapp.store import AppValues
from ghapp.store.sessions import SessionStore
from ghapp.web.services import SettingsServices, SetupServices
from ghapp.web.session_secret import load_session_secret
from ghapp.web.settings.routes import routes as settings_routes
from ghapp.web.setup.routes import routes as setup_routes

log = logging.getLogger("ghapp.web")
STATIC = Path(__file__).parent / "static"


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        return JSONResponse({"status": "setup", "message": "no App configured yet"})
    down = await runtime.unavailable()
    if down:
        return JSONResponse({"status": "unavailable", "down": down}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        return PlainTextResponse("", media_type=CONTENT_TYPE)
    return Response(await runtime.render_metrics(), media_type=CONTENT_TYPE)


def settings_services_of(runtime: Runtime) -> SettingsServices:
    """The settings page's view of a configured App: its stores, GitHub, and redelivery."""
    values = AppValues(runtime.db)

    async def session_secret() -> str:
        return await load_session_secret(runtime.settings, values)

    return SettingsServices(
        github=runtime.clients,
        skills=runtime.skills,
        sessions=SessionStore(runtime.db),
        switches=runtime.switches,
        audit=runtime.switches,
        deliveries=runtime.deliveries,
        periodic_runs=runtime.periodic_runs,
        redeliver=runtime.redeliver,
        repository_options=runtime.repository_options,
        session_secret=session_secret,
    )


async def activate(app: Starlette, settings: Settings) -> Runtime:
    """Build the configured App's runtime and start serving it (no restart needed)."""
    runtime = Runtime(settings, app.state.options)
    await runtime.prepare()
    if app.state.run_workers:
        await runtime.start_workers()
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.settings_services = settings_services_of(runtime)
    return runtime


def _setup_services(app: Starlette, settings: Settings, options: RuntimeOptions) -> SetupServices:
    def skills() -> Iterable[Skill]:
        if options.skills is not None:
            return options.skills
        return load_skills(options.extra_skills).values()

    def manifest(base_url: str, name: str) -> dict[str, Any]:
        return build_manifest(
            skills(), base_url=base_url, webhook_path=settings.webhook_path, name=name
        )

    async def start(new_settings: Settings) -> None:
        await activate(app, new_settings)

    return SetupServices(manifest=manifest, activate=start)


def setup_url(app: Starlette, host: str, port: int) -> str:
    """The URL that opens setup mode in a browser, with this start's setup token
    (PRODUCT.md §7); printed once by `ghapp run`, never logged."""
    token = app.state.setup_services.token
    return f"http://{host}:{port}/setup?token={token}"


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, classes, the runtime) out of the garbage
    collector's full passes: under load a full collection walked the whole ~140 MiB heap
    and stalled every request for up to 0.4 s, most of ingress's p99 (issue 17). Objects
    frozen here are still freed when nothing refers to them; `ghapp run` calls it once."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings,
    options: RuntimeOptions | None = None,
    *,
    run_workers: bool | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """The web app; with `run_workers` (default: no REDIS_URL) it also processes deliveries."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.configured:
            await activate(app, settings)
        else:
            log.info("no APP_ID: serving setup mode at /")
        if freeze_heap:
            freeze_startup_heap()
        yield
        runtime: Runtime | None = app.state.runtime
        if runtime is not None:
            await runtime.stop()
            log.info("stopped: work in flight finished, the rest stays stored")

    routes: list[BaseRoute] = [
        Route(settings.webhook_path, receive_webhook, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *settings_routes(),
        *setup_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.options = options = options or RuntimeOptions()
    app.state.runtime = None
    app.state.settings_services = None
    app.state.setup_services = _setup_services(app, settings, options)
    app.state.run_workers = settings.redis_url is None if run_workers is None else run_workers
    return app
