"""The Starlette application factory.

The app starts in setup mode when no App is configured and switches to serving the
configured App in place (`activate`) once setup has written the credentials.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ghapp.config import Settings
from ghapp.ingress import receive_webhook
from ghapp.metrics import CONTENT_TYPE
from ghapp.runtime import Runtime, RuntimeOptions
from ghapp.web import settings_page, setup_mode

log = logging.getLogger("ghapp.web")
STATIC = __import__("pathlib").Path(__file__).parent / "static"


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        return JSONResponse({"status": "setup", "message": "no App configured yet"})
    down = []
    try:
        await runtime.db.ping()
    except Exception as exc:
        down.append(f"database: {type(exc).__name__}")
    try:
        await runtime.queue.ping()
    except Exception as exc:
        down.append(f"redis: {type(exc).__name__}")
    if down:
        return JSONResponse({"status": "unavailable", "down": down}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        return PlainTextResponse("", media_type=CONTENT_TYPE)
    try:
        runtime.metrics.queue_depth.set(await runtime.queue_depth())
    except Exception:
        log.warning("queue depth unavailable for /metrics")
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)


async def activate(app: Starlette, settings: Settings) -> Runtime:
    """Build the configured App's runtime and start serving it (no restart needed)."""
    runtime = Runtime(settings, app.state.options)
    await runtime.prepare()
    if app.state.run_workers:
        await runtime.start_workers()
    app.state.settings = settings
    app.state.runtime = runtime
    return runtime


def create_app(
    settings: Settings,
    options: RuntimeOptions | None = None,
    *,
    run_workers: bool | None = None,
) -> Starlette:
    """The web app; with `run_workers` (default: no REDIS_URL) it also processes deliveries."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.configured:
            await activate(app, settings)
        else:
            log.info("no APP_ID: serving setup mode at /")
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
        *settings_page.routes(),
        *setup_mode.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.options = options or RuntimeOptions()
    app.state.runtime = None
    app.state.run_workers = settings.redis_url is None if run_workers is None else run_workers
    return app
