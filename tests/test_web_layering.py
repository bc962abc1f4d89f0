"""The web layer's place in the import graph, read from the source (every import counts,
also those inside functions or under TYPE_CHECKING):

- the pages (everything in ghapp/web/ but the app factory) reach the runtime only through
  the services the factory hands them: no runtime, bus, queue, worker or skill module;
- no import cycle runs through the web layer, the GitHub clients, the configuration, the
  runtime or the scale-out parts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GHAPP = Path(__file__).resolve().parent.parent / "ghapp"
FACTORY = "ghapp.web.app"
PAGES_MAY_NOT_IMPORT = (
    "ghapp.runtime",
    "ghapp.bus",
    "ghapp.queue",
    "ghapp.worker",
    "ghapp.scaleout",
    "ghapp.scheduler",
    "ghapp.skills",
)
CHECKED_FOR_CYCLES = (
    "ghapp.web",
    "ghapp.github",
    "ghapp.config",
    "ghapp.runtime",
    "ghapp.scaleout",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(GHAPP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path for path in GHAPP.rglob("*.py") if "migrations" not in path.parts
    }


def resolve(target: str, known: set[str]) -> str | None:
    """The ghapp module an import of `target` loads (a name inside it: the module)."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The ghapp modules `name` imports (`from package import module` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {resolve(alias.name, known) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {resolve(f"{base}.{alias.name}", known) for alias in node.names}
    return {target for target in found if target is not None and target != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def in_package(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_pages_see_no_runtime_bus_queue_or_skill() -> None:
    edges = graph()
    pages = [n for n in edges if n.startswith("ghapp.web") and n != FACTORY]
    assert len(pages) >= 10  # the walk found the web package
    offending = {
        page: sorted(t for t in edges[page] if in_package(t, PAGES_MAY_NOT_IMPORT))
        for page in pages
    }
    assert {page: bad for page, bad in offending.items() if bad} == {}


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", CHECKED_FOR_CYCLES)
def test_no_import_cycle_runs_through(package: str) -> None:
    cycles = [
        sorted(component)
        for component in strongly_connected(graph())
        if any(in_package(member, (package,)) for member in component)
    ]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(edges) == [{"a", "b", "c"}]
