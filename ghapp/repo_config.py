"""`.github/ghapp.yml`: fetch with conditional requests, parse safely, follow `_extends`.

One top-level key per skill (`label-sync:`); inside, option keys may use `-` or `_`
(release-drafter files fit). `_extends: repo`, `_extends: owner/repo` or
`_extends: owner/.github` (optionally `:path/to/file.yml`) inherits another file, as
Probot's `context.config` does; the extending file wins key by key inside each section.
What each skill makes of its section is `ghapp.options`' business.
"""

from __future__ import annotations

import base64
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from githubkit import GitHub
from githubkit.exception import RequestFailed

CONFIG_PATH = ".github/ghapp.yml"
MAX_EXTENDS = 5
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIG_VALUES = 20_000  # values after alias expansion; real files have hundreds


class RepoConfigError(Exception):
    """The configuration file is wrong; the message is written for its author."""


@dataclass
class RepoConfig:
    sections: dict[str, Any] = field(default_factory=dict)
    found: bool = False
    sources: list[str] = field(default_factory=list)

    def section(self, skill: str) -> dict[str, Any] | None:
        value = self.sections.get(skill)
        if value is None:
            return None
        return value if isinstance(value, dict) else {}


def parse_config_text(text: str, source: str) -> dict[str, Any]:
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise RepoConfigError(f"{source} is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RepoConfigError(f"{source}: {problem}{where}") from None
    except RecursionError:
        raise RepoConfigError(f"{source}: nested too deeply") from None
    except Exception as exc:
        # PyYAML raises plain ValueError, AttributeError… for a scalar it recognised but
        # cannot build (`2020-13-45`, `!!int x`): still the author's mistake, not ours.
        raise RepoConfigError(f"{source}: invalid value ({exc})") from None
    _check_expansion(data, source)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RepoConfigError(f"{source}: expected a mapping of skill names at the top level")
    for key in data:
        if not isinstance(key, str):
            raise RepoConfigError(f"{source}: top-level key {key!r} is not a skill name")
    return data


def _check_expansion(data: Any, source: str) -> None:
    """Aliases let a small file stand for a value that contains itself or expands
    exponentially ("billion laughs"): refuse both before anything walks the value."""
    count = 0
    stack: list[tuple[Any, frozenset[int]]] = [(data, frozenset())]
    while stack:
        value, ancestors = stack.pop()
        count += 1
        if count > MAX_CONFIG_VALUES:
            raise RepoConfigError(
                f"{source}: more than {MAX_CONFIG_VALUES} values once aliases are expanded"
            )
        if isinstance(value, dict | list):
            if id(value) in ancestors:
                raise RepoConfigError(f"{source}: an alias (*name) refers to itself")
            inside = ancestors | {id(value)}
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, inside) for child in children)


def parse_extends(value: Any, owner: str, source: str) -> tuple[str, str, str]:
    """`repo`, `owner/repo` or either with `:path` → (owner, repo, path)."""
    if not isinstance(value, str) or not value.strip():
        raise RepoConfigError(f"{source}: _extends must be a repository name")
    target, _, path = value.strip().partition(":")
    base_owner, _, repo = target.rpartition("/")
    if not repo or "/" in base_owner:
        raise RepoConfigError(f"{source}: _extends {value!r} is not owner/repo")
    return base_owner or owner, repo, path or CONFIG_PATH


class ConfigCache(Protocol):
    async def get(self, key: str) -> tuple[str, str | None] | None: ...
    async def set(self, key: str, etag: str, text: str | None) -> None: ...


class MemoryConfigCache:
    """ETag and text per file, bounded; the Redis one shares it across workers."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    async def get(self, key: str) -> tuple[str, str | None] | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    async def set(self, key: str, etag: str, text: str | None) -> None:
        self._items[key] = (etag, text)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass
class RepoConfigLoader:
    cache: ConfigCache = field(default_factory=MemoryConfigCache)
    path: str = CONFIG_PATH
    conditional_hits: int = 0
    fetches: int = 0

    async def fetch_text(
        self, gh: GitHub[Any], owner: str, repo: str, path: str, ref: str | None = None
    ) -> str | None:
        """The file's text (None when absent), revalidated with If-None-Match."""
        key = f"{owner}/{repo}:{path}@{ref or ''}".lower()
        cached = await self.cache.get(key)
        headers = {"If-None-Match": cached[0]} if cached else None
        self.fetches += 1
        started = time.perf_counter()
        try:
            if ref:
                response = await gh.rest.repos.async_get_content(
                    owner, repo, path, ref=ref, headers=headers
                )
            else:
                response = await gh.rest.repos.async_get_content(owner, repo, path, headers=headers)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                etag = exc.response.headers.get("etag")
                if etag:
                    await self.cache.set(key, etag, None)
                return None
            raise
        if response.status_code == 304 and cached is not None:
            self.conditional_hits += 1
            return cached[1]
        data = response.json()
        if not isinstance(data, dict) or data.get("type") != "file":
            raise RepoConfigError(f"{owner}/{repo}/{path} is not a file")
        text = base64.b64decode(data.get("content") or "").decode("utf-8", errors="replace")
        etag = response.headers.get("etag")
        if etag:
            await self.cache.set(key, etag, text)
        _ = started
        return text

    async def load(
        self, gh: GitHub[Any], owner: str, repo: str, *, ref: str | None = None
    ) -> RepoConfig:
        """The merged configuration of a repository; RepoConfigError when it is invalid."""
        config = RepoConfig()
        chain: list[dict[str, Any]] = []
        seen: set[str] = set()
        target = (owner, repo, self.path)
        current_ref = ref
        while True:
            source = f"{target[0]}/{target[1]}/{target[2]}"
            if source.lower() in seen:
                raise RepoConfigError(f"_extends loops back to {source}")
            if len(seen) > MAX_EXTENDS:
                raise RepoConfigError(f"_extends chain is longer than {MAX_EXTENDS}")
            seen.add(source.lower())
            text = await self.fetch_text(gh, *target, ref=current_ref)
            if text is None:
                if chain:
                    raise RepoConfigError(f"_extends points at {source}, which does not exist")
                return config
            data = parse_config_text(text, source)
            config.found = True
            config.sources.append(source)
            chain.append(data)
            extends = data.get("_extends")
            if extends is None:
                break
            target = parse_extends(extends, target[0], source)
            current_ref = None  # an inherited file is read from its default branch
        merged: dict[str, Any] = {}
        for data in reversed(chain):  # base first, the repository's own file last
            for skill, section in data.items():
                if skill == "_extends":
                    continue
                if isinstance(section, dict) and isinstance(merged.get(skill), dict):
                    merged[skill] = {**merged[skill], **section}
                else:
                    merged[skill] = section
        config.sections = merged
        return config
