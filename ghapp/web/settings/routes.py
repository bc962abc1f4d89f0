"""The settings page's routes, each to the module that answers it."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ghapp.manifest import OAUTH_CALLBACK_PATH, SETUP_URL_PATH
from ghapp.web.settings import access, changes, installations, rendering, sign_in


def routes() -> list[BaseRoute]:
    # The app is being built: this work is not left to a person's first view.
    rendering.warm_up()
    access.warm_up()
    return [
        Route("/settings", installations.index, methods=["GET"]),
        Route("/settings/login", sign_in.login, methods=["GET"]),
        Route(OAUTH_CALLBACK_PATH, sign_in.callback, methods=["GET"]),
        Route("/settings/logout", sign_in.logout, methods=["POST"]),
        Route(SETUP_URL_PATH, sign_in.installed, methods=["GET"]),
        Route(
            "/settings/installations/{installation_id:int}",
            installations.installation,
            methods=["GET"],
        ),
        Route(
            "/settings/installations/{installation_id:int}/switches",
            changes.set_switch,
            methods=["POST"],
        ),
        Route(
            "/settings/installations/{installation_id:int}/deliveries/{delivery_id}",
            installations.delivery_row,
            methods=["GET"],
        ),
        Route(
            "/settings/installations/{installation_id:int}/deliveries/{delivery_id}/redeliver",
            changes.redeliver,
            methods=["POST"],
        ),
    ]
