"""What loading `.github/ghapp.yml` gives: the merged sections, where each came from, and
what is wrong with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ghapp.repo_config.lines import locate
from ghapp.repo_config.problems import Location, Problem, RepoConfigError

CONFIG_PATH = ".github/ghapp.yml"

__all__ = ["CONFIG_PATH", "Location", "Problem", "RepoConfig", "RepoConfigError", "SourceFile"]


@dataclass(frozen=True)
class SourceFile:
    """One file of a loaded configuration: the name reports give it (`shown`), the file
    itself, the ref it was read at (None: the default branch) and its text."""

    shown: str
    owner: str
    repo: str
    path: str
    ref: str | None
    text: str

    @property
    def label(self) -> str:
        return f"{self.owner}/{self.repo}:{self.path}"

    def locate_key(self, *path: Any) -> Callable[[], Location | None]:
        """A function giving where `path` is written in this file (it parses the text
        again: call it only to report)."""

        def at() -> Location | None:
            found = locate(self.text, path)
            return Location(self.owner, self.repo, self.path, self.ref, *found) if found else None

        return at


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
    files: list[SourceFile] = field(default_factory=list, repr=False)

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

    def locate(self, skill: str, loc: tuple[Any, ...] = ()) -> Location | None:
        """The line where the option `loc` of the skill's section (a validation error's
        location, keys as validation reads them) was written, in the file that gave it;
        None when it is not known, or when that file is reported under another file's
        name (a base's base: its name must not be shown). Parses the file again: for
        reports only, never on the normal load."""
        origin = self.origins.get(skill)
        source = origin if isinstance(origin, str) else None
        if isinstance(origin, dict):
            if loc:
                wanted = str(loc[0]).replace("-", "_")
                for key, label in origin.items():
                    if isinstance(key, str | int) and str(key).replace("-", "_") == wanted:
                        source = label
            elif len(set(origin.values())) == 1:
                source = next(iter(origin.values()))
            else:
                source = self.own if self.own in origin.values() else None
        file = next((f for f in self.files if f.shown == source), None)
        if file is None or file.label != file.shown:
            return None
        return file.locate_key(skill, *loc)()
