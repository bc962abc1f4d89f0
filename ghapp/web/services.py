"""What the web pages are handed, and all they may use: narrow interfaces, no runtime.

The app factory (`ghapp.web.app`) builds a `SettingsServices` once an App is configured
and a `SetupServices` for setup mode, and keeps them on the Starlette app. The pages never
see the runtime, the bus or the queue: they read the stores through the protocols below,
ask GitHub through `GitHubAccess`, and put a failed delivery back through `redeliver`.
The sessions store is the one store they use whole: it exists only for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from githubkit import GitHub
from pydantic import BaseModel
from starlette.requests import Request

from ghapp.config import Settings
from ghapp.github import AppInfo
from ghapp.store.deliveries import Delivery, DeliveryFilter
from ghapp.store.periodic_runs import PeriodicRun
from ghapp.store.sessions import SessionStore
from ghapp.store.switches import SwitchChange
from ghapp.web.setup.access import new_setup_token
from ghapp.web.setup.registrations import PendingRegistrations


class GitHubAccess(Protocol):
    """GitHub as the pages ask it: as the signed-in person, as an installation, as the App."""

    def user(self, token: str) -> GitHub[Any]: ...
    async def installation(self, installation_id: int) -> GitHub[Any]: ...
    async def app_info(self) -> AppInfo: ...


class SkillListing(Protocol):
    """A skill as the settings page lists it."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def permissions(self) -> Mapping[str, str]: ...
    @property
    def default_enabled(self) -> bool: ...
    def feature_switches(self) -> Sequence[tuple[str, Any]]: ...  # (switch, Feature)
    def switch_defaults(self) -> Mapping[str, bool]: ...  # its own switch and its features'


class Switches(Protocol):
    """Which skills are on, per installation and per repository ("" = installation-wide)."""

    async def switches(self, installation_id: int) -> dict[tuple[str, str], bool]: ...
    async def set(
        self, installation_id: int, repository: str, skill: str, enabled: bool | None, *, actor: str
    ) -> SwitchChange | None: ...


class AuditLog(Protocol):
    """Who changed which switch, and when."""

    async def audit(
        self,
        installation_id: int,
        limit: int = 50,
        *,
        offset: int = 0,
        repositories: list[str] | None = None,
        repository: str | None = None,
    ) -> list[SwitchChange]: ...


class DeliveryLog(Protocol):
    """The recorded deliveries, read-only."""

    async def get(self, delivery_id: str) -> Delivery | None: ...
    async def list(
        self,
        *,
        installation_ids: list[int] | None = None,
        limit: int = 100,
        offset: int = 0,
        visible: DeliveryFilter | None = None,
    ) -> list[Delivery]: ...


class PeriodicRunLog(Protocol):
    """The last run of each periodic job (daily milestone refresh, hourly label repair)."""

    async def for_installation(
        self, installation_id: int, *, repositories: Collection[str] | None = None
    ) -> list[PeriodicRun]: ...


# Each skill's options for one repository: (options, from its own section), or, when its
# section is invalid (the skill then does nothing), why, as a delivery's skipped run
# stores it (`ghapp.failures.read_reason` reads it): the invalid options, each with its
# line when known, and the line to fix. None: invalid, and nothing more is known.
ResolvedOptions = tuple[BaseModel, bool] | str | None


@dataclass(frozen=True)
class SettingsServices:
    """Everything the settings page uses, handed in by the app factory."""

    github: GitHubAccess
    skills: Mapping[str, SkillListing]
    switches: Switches
    audit: AuditLog
    deliveries: DeliveryLog
    periodic_runs: PeriodicRunLog
    # The web's own store: signed-in sessions (`ghapp.web.sessions` holds the cookies).
    sessions: SessionStore
    # SESSION_SECRET, or the one generated on first run and kept for every process.
    session_secret: Callable[[], Awaitable[str]]
    # Queue a failed delivery again from its stored payload (finished skills stay done).
    redeliver: Callable[[Delivery], Awaitable[None]]
    # (installation id, "owner/repo") → each skill's options there, as a delivery sees them.
    repository_options: Callable[[int, str], Awaitable[Mapping[str, ResolvedOptions]]]


@dataclass
class SetupServices:
    """What setup mode uses: the manifest to register, and how to start the App after."""

    # (public base URL, App name) → the manifest GitHub registers the App from.
    manifest: Callable[[str, str], dict[str, Any]]
    # Start serving the App these settings configure, in this process, with no restart.
    activate: Callable[[Settings], Awaitable[None]]
    pending: PendingRegistrations = field(default_factory=PendingRegistrations)
    # The setup token `ghapp run` prints (fresh each start): setup belongs to its holder.
    token: str = field(default_factory=new_setup_token, repr=False)
    # One callback finishes at a time: a second one must see the App the first saved.
    finishing: asyncio.Lock = field(default_factory=asyncio.Lock)


def settings_services(request: Request) -> SettingsServices | None:
    """The settings page's services, or None before an App is configured."""
    return request.app.state.settings_services


def setup_services(request: Request) -> SetupServices:
    return request.app.state.setup_services
