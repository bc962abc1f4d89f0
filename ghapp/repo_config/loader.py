"""Loading `.github/ghapp.yml` as Probot's `context.config` does, with GitHub's etiquette.

- The repository's own file; without one (a 404), the owner's `.github` repository's file
  (`owner/.github:.github/ghapp.yml`), as Probot falls back to it.
- `_extends` (see `extends`) chains to another file; a base that does not exist (or that
  the App cannot read) is skipped and noted, and the rest applies. A loop, a chain longer
  than MAX_EXTENDS or an invalid file anywhere makes the whole configuration invalid.
- The extending file wins key by key inside each section (`label-sync:`); a section that
  is not a mapping in either file replaces the other whole. Probot merges top-level keys
  only; see docs/coming-from-probot.md.
- Reads are cached per repository (`cache`): fresh for `fresh_for` seconds, then
  revalidated with If-None-Match; `saw_push` drops what a push changed. The parsed file
  is kept per ETag, and parsing runs off the event loop.
- Nothing read from a file other than the repository's own is put in an error message:
  such a file is named by its path only.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from ghapp.repo_config.cache import CachedFile, ConfigCache, MemoryConfigCache, entry_name
from ghapp.repo_config.extends import FileRef, extends_nothing, parse_extends
from ghapp.repo_config.model import CONFIG_PATH, Location, RepoConfig, RepoConfigError, SourceFile
from ghapp.repo_config.yaml12 import parse_config_text

MAX_EXTENDS = 5
FRESH_FOR = 300.0  # seconds an answer from GitHub is used without asking again
PARSED_ENTRIES = 2000
ORG_REPO = ".github"
# A push carries at most this many commits; a longer one may have changed anything.
PUSH_COMMITS_LISTED = 2048


def not_valid(label: str) -> str:
    """The only thing said about a problem in a file other than the repository's own."""
    return f"`{label}` is not a valid ghapp config"


def repo_key(owner: str, repo: str) -> str:
    return f"{owner}/{repo}".lower()


