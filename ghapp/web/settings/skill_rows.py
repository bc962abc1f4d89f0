"""Each skill's row on the installation page: its switch for the whole installation and,
for a chosen repository, its override, the state in force said in words ("Off — inherited
from the installation"), and the options that repository's `.github/ghapp.yml` gives it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel

from ghapp.failures import FailureReason, read_reason
from ghapp.store.switches import INSTALLATION_WIDE, SwitchChange
from ghapp.web.services import SettingsServices
from ghapp.web.settings.access import RepositoryView

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
    options: BaseModel | None = None  # the chosen repository's resolved options
    options_source: str | None = None
    feature_of: str | None = None  # a feature's switch: the skill it belongs to
    # Its section in the chosen repository's file is invalid: why, and the line's link.
    options_problem: FailureReason | None = None
    options_link: str | None = None

    @property
    def anchor(self) -> str:
        return "skill-" + self.name.replace("/", "-")

    @property
    def installation_state(self) -> str:
        """The state in force for the whole installation, and why."""
        word = "On" if self.effective_installation else "Off"
        if self.installation_value is None:
            return f"{word} — the skill's default"
        return f"{word} — set for the whole installation"

    @property
    def repo_state(self) -> str:
        word = "On" if self.effective_repo else "Off"
        if self.repo_override is None:
            return f"{word} — inherited from the installation"
        return f"{word} — set for this repository"

    @property
    def repo_choice(self) -> str:
        return "inherit" if self.repo_override is None else ("on" if self.repo_override else "off")


def skill_rows(
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


async def fill_options(
    services: SettingsServices,
    installation_id: int,
    chosen: RepositoryView | None,
    rows: list[SkillRow],
    *,
    github_url: str,
) -> str | None:
    """Fill each row's resolved options for the chosen repository (read-only), or why
    its section is invalid, with the link to the line to fix (on `github_url`)."""
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
        if found is None or isinstance(found, str):
            row.options_source = "its section in .github/ghapp.yml is invalid"
            row.options_problem = read_reason(found)
            if row.options_problem is not None:
                row.options_link = row.options_problem.link_for(github_url, None)
            continue
        options, own_section = found
        row.options = options
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


WORDS = {"on": "on", "off": "off"}


def change_text(change: SwitchChange) -> str:
    """An audit entry in words: "label-sync in octo/hello: now off (was: inherited)"."""
    if change.repository == INSTALLATION_WIDE:
        where, unset = "for the whole installation", "the skill's default"
    else:
        where, unset = f"in {change.repository}", "inherited from the installation"
    before = WORDS.get(change.before, unset)
    after = WORDS.get(change.after, unset)
    return f"{change.skill} {where}: now {after} (was {before})"


def responder_text(settings: object, chosen: object = None) -> str | None:
    """Who answers free text in mentions, from the operator's settings when they say
    (`responder`, `agent_model`), or `chosen`, the responder a repository's
    `.github/ghapp.yml` names; a URL is shown by its host alone (never credentials)."""
    model = getattr(settings, "agent_model", None)
    responder = chosen if isinstance(chosen, str) else getattr(settings, "responder", None)
    if not isinstance(responder, str):
        responder = None  # absent, or a secret: never on a page
    if responder is None and not model:
        return None
    if responder is None or responder.lower() == "agent":
        return f"the built-in AI agent ({str(model)[:80]})" if model else "the built-in AI agent"
    if responder.lower() in ("", "none"):
        return "no one: no responder is configured (RESPONDER=none)"
    if "://" in responder:
        host = urlsplit(responder).hostname
        return f"the responder at {host}" if host else "a responder URL"
    return f"the {responder[:40]} responder"
