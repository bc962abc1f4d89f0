"""What is wrong with a configuration file, and where: the error a load raises, and one
problem of a file with the line it is at when that is known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class Location:
    """A line (and column, both from 1) of a config file as ghapp read it: the file's
    repository and path, and `ref` (None: the default branch)."""

    owner: str
    repo: str
    path: str
    ref: str | None
    line: int
    column: int = 1

    @property
    def label(self) -> str:
        return f"{self.owner}/{self.repo}:{self.path}"

    def blob_path(self) -> str:
        """The line on the GitHub web site, as a path under its root (GitHub reads `HEAD`
        as the default branch)."""
        return f"/{self.owner}/{self.repo}/blob/{self.ref or 'HEAD'}/{self.path}#L{self.line}"


class Problem(NamedTuple):
    """One thing wrong with a configuration, for its author, and where it was written
    when that is known."""

    text: str
    location: Location | None = None


class RepoConfigError(Exception):
    """The configuration file is wrong; the message is written for its author (and names
    nothing but the path of a file other than the repository's own). `location`: the
    line at fault, when one is known (a YAML syntax error)."""

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        *,
        line: int | None = None,
        column: int = 1,
    ) -> None:
        super().__init__(message)
        self.location = location
        # Where in the text the parser stopped (1-based), before the loader names the file.
        self.line = location.line if location else line
        self.column = location.column if location else column
