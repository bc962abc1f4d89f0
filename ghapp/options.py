"""What applies to a skill in a repository: is it switched on, and with which options.

Switches come from the settings page (per installation, per-repository overrides;
`SwitchStore`). Options come from the skill's section of `.github/ghapp.yml` (read by
`repo_config`, `_extends` followed), validated against the skill's options model with
`-` and `_` alike in keys; defaults fill the rest. When the file is broken, the last
valid one seen on the default branch stands in, and a section that never validated
makes the skill do nothing rather than act on defaults nobody chose.

Every question of that kind is answered here, for the bus, the contexts it lends
skills, the config check and the settings page alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from githubkit import GitHub
from pydantic import BaseModel, ValidationError

from ghapp.context import RepoRef
from ghapp.repo_config import (
    CONFIG_PATH,
    Problem,
    RepoConfig,
    RepoConfigError,
    RepoConfigLoader,
    not_valid,
)
from ghapp.skill import Skill
from ghapp.store import RepoConfigStore, SwitchStore
from ghapp.store.installations import Switches
from ghapp.store.switches import effective

log = logging.getLogger("ghapp.options")


def normalize_keys(value: Any) -> Any:
    """`exclude-labels` → `exclude_labels` in mapping keys at every depth; values untouched."""
    if isinstance(value, dict):
        return {
            (k.replace("-", "_") if isinstance(k, str) else k): normalize_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalize_keys(v) for v in value]
    return value


def describe_validation_error(skill: str, exc: ValidationError) -> str:
    return "; ".join(describe_error(skill, loc, msg) for loc, msg in validation_errors(exc))


def describe_error(skill: str, loc: tuple[Any, ...], msg: str) -> str:
    return f"{'.'.join(str(p) for p in (skill, *loc))}: {msg}"


def validation_errors(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    return [
        (tuple(error["loc"]), error["msg"])
        for error in exc.errors(include_url=False, include_input=False)
    ]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "a string"


def section_errors(
    model: type[BaseModel], section: Any
) -> tuple[BaseModel | None, list[tuple[tuple[Any, ...], str]]]:
    """The section as `model`, or what is wrong with it: (location, message) pairs. A
    section that is not a mapping (`label-sync: off`) is wrong, never "defaults"."""
    if section is not None and not isinstance(section, dict):
        return None, [((), f"must be a mapping of options, not {_kind(section)}")]
    try:
        return model.model_validate(normalize_keys(section or {})), []
    except ValidationError as exc:
        return None, validation_errors(exc)


def validate_options(skill: str, model: type[BaseModel], section: Any) -> BaseModel:
    """The section as `model`, or RepoConfigError naming every wrong key for the author."""
    options, errors = section_errors(model, section)
    if options is None:
        raise RepoConfigError("; ".join(describe_error(skill, loc, msg) for loc, msg in errors))
    return options


def section_problems(name: str, model: type[BaseModel], config: RepoConfig) -> list[Problem]:
    """What is wrong with the skill's section, for the file's author, with lines. A
    key another file gave is reported by that file's path (and line) only."""
    section = config.section(name)
    _, errors = section_errors(model, section)
    # Which file gave each key, as validation names it (`-` read as `_`).
    foreign: dict[Any, str] = {}
    origin = config.origins.get(name)
    if isinstance(origin, dict):
        for key, source in origin.items():
            if source != config.own:
                foreign[key.replace("-", "_") if isinstance(key, str) else key] = source
    problems = []
    for loc, msg in errors:
        source = foreign.get(loc[0]) if loc else None
        if source is None and (loc or config.from_own_file(name)):
            problems.append(Problem(describe_error(name, loc, msg), config.locate(name, loc)))
        elif source is not None:
            text = f"{not_valid(source)} (its `{name}` section)"
            problems.append(Problem(text, config.locate(name, loc)))
        else:
            problems.extend(
                Problem(f"{not_valid(other)} (its `{name}` section)")
                for other in config.foreign_sources(name)
            )
    return problems


class ResolvedOptions(NamedTuple):
    options: BaseModel
    configured: bool  # the file has a section for the skill (else: defaults only)


