"""`.github/ghapp.yml`: fetch with conditional requests, parse as YAML 1.2, follow
`_extends` and the owner's `.github` repository, as Probot's `context.config` does.

One top-level key per skill (`label-sync:`); inside, option keys may use `-` or `_`
(release-drafter files fit). What each skill makes of its section is `ghapp.options`'
business. The parts: `model` (what a load gives), `yaml12` (parsing), `extends`
(`_extends` names), `cache` (what GitHub last said of each file), `loader`.
"""

from ghapp.repo_config.cache import CachedFile, ConfigCache, MemoryConfigCache, entry_name
from ghapp.repo_config.extends import FileRef, extends_nothing, parse_extends
from ghapp.repo_config.loader import MAX_EXTENDS, RepoConfigLoader, merge_files, not_valid
from ghapp.repo_config.model import (
    CONFIG_PATH,
    Location,
    Problem,
    RepoConfig,
    RepoConfigError,
    SourceFile,
)
from ghapp.repo_config.yaml12 import MAX_CONFIG_BYTES, MAX_CONFIG_VALUES, parse_config_text

__all__ = [
    "CONFIG_PATH",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_VALUES",
    "MAX_EXTENDS",
    "CachedFile",
    "ConfigCache",
    "FileRef",
    "Location",
    "MemoryConfigCache",
    "Problem",
    "RepoConfig",
    "RepoConfigError",
    "RepoConfigLoader",
    "SourceFile",
    "entry_name",
    "extends_nothing",
    "merge_files",
    "not_valid",
    "parse_config_text",
    "parse_extends",
]
