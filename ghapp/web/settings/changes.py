"""The settings page's forms: switching a skill, and running a failed delivery again.

Every change is authorized here against GitHub (`access`), whatever the page showed: a
switch of the whole installation needs an organization owner (or the account itself),
a repository override or a redelivery also a repository admin; anything else, or a form
without its CSRF token, is answered 403. A failed delivery is queued again from its
stored payload rather than asked of GitHub: a GitHub redelivery keeps its delivery id,
which ingress already knows and would not process twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ghapp.github import GitHubUnavailable
from ghapp.store.switches import INSTALLATION_WIDE
from ghapp.web.services import SettingsServices, settings_services
from ghapp.web.sessions import Viewer, csrf_ok, current_viewer
from ghapp.web.settings.access import (
    SignInAgain,
    administers_repository,
    manages_installation,
    visible_installation,
    visible_repositories,
)
from ghapp.web.settings.installations import find_repository
from ghapp.web.settings.queries import MAX_ID
from ghapp.web.settings.rendering import forbidden, github_failure, not_configured, problem

log = logging.getLogger("ghapp.web.settings")
SWITCH_VALUES = {"on": True, "off": False, "inherit": None}
CANNOT_SEE = "You cannot see this installation."


@dataclass
class ChangeRequest:
    """A change form from a signed-in person, its CSRF token checked."""

    services: SettingsServices
    viewer: Viewer
    form: Any
    installation_id: int


async def _change_request(request: Request) -> ChangeRequest | Response:
    """The change the form asks for — or the refusal to send."""
    services = settings_services(request)
    if services is None:
        return not_configured(request)
    viewer = await current_viewer(request, services)
    form = await request.form()
    if viewer is None:
        return forbidden(request, None, "Sign in before changing settings.")
    if not csrf_ok(viewer, form):
        return forbidden(
            request, viewer, "The form was missing its security token. Reload and retry."
        )
    installation_id: int = request.path_params["installation_id"]
    if installation_id > MAX_ID:
        return forbidden(request, viewer, CANNOT_SEE)
    return ChangeRequest(services, viewer, form, installation_id)


async def _manages(change: ChangeRequest) -> bool | None:
    """Whether the person may change the whole installation; None: they cannot see it."""
    github, viewer = change.services.github, change.viewer
    installation = await visible_installation(github, viewer.token, change.installation_id)
    if installation is None:
        return None
    return await manages_installation(github, installation, viewer.login)


async def set_switch(request: Request) -> Response:
    change = await _change_request(request)
    if isinstance(change, Response):
        return change
    services, viewer, form = change.services, change.viewer, change.form
    github = services.github
    installation_id = change.installation_id
    skill = str(form.get("skill", ""))
    value = str(form.get("value", ""))
    repository = str(form.get("repository", ""))
    switches = {name for listing in services.skills.values() for name in listing.switch_defaults()}
    if skill not in switches or value not in SWITCH_VALUES:
        return problem(request, 400, "Bad request", "Unknown skill or value.")
    if repository == INSTALLATION_WIDE and value == "inherit":
        return problem(request, 400, "Bad request", "Choose on or off.")
    try:
        allowed = await _manages(change)
        if allowed is None:
            return forbidden(request, viewer, CANNOT_SEE)
        if repository != INSTALLATION_WIDE:
            repos = await visible_repositories(github, viewer.token, installation_id)
            found = find_repository(repos, repository)
            if found is None:
                return forbidden(
                    request, viewer, "That repository is not part of this installation."
                )
            repository = found.full_name  # GitHub's spelling, as deliveries carry it
            allowed = allowed or await administers_repository(
                github, installation_id, repository, viewer.login
            )
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)
    if not allowed:
        who = (
            "organization owners (or the account itself)"
            if repository == INSTALLATION_WIDE
            else "repository admins and organization owners"
        )
        log.warning(
            "settings change refused",
            extra={"user": viewer.login, "installation": installation_id, "skill": skill},
        )
        return forbidden(request, viewer, f"Only {who} may change this switch.")
    saved = await services.switches.set(
        installation_id, repository, skill, SWITCH_VALUES[value], actor=viewer.login
    )
    log.info(
        "skill switch changed" if saved else "skill switch unchanged",
        extra={
            "user": viewer.login,
            "installation": installation_id,
            "repo": repository or None,
            "skill": skill,
            "value": value,
        },
    )
    anchor = ("repo-skill-" if repository else "skill-") + skill.replace("/", "-")
    query = {"notice": "saved" if saved else "unchanged", "changed": anchor}
    if repository:
        query["repo"] = repository
    return RedirectResponse(
        f"/settings/installations/{installation_id}?{urlencode(query)}#{anchor}",
        status_code=303,
    )


async def redeliver(request: Request) -> Response:
    change = await _change_request(request)
    if isinstance(change, Response):
        return change
    services, viewer, installation_id = change.services, change.viewer, change.installation_id
    delivery = await services.deliveries.get(request.path_params["delivery_id"][:64])
    if delivery is None or delivery.installation_id != installation_id:
        return problem(request, 404, "Not found", "No such delivery.", viewer=viewer)
    try:
        allowed = await _manages(change)
        if allowed is None:
            return forbidden(request, viewer, CANNOT_SEE)
        if delivery.repository:
            allowed = await administers_repository(
                services.github, installation_id, delivery.repository, viewer.login
            )
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)
    if not allowed:
        return forbidden(
            request, viewer, "Only organization owners and repository admins may do this."
        )
    if delivery.status != "failed":
        return problem(
            request, 409, "Not failed", "Only failed deliveries are run again.", viewer=viewer
        )
    # Skills that finished (ok or skipped) are not run again; effects happen once.
    await services.redeliver(delivery)
    log.info(
        "delivery queued again from the settings page",
        extra={"user": viewer.login, "delivery": delivery.id},
    )
    anchor = f"delivery-{delivery.id}"
    query = urlencode({"notice": "requeued", "changed": anchor})
    return RedirectResponse(
        f"/settings/installations/{installation_id}?{query}#{anchor}", status_code=303
    )
