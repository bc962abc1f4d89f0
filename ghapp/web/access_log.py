"""ghapp's access log, written by ghapp rather than uvicorn (issue 17).

uvicorn built a LogRecord for every request, accepted webhook deliveries included, which
ghapp's filter then dropped: 3 % of ingress's event loop. `ghapp run` starts uvicorn with
`access_log=False` and wraps the app in `AccessLog`, which writes uvicorn's line itself,
in uvicorn's format, only where ghapp's contract says one is written (ghapp/logs.py):
never for a 2xx answer to a POST on the webhook path (the worker logs each delivery with
its id), for every other request with its path and no query string (callbacks carry
one-time codes and `state` there, setup URLs their token). The logger is `ghapp.access`:
uvicorn, told not to log access, cuts `uvicorn.access` off from every handler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access = logging.getLogger("ghapp.access")
FORMAT = '%s - "%s %s HTTP/%s" %d'  # uvicorn's: client, method, path, version, status


def request_path(scope: Scope) -> str:
    """The path as uvicorn prints it, without the query string."""
    raw = scope.get("raw_path")
    path = raw.decode("latin1") if raw is not None else scope.get("root_path", "") + scope["path"]
    return path.replace('"', "%22")


class AccessLog:
    """ASGI middleware: one access line per answer, except an accepted delivery's.

    With `webhook`, a POST on the webhook path goes straight to that endpoint, past
    Starlette's router and exception middleware (nothing else is routed there; an error
    is uvicorn's 500, as it is Starlette's)."""

    def __init__(
        self,
        app: ASGIApp,
        webhook_path: str | None = None,
        webhook: Callable[[Request], Awaitable[Response]] | None = None,
    ) -> None:
        self.app = app
        self.webhook_path = webhook_path
        self.webhook = webhook

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.webhook is not None
        scope["app"] = self.app
        response = await self.webhook(Request(scope, receive, send))
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = request_path(scope)
        quiet = scope["method"] == "POST" and path == self.webhook_path
        app = self._webhook if quiet and self.webhook is not None else self.app
        if not access.isEnabledFor(logging.INFO):
            await app(scope, receive, send)
            return

        started = False

        async def send_logged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                if not (quiet and 200 <= status < 300):
                    _line(scope, path, status)
            await send(message)

        try:
            await app(scope, receive, send_logged)
        except BaseException:
            if not started:  # uvicorn answers 500 itself
                _line(scope, path, 500)
            raise


def _line(scope: Scope, path: str, status: int) -> None:
    client = scope.get("client")
    access.info(
        FORMAT,
        "%s:%d" % tuple(client) if client else "",  # noqa: UP031 (uvicorn's own format)
        scope["method"],
        path,
        scope.get("http_version", "1.1"),
        status,
    )
