"""What a signed-in person sees: their installations, and one installation's page.

The installation page shows each skill's state in force and its switch (installation-wide
and, for a chosen repository, its override), the options that repository's
`.github/ghapp.yml` gives each skill, the overrides, the deliveries and the audit of
changes, each paged and filtered. A person sees only what GitHub lets them see
(PRODUCT.md §6): overrides, deliveries and changes of repositories GitHub does not list
for their token are left out, not even named; deliveries of no repository only to those
who manage the installation. Whether they may change a switch decides whether they get
controls or the state in words with whom to ask.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from ghapp.github import GitHubUnavailable
from ghapp.store.deliveries import DeliveryFilter
from ghapp.store.switches import INSTALLATION_WIDE
from ghapp.web.services import SettingsServices, settings_services
from ghapp.web.sessions import SESSION_COOKIE, Viewer, current_viewer, safe_next
from ghapp.web.settings.access import (
    InstallationView,
    RepositoryView,
    SignInAgain,
    administers_repository,
    manages_installation,
    recent_installation,
    recent_installation_and_manages,
    recent_manages,
    recent_repositories,
    visible_installations,
)
from ghapp.web.settings.delivery_rows import delivery_rows
from ghapp.web.settings.queries import (
    MAX_ID,
    PAGE_SIZE,
    BadQuery,
    Paged,
    PageQuery,
    link_maker,
    offset,
)
from ghapp.web.settings.rendering import (
    github_failure,
    not_configured,
    problem,
    render,
    sign_in_page,
)
from ghapp.web.settings.skill_rows import change_text, fill_options, responder_text, skill_rows

log = logging.getLogger("ghapp.web.settings")


def find_repository(repos: list[RepositoryView], name: str | None) -> RepositoryView | None:
    if not name:
        return None
    wanted = name.strip().lower()
    return next((r for r in repos if r.full_name.lower() == wanted), None)


@dataclass
class InstallationEntry:
    installation: InstallationView
    can_manage: bool


async def index(request: Request) -> Response:
    services = settings_services(request)
    if services is None:
        return not_configured(request)
    viewer = await current_viewer(request, services)
    if viewer is None:
        ended = SESSION_COOKIE in request.cookies
        return sign_in_page(
            request,
            safe_next(request.query_params.get("next")),
            "session-ended" if ended else request.query_params.get("notice"),
        )
    try:
        installations = await visible_installations(services.github, viewer.token)
        manages = await asyncio.gather(
            *(manages_installation(services.github, i, viewer.login) for i in installations)
        )
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)
    entries = [InstallationEntry(i, m) for i, m in zip(installations, manages, strict=True)]
    return render(
        request,
        "settings_index.html",
        {"installations": entries, "app_name": await _app_name(services)},
        viewer=viewer,
    )


async def _app_name(services: SettingsServices) -> str:
    try:
        return (await services.github.app_info()).name
    except Exception:
        return "ghapp"  # only a heading: never fail the page for it


async def installation(request: Request) -> Response:
    services = settings_services(request)
    if services is None:
        return not_configured(request)
    installation_id: int = request.path_params["installation_id"]
    if installation_id > MAX_ID:
        return problem(request, 404, "Installation not found", "No such installation.")
    viewer = await current_viewer(request, services)
    if viewer is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return sign_in_page(
            request,
            safe_next(here),
            "session-ended" if SESSION_COOKIE in request.cookies else None,
        )
    try:
        query = PageQuery.read(request.query_params)
    except BadQuery as exc:
        return problem(request, 400, "Bad request", f"{exc}.", viewer=viewer)
    try:
        return await _installation_page(request, services, viewer, installation_id, query)
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)


async def _installation_page(
    request: Request,
    services: SettingsServices,
    viewer: Viewer,
    installation_id: int,
    query: PageQuery,
) -> Response:
    github = services.github
    # Asked together: the installation (then whether the person manages it), and its
    # repositories this person can see.
    seen, repositories = await asyncio.gather(
        recent_installation_and_manages(github, viewer.token, installation_id, viewer.login),
        recent_repositories(github, viewer.token, installation_id),
        return_exceptions=True,
    )
    if isinstance(seen, BaseException):
        raise seen
    found, can_manage = seen
    if found is None:
        return problem(
            request,
            404,
            "Installation not found",
            "This installation does not exist or you cannot see it on GitHub.",
            viewer=viewer,
        )
    if isinstance(repositories, BaseException):
        raise repositories
    names = [r.full_name for r in repositories]
    chosen = find_repository(repositories, query.repo)
    can_override = can_manage or (
        chosen is not None
        and await administers_repository(github, installation_id, chosen.full_name, viewer.login)
    )
    stored = await services.switches.switches(installation_id)
    rows = skill_rows(services, stored, chosen)
    settings = request.app.state.settings
    options_error = await fill_options(
        services, installation_id, chosen, rows, github_url=settings.github_url
    )
    matches = [r for r in repositories if query.search.lower() in r.full_name.lower()]
    visible = {name.lower() for name in names}
    overrides = sorted(
        (repo, skill, enabled)
        for (repo, skill), enabled in stored.items()
        if repo != INSTALLATION_WIDE
        and repo.lower() in visible
        and (chosen is None or repo == chosen.full_name)
    )
    shown = DeliveryFilter(
        names,
        unscoped=can_manage,
        repository=chosen.full_name if chosen else None,
        status=query.outcome,
        event=query.event,
    )
    deliveries = await services.deliveries.list(
        installation_ids=[installation_id],
        visible=shown,
        offset=offset(query.deliveries_page),
        limit=PAGE_SIZE + 1,
    )
    audit = await services.audit.audit(
        installation_id,
        PAGE_SIZE + 1,
        offset=offset(query.changes_page),
        repositories=names,
        repository=chosen.full_name if chosen else None,
    )
    # Scheduled work where this person can see it: failures first, then the latest runs.
    scheduled = await services.periodic_runs.for_installation(
        installation_id, repositories=[chosen.full_name] if chosen else names
    )
    scheduled.sort(key=lambda run: (run.outcome == "ok", -run.finished_at.timestamp()))
    # A repository's file may name its own responder (mention-reply's `responder`).
    mention = next((r for r in rows if r.name == "mention-reply" and r.options), None)
    repo_responder = getattr(mention.options, "responder", None) if mention else None
    rows_of_deliveries = delivery_rows(
        deliveries,
        github_url=settings.github_url,
        installation_url=found.html_url,
        redeliverable=None
        if can_manage
        else ({chosen.full_name} if can_override and chosen else set()),
    )
    return render(
        request,
        "settings_installation.html",
        {
            "installation": found,
            "repository_count": len(repositories),
            "repositories": Paged.slice(matches, query.repos_page),
            "query": query,
            "chosen": chosen,
            "repo_unknown": query.repo is not None and chosen is None,
            "can_manage": can_manage,
            "can_override": can_override,
            "rows": rows,
            "options_error": options_error,
            "overrides": Paged.slice(overrides, query.overrides_page),
            "deliveries": Paged.of(rows_of_deliveries, query.deliveries_page),
            "audit": Paged.of(audit, query.changes_page),
            "outcomes": ["failed", "done", "queued", "running", "ignored"],
            "github_url": settings.github_url.rstrip("/"),
            "here": link_maker(request.query_params, drop=() if chosen else ("repo",)),
            "change_text": change_text,
            "notice_inline": query.changed is not None,
            "responder": responder_text(settings, repo_responder),
            "responder_repo": chosen.full_name if chosen and repo_responder else None,
            "scheduled_work": scheduled[:PAGE_SIZE],
        },
        viewer=viewer,
    )


async def delivery_row(request: Request) -> Response:
    """One delivery's row, for the page's script to refresh a redelivered row in place."""
    services = settings_services(request)
    if services is None:
        return not_configured(request)
    viewer = await current_viewer(request, services)
    if viewer is None:
        return problem(request, 401, "Sign in", "Sign in to see deliveries.", sign_in=True)
    installation_id: int = request.path_params["installation_id"]
    if installation_id > MAX_ID:
        return problem(request, 404, "Not found", "No such delivery.", viewer=viewer)
    delivery = await services.deliveries.get(request.path_params["delivery_id"][:64])
    try:
        # Polled while a delivery runs: what GitHub listed a moment ago will do.
        found = await recent_installation(services.github, viewer.token, installation_id)
        if found is None or delivery is None or delivery.installation_id != installation_id:
            return problem(request, 404, "Not found", "No such delivery.", viewer=viewer)
        repositories = await recent_repositories(services.github, viewer.token, installation_id)
        names = {r.full_name for r in repositories}
        can_manage = await recent_manages(services.github, viewer.token, found, viewer.login)
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)
    if (delivery.repository is None and not can_manage) or (
        delivery.repository is not None and delivery.repository not in names
    ):
        return problem(request, 404, "Not found", "No such delivery.", viewer=viewer)
    settings = request.app.state.settings
    [row] = delivery_rows(
        [delivery],
        github_url=settings.github_url,
        installation_url=found.html_url,
        redeliverable=None if can_manage else set(),
    )
    return render(
        request,
        "settings_delivery_row.html",
        {"d": row, "installation": found, "can_manage": can_manage},
        viewer=viewer,
    )
