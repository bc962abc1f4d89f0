"""`_extends`: which file a config file inherits from, read as Probot reads it.

`repo`, `owner/repo`, either with `:path/to/file.yml` (`.yml` or `.yaml`); the owner is
a GitHub login (letters, digits, single hyphens, at most 39), the repository letters,
digits, `-`, `_` and `.`. `""`, `false`, `0` and `null` mean "extends nothing", as in
Probot. One difference: a relative name in an inherited file is resolved against the
owner of that file, not of the repository that started the chain (see
docs/coming-from-probot.md).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ghapp.repo_config.model import RepoConfigError

_EXTENDS = re.compile(
    r"(?:(?P<owner>[a-z\d](?:[a-z\d]|-(?=[a-z\d])){0,38})/)?"
    r"(?P<repo>[-_.\w]+)"
    r"(?::(?P<path>[-_./\w]+\.ya?ml))?",
    re.IGNORECASE | re.ASCII,
)


class FileRef(NamedTuple):
    owner: str
    repo: str
    path: str

    @property
    def label(self) -> str:
        """How reports name the file: `owner/repo:path`, the form `_extends` takes."""
        return f"{self.owner}/{self.repo}:{self.path}"


def extends_nothing(value: Any) -> bool:
    """Probot's test is JavaScript truthiness: `""`, `false`, `0` and `null` extend nothing."""
    return value is None or value is False or value == "" or (type(value) is int and value == 0)


def parse_extends(value: Any, owner: str, source: str, path: str) -> FileRef:
    """The file `_extends: value` names, from a file of `owner`; `path` is the default
    file name. RepoConfigError (naming `source`, never the value) when it is not one."""
    match = _EXTENDS.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise RepoConfigError(
            f"{source}: _extends must be `repo`, `owner/repo` or `owner/repo:path.yml`"
        )
    repo = match["repo"]
    target = match["path"] or path
    parts = target.split("/")
    # The name goes into an API path: no `..` or empty segment may walk out of it.
    if repo in (".", "..") or any(part in ("", ".", "..") for part in parts):
        raise RepoConfigError(f"{source}: _extends names a path outside a repository")
    return FileRef(match["owner"] or owner, repo, target)