@dataclass
class OptionsResolver:
    skills: Mapping[str, Skill]  # the switchable ones: what the file's sections may name
    switches: SwitchStore
    repo_configs: RepoConfigStore  # the last valid file of each repository
    loader: RepoConfigLoader

    async def enabled(self, installation_id: int, repo: str | None) -> dict[str, bool]:
        """Each skill's switch, and each of its features' (`skill/feature`), for the
        repository (or the installation, without one)."""
        return await self.switches.enabled_map(installation_id, repo, self._switch_defaults())

    def enabled_from(self, stored: Switches, repo: str | None) -> dict[str, bool]:
        """`enabled`, from the installation's switches as already read."""
        return effective(stored, repo, self._switch_defaults())

    def _switch_defaults(self) -> dict[str, bool]:
        return {k: v for s in self.skills.values() for k, v in s.switch_defaults().items()}

    async def load_config(self, gh: GitHub[Any], repo: RepoRef) -> RepoConfig:
        """The repository's configuration, or its last valid one when the file is broken."""
        try:
            return await self.loader.load(gh, repo.owner, repo.name)
        except RepoConfigError as exc:
            log.warning("invalid %s: %s", CONFIG_PATH, exc, extra={"repo": repo.full_name})
            last = await self.repo_configs.last_good(repo.full_name)
            return RepoConfig(sections=last or {}, found=last is not None)

    async def options_for(
        self, skill: Skill, config: RepoConfig, repo: RepoRef | None
    ) -> ResolvedOptions | None:
        """The skill's options from `config` — None when its section is invalid and no
        valid one was seen before: then the skill does nothing rather than act on defaults."""
        section = config.section(skill.name)
        try:
            return ResolvedOptions(
                validate_options(skill.name, skill.options, section), section is not None
            )
        except RepoConfigError as exc:
            log.warning("%s", exc, extra={"skill": skill.name})
        if repo is not None:
            last = await self.repo_configs.last_good(repo.full_name) or {}
            if skill.name in last:
                try:
                    options = validate_options(skill.name, skill.options, last[skill.name])
                    return ResolvedOptions(options, True)
                except RepoConfigError:
                    pass
        return None

    async def for_repo(
        self, gh: GitHub[Any], installation_id: int, repo: RepoRef, skill: Skill
    ) -> ResolvedOptions | None:
        """The skill's options in `repo`; None when it is switched off there or its
        section is invalid."""
        enabled = await self.enabled(installation_id, repo.full_name)
        if not enabled.get(skill.name):
            return None
        return await self.options_for(skill, await self.load_config(gh, repo), repo)

    async def saw_push(self, repo: RepoRef, payload: Mapping[str, Any]) -> None:
        """A push arrived: forget the cached config files it changed."""
        await self.loader.saw_push(repo.owner, repo.name, payload)

    async def checked(
        self, gh: GitHub[Any], repo: RepoRef, ref: str | None = None
    ) -> tuple[RepoConfig | None, list[str]]:
        """The file at `ref` (the default branch without one) and everything wrong with
        it, for its author: (None, [why]) when it cannot be read at all. What did not stop
        it from loading (a missing `_extends` base) is in `config.notes`. A problem in a
        file other than the repository's own (an `_extends` base, the owner's `.github`
        file) is reported by that file's path only: its keys and values may be private."""
        config, problems = await self.checked_problems(gh, repo, ref)
        return config, [problem.text for problem in problems]

    async def checked_problems(
        self, gh: GitHub[Any], repo: RepoRef, ref: str | None = None
    ) -> tuple[RepoConfig | None, list[Problem]]:
        """`checked`, each problem with the line it is at when that is known."""
        try:
            config = await self.loader.load(gh, repo.owner, repo.name, ref=ref)
        except RepoConfigError as exc:
            return None, [Problem(str(exc), exc.location)]
        problems: list[Problem] = []  # `config.notes` stop nothing: the caller shows them
        known = ", ".join(sorted(self.skills))
        for name in config.sections:
            if name not in self.skills:
                if config.from_own_file(name):
                    text = f"{name}: no such skill (known: {known})"
                    problems.append(Problem(text, config.locate(name)))
                else:
                    problems.extend(Problem(not_valid(s)) for s in config.foreign_sources(name))
                continue
            problems.extend(section_problems(name, self.skills[name].options, config))
        unique: dict[str, Problem] = {}  # one line per problem: the first place it is at
        for problem in problems:
            unique.setdefault(problem.text, problem)
        return config, list(unique.values())

    async def options_at(
        self, gh: GitHub[Any], repo: RepoRef, skill: Skill, ref: str
    ) -> tuple[BaseModel | None, list[str]]:
        """The skill's options as the file reads at `ref`, or (None, problems) when any
        part of the file is invalid: a change is judged whole, as its author wrote it."""
        config, problems = await self.checked(gh, repo, ref)
        if config is None or problems:
            return None, problems
        # A second, conditional read (GitHub answers 304): this refactoring keeps every
        # request as tests/cassettes recorded it; reusing `config` would save this one.
        config = await self.loader.load(gh, repo.owner, repo.name, ref=ref)
        return validate_options(skill.name, skill.options, config.section(skill.name)), []

    async def remember_valid(self, repo: RepoRef, config: RepoConfig) -> None:
        """Keep `config` as the repository's last valid file (the fallback above)."""
        await self.repo_configs.remember(repo.full_name, config.sections)
