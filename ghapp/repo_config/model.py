"""What loading `.github/ghapp.yml` gives: the merged sections, where each came from, and
what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONFIG_PATH = ".github/ghapp.yml"


class RepoConfigError(Exception):
    """The configuration file is wrong; the message is written for its author (and names
    nothing but the path of a file other than the repository's own)."""


@dataclass
class RepoConfig:
    """The merged configuration of one repository. `own` is the label of the repository's
    own file when it has one; `origins` says, per section, which file gave each of its
    keys (or the whole section, when it is not a mapping), so that a report never echoes
    a key or value read from another file. `notes` are problems that did not stop the
    file from loading (a missing `_extends` base), safe to show as they are."""

    sections: dict[str, Any] = field(default_factory=dict)
    found: bool = False
    sources: list[str] = field(default_factory=list)
    own: str | None = None
    origins: dict[str, str | dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def section(self, skill: str) -> Any:
        """The skill's section as written (None when the file has none); a section that
        is not a mapping is returned as it is, for validation to refuse."""
        return self.sections.get(skill)

    def from_own_file(self, skill: str, key: str | None = None) -> bool:
        """Whether the section (or one key of it) was written in the repository's own file."""
        origin = self.origins.get(skill)
        if isinstance(origin, dict):
            if key is None:
                return all(source == self.own for source in origin.values())
            return origin.get(key) == self.own
        return origin is not None and origin == self.own

    def foreign_sources(self, skill: str) -> list[str]:
        """The files other than the repository's own that gave part of the section."""
        origin = self.origins.get(skill)
        found = origin.values() if isinstance(origin, dict) else [origin] if origin else []
        return sorted({source for source in found if source != self.own})
