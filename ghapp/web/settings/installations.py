"""What a signed-in person sees: their installations, and one installation's page.

The installation page shows each skill's switch (installation-wide and, for a chosen
repository, its override), the options that repository's `.github/ghapp.yml` gives each
skill, the overrides and recent deliveries, and the audit of changes. Everything is read;
whether the person may change a switch decides only whether the controls are live.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

import yaml
from starlette.requests import Request
from starlette.responses import Response

from ghapp.github import GitHubUnavailable
from ghapp.store.switches import INSTALLATION_WIDE
from ghapp.web.services import SettingsServices, settings_services
from ghapp.web.sessions import SESSION_COOKIE, Viewer, current_viewer, safe_next
from ghapp.web.settings.access import (
    RepositoryView,
    SignInAgain,
    administers_repository,
    manages_installation,
    visible_installation,
    visible_installations,
    visible_repositories,
)
from ghapp.web.settings.rendering import (
    github_failure,
    not_configured,
    problem,
    render,
    sign_in_page,
)

log = logging.getLogger("ghapp.web.settings")


@dataclass
class SkillRow:
    name: str
    description: str
    permissions: list[tuple[str, str]]
    default: bool
    installation_value: bool | None  # None: never set, the default applies
    effective_installation: bool
    repo_override: bool | None = None
    effective_repo: bool | None = None
    options_text: str | None = None
    options_source: str | None = None
    feature_of: str | None = None  # a feature's switch: the skill it belongs to


def find_repository(repos: list[RepositoryView], name: str | None) -> RepositoryView | None:
    if not name:
        return None
    wanted = name.strip().lower()
    return next((r for r in repos if r.full_name.lower() == wanted), None)


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
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)
    return render(
        request,
        "settings_index.html",
        {"installations": installations, "app_name": await _app_name(services)},
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
    viewer = await current_viewer(request, services)
    if viewer is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return sign_in_page(
            request,
            safe_next(here),
            "session-ended" if SESSION_COOKIE in request.cookies else None,
        )
    try:
        return await _installation_page(request, services, viewer, installation_id)
    except (SignInAgain, GitHubUnavailable) as exc:
        return await github_failure(request, services, exc)


async def _installation_page(
    request: Request, services: SettingsServices, viewer: Viewer, installation_id: int
) -> Response:
    github = services.github
    found = await visible_installation(github, viewer.token, installation_id)
    if found is None:
        return problem(
            request,
            404,
            "Installation not found",
            "This installation does not exist or you cannot see it on GitHub.",
            viewer=viewer,
        )
    repositories = await visible_repositories(github, viewer.token, installation_id)
    chosen = find_repository(repositories, request.query_params.get("repo"))
    can_manage = await manages_installation(github, found, viewer.login)
    can_override = can_manage or (
        chosen is not None
        and await administers_repository(github, installation_id, chosen.full_name, viewer.login)
    )
    stored = await services.switches.switches(installation_id)
    rows = _skill_rows(services, stored, chosen)
    options_error = await _fill_options(services, installation_id, chosen, rows)
    overrides = sorted(
        (repo, skill, enabled)
        for (repo, skill), enabled in stored.items()
        if repo != INSTALLATION_WIDE
    )
    deliveries = await services.deliveries.list(installation_ids=[installation_id], limit=25)
    audit = await services.audit.audit(installation_id, limit=50)
    return render(
        request,
        "settings_installation.html",
        {
            "installation": found,
            "repositories": repositories,
            "chosen": chosen,
            "can_manage": can_manage,
            "can_override": can_override,
            "rows": rows,
            "options_error": options_error,
            "overrides": overrides,
            "deliveries": deliveries,
            "audit": audit,
            "repo_query": quote(chosen.full_name, safe="/") if chosen else "",
        },
        viewer=viewer,
    )


def _skill_rows(
    services: SettingsServices,
    stored: dict[tuple[str, str], bool],
    chosen: RepositoryView | None,
) -> list[SkillRow]:
    """One row per skill, each followed by a row per feature it declares."""
    rows: list[SkillRow] = []
    for name in sorted(services.skills):
        skill = services.skills[name]
        permissions = sorted((str(k), str(v)) for k, v in skill.permissions.items())
        rows.append(_row(stored, chosen, name, skill.description, skill.default_enabled))
        rows[-1].permissions = permissions
        for switch, feature in skill.feature_switches():
            rows.append(_row(stored, chosen, switch, feature.description, feature.default))
            rows[-1].feature_of = name
    return rows


def _row(
    stored: dict[tuple[str, str], bool],
    chosen: RepositoryView | None,
    switch: str,
    description: str,
    default: bool,
) -> SkillRow:
    value = stored.get((INSTALLATION_WIDE, switch))
    effective = default if value is None else value
    row = SkillRow(
        name=switch,
        description=description,
        permissions=[],
        default=default,
        installation_value=value,
        effective_installation=effective,
    )
    if chosen is not None:
        row.repo_override = stored.get((chosen.full_name, switch))
        row.effective_repo = effective if row.repo_override is None else row.repo_override
    return row


async def _fill_options(
    services: SettingsServices,
    installation_id: int,
    chosen: RepositoryView | None,
    rows: list[SkillRow],
) -> str | None:
    """Fill each row's resolved options for the chosen repository (read-only)."""
    if chosen is None:
        return None
    try:
        resolved = await services.repository_options(installation_id, chosen.full_name)
    except Exception as exc:
        log.warning("options unavailable on the settings page: %s", type(exc).__name__)
        return "The repository's .github/ghapp.yml could not be read just now."
    for row in rows:
        if row.feature_of is not None:
            continue  # a feature has no options of its own: its skill's apply
        found = resolved.get(row.name)
        if found is None:
            row.options_source = "its section in .github/ghapp.yml is invalid"
            continue
        options, own_section = found
        dumped = options.model_dump(mode="json")
        row.options_text = (
            yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True).strip()
            if dumped
            else "(no options)"
        )
        row.options_source = (
            "from .github/ghapp.yml with defaults"
            if own_section
            else "defaults (no section in .github/ghapp.yml)"
        )
    return None