@dataclass
class RepoConfigLoader:
    cache: ConfigCache = field(default_factory=MemoryConfigCache)
    path: str = CONFIG_PATH
    fresh_for: float = FRESH_FOR
    clock: Callable[[], float] = time.time
    conditional_hits: int = 0
    fetches: int = 0
    _parsed: OrderedDict[tuple[str, str, str], dict[str, Any] | RepoConfigError] = field(
        default_factory=OrderedDict, repr=False
    )

    def __post_init__(self) -> None:
        # Probot reads `.yml`, `.yaml` and `.json` files (JSON is YAML 1.2 too).
        if not self.path.lower().endswith((".yml", ".yaml", ".json")):
            raise ValueError(f"a config file is .yml, .yaml or .json, not {self.path!r}")

    # -- one file ------------------------------------------------------------------------

    async def fetch_file(self, gh: GitHub[Any], file: FileRef, ref: str | None) -> CachedFile:
        """What GitHub says of `file` (at `ref`, else the default branch): from the cache
        while fresh, else asked, conditionally when an ETag is known."""
        key, name = repo_key(file.owner, file.repo), entry_name(file.path, ref)
        raw, generation = await self.cache.get(key, name)
        cached = CachedFile.loads(raw) if raw is not None else None
        now = self.clock()
        # A read at an explicit ref is always revalidated: a branch moves without a push
        # to the default branch, and a 304 costs nothing.
        if cached is not None and ref is None and now - cached.checked < self.fresh_for:
            return cached
        headers = {"If-None-Match": cached.etag} if cached is not None and cached.etag else None
        self.fetches += 1
        try:
            if ref:
                response = await gh.rest.repos.async_get_content(
                    file.owner, file.repo, file.path, ref=ref, headers=headers
                )
            else:
                response = await gh.rest.repos.async_get_content(
                    file.owner, file.repo, file.path, headers=headers
                )
        except RequestFailed as exc:
            if exc.response.status_code != 404:
                raise
            entry = CachedFile(exc.response.headers.get("etag"), None, now)
            await self.cache.set(key, name, entry.dumps(), generation)
            return entry
        if response.status_code == 304 and cached is not None:
            self.conditional_hits += 1
            entry = replace(cached, checked=now)
        else:
            entry = self._entry(response.json(), response.headers.get("etag"), file, now)
        await self.cache.set(key, name, entry.dumps(), generation)
        return entry

    def _entry(self, data: Any, etag: str | None, file: FileRef, now: float) -> CachedFile:
        if not isinstance(data, dict) or data.get("type") != "file":
            raise RepoConfigError(f"{file.label} is not a file")
        if data.get("encoding") == "none":
            # GitHub's contents API gives no content for a file over 1 MB.
            return CachedFile(etag, "", now, too_large=True)
        text = base64.b64decode(str(data.get("content") or "")).decode("utf-8", "replace")
        return CachedFile(etag, text, now)

    async def parse(self, file: FileRef, ref: str | None, entry: CachedFile) -> dict[str, Any]:
        """The file's top-level mapping, parsed once per ETag, off the event loop."""
        if entry.too_large:
            raise RepoConfigError(
                f"{file.label} is larger than 1 MB, more than GitHub's contents API gives"
            )
        key = (repo_key(file.owner, file.repo), entry_name(file.path, ref), entry.etag or "")
        known = self._parsed.get(key) if entry.etag else None
        if known is None:
            try:
                known = await asyncio.to_thread(parse_config_text, entry.text or "", file.label)
            except RepoConfigError as exc:
                known = exc
            if entry.etag:
                self._parsed[key] = known
                while len(self._parsed) > PARSED_ENTRIES:
                    self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(key)
        if isinstance(known, RepoConfigError):
            raise RepoConfigError(str(known), line=known.line, column=known.column)
        return known

    # -- the merged configuration ----------------------------------------------------------

    async def load(
        self, gh: GitHub[Any], owner: str, repo: str, *, ref: str | None = None
    ) -> RepoConfig:
        """The merged configuration of a repository; RepoConfigError when it is invalid.

        Each file is reported under a name its reader already knows: the repository's own
        file, the owner's `.github` file and the base the own file names are named as
        they are; a file that a base names in turn (its `_extends` is the base's content)
        is reported under that base's name."""
        config = RepoConfig()
        current = FileRef(owner, repo, self.path)
        entry = await self.fetch_file(gh, current, ref)
        if entry.text is None:
            if repo.lower() == ORG_REPO:
                return config
            current, ref = FileRef(owner, ORG_REPO, self.path), None
            entry = await self.fetch_file(gh, current, None)
            if entry.text is None:
                return config
        else:
            config.own = current.label
        shown = current.label
        chain = [(shown, await self._parse_part(config, shown, current, ref, entry))]
        config.files.append(SourceFile(shown, *current, ref, entry.text or ""))
        seen = {current.label.lower()}
        while not extends_nothing(value := chain[-1][1].get("_extends")):
            own = shown == config.own
            # Where `_extends` was written, for the report (parsed again: errors only).
            at = config.files[-1].locate_key("_extends")
            try:
                target = parse_extends(value, current.owner, shown, self.path)
            except RepoConfigError as exc:
                if own:
                    raise RepoConfigError(str(exc), at()) from None
                raise RepoConfigError(not_valid(shown)) from None
            if target.label.lower() in seen:
                if own:
                    raise RepoConfigError(
                        f"{shown}: `_extends: {value}` loops back to itself", at()
                    )
                raise RepoConfigError(f"{not_valid(shown)}: its `_extends` chain loops back")
            if len(chain) > MAX_EXTENDS:
                raise RepoConfigError(f"_extends chain is longer than {MAX_EXTENDS} files")
            seen.add(target.label.lower())
            entry = await self._fetch_base(gh, target)
            if entry.text is None:
                named = f"`{target.label}`" if own else "a file"
                config.notes.append(
                    f"{shown} extends {named}, which does not exist or which the "
                    "App cannot read: the rest of the configuration applies"
                )
                break
            current, shown = target, target.label if own else shown
            chain.append((shown, await self._parse_part(config, shown, current, None, entry)))
            config.files.append(SourceFile(shown, *current, None, entry.text or ""))
        config.found = True
        config.sources = list(dict.fromkeys(label for label, _ in chain))
        config.sections, config.origins = merge_files(chain)
        return config

    async def _parse_part(
        self, config: RepoConfig, shown: str, file: FileRef, ref: str | None, entry: CachedFile
    ) -> dict[str, Any]:
        try:
            return await self.parse(file, ref, entry)
        except RepoConfigError as exc:
            # The line a syntax error is at, in a file reported under its own name.
            at = None
            if exc.line is not None and shown == file.label:
                at = Location(*file, ref, exc.line, exc.column)
            if shown == config.own:
                raise RepoConfigError(str(exc), at) from None
            detail = " (larger than 1 MB)" if entry.too_large and shown == file.label else ""
            raise RepoConfigError(not_valid(shown) + detail, at) from exc

    async def _fetch_base(self, gh: GitHub[Any], file: FileRef) -> CachedFile:
        """A base file: one the App may not read (403) counts as missing, like a 404."""
        try:
            return await self.fetch_file(gh, file, None)
        except RequestFailed as exc:
            if exc.response.status_code != 403:
                raise
            return CachedFile(None, None, self.clock())

    # -- what a push changes ---------------------------------------------------------------

    async def saw_push(self, owner: str, repo: str, payload: Mapping[str, Any]) -> None:
        """Drop the cached files a push to the default branch changed (all of the
        repository's when the push does not list every change)."""
        repository = payload.get("repository") or {}
        default_branch = repository.get("default_branch") if isinstance(repository, dict) else None
        if payload.get("ref") != f"refs/heads/{default_branch}":
            return
        commits = payload.get("commits")
        paths: set[str] = set()
        listed = isinstance(commits, list) and 0 < len(commits) < PUSH_COMMITS_LISTED
        for commit in commits if listed and isinstance(commits, list) else []:
            for kind in ("added", "modified", "removed"):
                changed = commit.get(kind) if isinstance(commit, dict) else None
                if not isinstance(changed, list):
                    listed = False
                    break
                paths.update(str(path) for path in changed)
        if listed and not payload.get("forced"):
            await self.cache.forget(repo_key(owner, repo), [entry_name(p, None) for p in paths])
        else:
            await self.cache.forget(repo_key(owner, repo))


def merge_files(
    files: list[tuple[str, dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, str | dict[str, str]]]:
    """Sections merged over a chain (the repository's own file first, its bases after),
    and the file each key came from. The result shares values with the parsed files:
    treat it as read-only."""
    merged: dict[str, Any] = {}
    origins: dict[str, str | dict[str, str]] = {}
    for label, data in reversed(files):  # the deepest base first, the own file last
        for skill, section in data.items():
            if skill == "_extends":
                continue
            before, came_from = merged.get(skill), origins.get(skill)
            if isinstance(section, dict) and isinstance(before, dict):
                assert isinstance(came_from, dict)
                merged[skill] = {**before, **section}
                origins[skill] = {**came_from, **dict.fromkeys(section, label)}
            elif isinstance(section, dict):
                merged[skill] = dict(section)
                origins[skill] = dict.fromkeys(section, label)
            else:
                merged[skill] = section
                origins[skill] = label
    return merged, origins
