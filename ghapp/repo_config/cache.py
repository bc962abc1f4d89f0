"""What GitHub last said about each config file, kept per repository.

An entry holds the file's text (None: it does not exist; a 404 is kept too), its ETag and
when GitHub last answered for it. Within `fresh_for` seconds of that answer the entry is
used as it is; after, it is revalidated with a conditional request (If-None-Match, a 304
costs nothing). A push that changes a file drops its entry (`forget`), so a change is seen
at once. The memory cache serves one process; `ghapp.scaleout.RedisConfigCache` shares the
same entries across workers.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True)
class CachedFile:
    etag: str | None  # None: GitHub gave none (its 404s carry no ETag)
    text: str | None  # None: the file does not exist
    checked: float  # time.time() of GitHub's last answer
    too_large: bool = False  # over the contents API's 1 MB: GitHub gives no text

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | bytes) -> CachedFile:
        data = json.loads(raw)
        return cls(
            etag=data.get("etag"),
            text=data.get("text"),
            checked=float(data.get("checked") or 0.0),
            too_large=bool(data.get("too_large")),
        )


def entry_name(path: str, ref: str | None) -> str:
    """The name of one file's entry within its repository's entries."""
    return f"{path}@{ref or ''}"


# Where an entry map keeps its generation: no path contains a NUL character.
GENERATION = "\0generation"


class ConfigCache(Protocol):
    """Entries (`CachedFile.dumps()`) per repository (`owner/repo`, lower case), by
    `entry_name`. Each repository has a generation that `forget` changes: an answer
    fetched before a push was seen is not stored after it (`set` compares)."""

    async def get(self, repo: str, name: str) -> tuple[str | None, str]:
        """The entry (None when there is none) and the repository's generation."""
        ...

    async def set(self, repo: str, name: str, entry: str, generation: str) -> None:
        """Store `entry` unless the repository was forgotten since `generation`."""
        ...

    async def forget(self, repo: str, names: Iterable[str] | None = None) -> None:
        """Drop the named entries of `repo`, or all of them (None)."""
        ...


class MemoryConfigCache:
    """Entries of at most `size` repositories, least recently used dropped first."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._repos: OrderedDict[str, dict[str, str]] = OrderedDict()

    async def get(self, repo: str, name: str) -> tuple[str | None, str]:
        entries = self._repos.get(repo)
        if entries is None:
            return None, "0"
        self._repos.move_to_end(repo)
        return entries.get(name), entries.get(GENERATION, "0")

    async def set(self, repo: str, name: str, entry: str, generation: str) -> None:
        entries = self._repos.setdefault(repo, {})
        if entries.get(GENERATION, "0") != generation:
            return
        entries[name] = entry
        self._repos.move_to_end(repo)
        while len(self._repos) > self.size:
            self._repos.popitem(last=False)

    async def forget(self, repo: str, names: Iterable[str] | None = None) -> None:
        entries = self._repos.get(repo, {})
        generation = str(int(entries.get(GENERATION, "0")) + 1)
        if names is None:
            entries = {}
        for name in names or ():
            entries.pop(name, None)
        entries[GENERATION] = generation
        self._repos[repo] = entries
