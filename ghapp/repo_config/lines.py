"""Where in a config file an option was written: the line (and column) of a key or list
item, for "fix line N of .github/ghapp.yml".

Nothing is tracked while a file loads: the normal load builds plain dicts and lists. Only
when something must be reported (a validation error's `loc`, which names an option by
its keys and list indexes) is the file's text composed again into libyaml's nodes, which
carry their marks, and the path walked there. Keys match as validation reads them
(`exclude-labels` is `exclude_labels`); a merge key (`<<: *base`) is looked through; an
alias is the node its anchor names (so it points at the anchor); a part of `loc` that
names no key or item (pydantic's union members, `[key]`) is passed over.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from ghapp.repo_config.yaml12 import MAX_CONFIG_DEPTH, Yaml12Loader

_MERGE = "tag:yaml.org,2002:merge"


def locate(text: str, path: Sequence[Any]) -> tuple[int, int] | None:
    """The 1-based (line, column) of the deepest part of `path` found in `text`, or None
    when the text does not parse or its first key is not there."""
    try:
        node = yaml.compose(text, Loader=Yaml12Loader)
    except (yaml.YAMLError, RecursionError):
        return None
    found: Any = None
    for part in path[:MAX_CONFIG_DEPTH]:
        step = _step(node, part)
        if step is None:
            if found is None:
                return None  # not even the first key: say nothing rather than guess
            continue
        mark, node = step
        found = mark
    if found is None:
        return None
    return found.line + 1, found.column + 1


def _step(node: Any, part: Any) -> tuple[Any, Any] | None:
    """(the mark to report, the node to walk on) for one part of a path."""
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            item = node.value[part]
            return item.start_mark, item
        return None
    if isinstance(node, yaml.MappingNode):
        for key, value in _pairs(node, set()):
            if isinstance(key, yaml.ScalarNode) and _same_key(key.value, part):
                return key.start_mark, value
    return None


def _pairs(node: Any, seen: set[int]) -> Iterator[tuple[Any, Any]]:
    """A mapping's own pairs, the last written first, then those merged in (`<<`)."""
    if id(node) in seen:  # an alias that merges a mapping into itself
        return
    seen.add(id(node))
    merged = []
    for key, value in reversed(node.value):
        if isinstance(key, yaml.ScalarNode) and key.tag == _MERGE:
            merged.append(value)
        else:
            yield key, value
    for value in merged:
        bases = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for base in bases:
            if isinstance(base, yaml.MappingNode):
                yield from _pairs(base, seen)


def _same_key(written: str, part: Any) -> bool:
    if not isinstance(part, str | int) or isinstance(part, bool):
        return False
    return written == str(part) or written.replace("-", "_") == str(part)
