"""`.github/ghapp.yml` as YAML 1.2 reads it (the core schema, as Probot's `yaml` parser
does): `on`, `yes`, `no`, `off` stay strings, and so do dates (`2024-01-01`), sexagesimal
numbers (`1:30`) and leading-zero numbers (`0755`, a file mode, not 493 nor 755).

Parsing is libyaml's (PyYAML's C parser, when built with it) with the safe constructor:
no tag builds anything but plain data. Resolution is ours: PyYAML's own resolver is
YAML 1.1's. `ruamel.yaml` was weighed: its safe loader still builds dates and reads
`0755` as 755, and its C parser is a separate package; this needs no new dependency.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ghapp.repo_config.problems import RepoConfigError

MAX_CONFIG_BYTES = 256 * 1024  # real files are a few KiB; parsing a hostile one is bounded by it
MAX_CONFIG_VALUES = 20_000  # values after alias expansion; real files have hundreds
MAX_CONFIG_DEPTH = 64  # nesting; real files go a few levels deep

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MERGE = "tag:yaml.org,2002:merge"


class Yaml12Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader whose implicit types are YAML 1.2's core schema (no leading zeros)."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}

    def construct_document(self, node: Any) -> Any:
        """Count the nodes (aliases expanded) before building anything: libyaml composes a
        large document fast, but building it is Python and a hostile one is slow."""
        _check_nodes(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A key written twice is an error (YAML says keys are unique; Probot's parser
        refuses them too) rather than the last one silently winning."""
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                if (key_node.tag, key_node.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"found key {key_node.value!r} twice", key_node.start_mark
                    )
                seen.add((key_node.tag, key_node.value))
        return super().construct_mapping(node, deep)


def _implicit(tag: str, pattern: str, first: str | list[str]) -> None:
    Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_implicit("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_implicit("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_implicit(
    "tag:yaml.org,2002:int",
    r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$",
    "-+0123456789",
)
_implicit(
    "tag:yaml.org,2002:float",
    r"""^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)\.[0-9]*)(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)
# `<<: *base` merges a mapping in (Probot's parser accepts it too).
_implicit("tag:yaml.org,2002:merge", r"^<<$", "<")


class TooLarge(Exception):
    """The document holds more values (aliases expanded), or deeper, than a config does."""


def _check_nodes(root: Any) -> None:
    count = 0
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_CONFIG_VALUES:
            raise TooLarge(f"more than {MAX_CONFIG_VALUES} values once aliases are expanded")
        if depth > MAX_CONFIG_DEPTH:
            raise TooLarge("nested too deeply")
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def _construct_int(loader: Any, node: Any) -> int:
    text = str(loader.construct_scalar(node))
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text)


def _construct_float(loader: Any, node: Any) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if text == ".nan" else float(text)


def _construct_str(loader: Any, node: Any) -> str:
    return str(loader.construct_scalar(node))


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
# An explicit `!!timestamp` or a YAML 1.1 tag still yields plain data, never a date.
Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)


def _construct_plain(loader: Any, _suffix: str, node: Any) -> Any:
    """A tag nobody here knows (`!<tag:yaml.org,2002:js/function>`, `!!python/object`)
    builds nothing: the node is read as the plain string, list or mapping it is, as
    Probot's parser does."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return str(loader.construct_scalar(node))


Yaml12Loader.add_multi_constructor("", _construct_plain)


def load_yaml12(text: str) -> Any:
    return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a safe loader (see above)


def parse_config_text(text: str, source: str) -> dict[str, Any]:
    """The top-level mapping of one config file; RepoConfigError naming `source` otherwise."""
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise RepoConfigError(f"{source} is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        data = load_yaml12(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RepoConfigError(
            f"{source}: {problem}{where}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else 1,
        ) from None
    except TooLarge as exc:
        raise RepoConfigError(f"{source}: {exc}") from None
    except RecursionError:
        raise RepoConfigError(f"{source}: nested too deeply") from None
    except Exception as exc:
        # A scalar the constructor recognised but cannot build (`!!int x`, `!!binary é`):
        # still the author's mistake, not ours.
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
    exponentially ("billion laughs"), and deep nesting exhausts whatever walks it
    recursively later: refuse all three before anything else walks the value."""
    count = 0
    stack: list[tuple[Any, frozenset[int]]] = [(data, frozenset())]
    while stack:
        value, ancestors = stack.pop()
        count += 1
        if len(ancestors) > MAX_CONFIG_DEPTH:
            raise RepoConfigError(f"{source}: nested too deeply")
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
