"""The import graph runs one way (docs/architecture.md), and stays so: no cycles, skills
through `ghapp` alone, each room importing only the rooms below it, the web pages off the
runtime, and `import ghapp` free of the store, the queue and the web.

Every `import` of a ghapp module anywhere in a file counts: at the top, inside a function,
under `if TYPE_CHECKING:`. A type-only import is still a dependency a reader follows.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

GHAPP = Path(__file__).resolve().parents[1] / "ghapp"

# What a skill's contract may not drag in: storage, queueing, serving, routing.
NOT_IN_THE_SKILL_API = ("sqlalchemy", "alembic", "saq", "starlette", "uvicorn", "jinja2")
GHAPP_NOT_IN_THE_SKILL_API = (
    "ghapp.store",
    "ghapp.queue",
    "ghapp.web",
    "ghapp.bus",
    "ghapp.runtime",
    "ghapp.worker",
    "ghapp.ingress",
    "ghapp.options",
    "ghapp.services",
    "ghapp.skills",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(GHAPP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def ghapp_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(GHAPP.rglob("*.py"))}


def imported(name: str, path: Path, modules: Iterable[str]) -> set[str]:
    """The ghapp modules `name` (at `path`) imports: `from a.b import c` names the module
    `a.b.c` when there is one, else `a.b`."""
    known = set(modules)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = ghapp_modules()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_as_intended() -> None:
    graph = import_graph()
    # Absolute, relative, nested and package imports are all seen.
    assert "ghapp.context" in graph["ghapp"]
    assert "ghapp.skills.label_sync.handlers" in graph["ghapp.skills.label_sync"]
    assert "ghapp.ingress" in graph["ghapp.cli"]  # imported inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


def test_no_import_cycles_among_ghapp_modules() -> None:
    assert [sorted(cycle) for cycle in cycles(import_graph())] == []


def test_skills_import_ghapp_only_through_its_public_api() -> None:
    wrong = []
    for name, targets in import_graph().items():
        if not name.startswith("ghapp.skills."):
            continue
        own = ".".join(name.split(".")[:3])  # ghapp.skills.<skill>
        for target in targets:
            inside = target == own or target.startswith(own + ".")
            if target != "ghapp" and not inside:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_the_web_layer_imports_no_skill() -> None:
    graph = import_graph()
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph.items()
        if name.startswith("ghapp.web")
        for target in targets
        if target.startswith("ghapp.skills")
    ]
    assert wrong == []


# The pages (everything in ghapp/web/ but the app factory) reach the runtime only through
# the services the factory hands them.
WEB_FACTORY = "ghapp.web.app"
PAGES_MAY_NOT_IMPORT = (
    "ghapp.runtime",
    "ghapp.bus",
    "ghapp.queue",
    "ghapp.worker",
    "ghapp.scaleout",
    "ghapp.scheduler",
    "ghapp.skills",
)


def test_the_pages_see_no_runtime_bus_queue_or_skill() -> None:
    graph = import_graph()
    pages = [name for name in graph if within(name, "ghapp.web") and name != WEB_FACTORY]
    assert len(pages) >= 10  # the walk found the web package
    wrong = [
        f"{page} imports {target}"
        for page in pages
        for target in sorted(graph[page])
        if any(within(target, package) for package in PAGES_MAY_NOT_IMPORT)
    ]
    assert wrong == []


# What `import ghapp` is made of: the contract a skill is written against.
SKILL_API = (
    "ghapp",
    "ghapp.context",
    "ghapp.skill",
    "ghapp.failures",
    "ghapp.markdown",
    "ghapp.payloads",
    "ghapp.repo_config",
)

# What routing stands on: GitHub clients, switches and options, the tables.
CORE_SERVICES = ("ghapp.github", "ghapp.options", "ghapp.store")


def within(module: str, package: str) -> bool:
    """`module` is `package` or inside it; `ghapp` itself stands for its public API only."""
    return module == package or (package != "ghapp" and module.startswith(package + "."))


@pytest.mark.parametrize(
    ("package", "may_import"),
    [
        # The store owns SQL and imports nothing of ghapp but itself.
        ("ghapp.store", ("ghapp.store",)),
        # The queue sees the stored rows it moves, nothing above.
        ("ghapp.queue", ("ghapp.queue", "ghapp.store")),
        # Ingress: verify, store, enqueue; what is worth queuing comes from the runtime.
        ("ghapp.ingress", ("ghapp.payloads", "ghapp.store", "ghapp.runtime")),
        # The worker: claim, keep installations true, hand the delivery to the bus.
        ("ghapp.worker", ("ghapp.bus", "ghapp.store", "ghapp.metrics")),
        # The bus routes: skills, switches and options, the services it lends; no HTTP,
        # no queue, no web.
        ("ghapp.bus", (*SKILL_API, *CORE_SERVICES, "ghapp.services", "ghapp.metrics")),
        ("ghapp.options", (*SKILL_API, "ghapp.store")),
        ("ghapp.services", (*SKILL_API, *CORE_SERVICES)),
        ("ghapp.config_check", (*SKILL_API, "ghapp.options")),
        ("ghapp.scheduler", ("ghapp.queue", "ghapp.skill", "ghapp.store")),
        # GitHub's clients know nothing of what they serve; configuration knows nothing.
        ("ghapp.github", ("ghapp.github", "ghapp.metrics")),
        ("ghapp.config", ("ghapp.config_values",)),
        ("ghapp.config_values", ()),
        ("ghapp.env_file", ()),
        # Scale-out parts are built from Settings alone, never from a half-built runtime.
        ("ghapp.scaleout", ("ghapp.config", "ghapp.github", "ghapp.queue", "ghapp.store")),
        # The pages see the narrow services the factory hands them, not the runtime.
        ("ghapp.web.services", ("ghapp.config", "ghapp.github", "ghapp.store", "ghapp.web")),
        (
            "ghapp.web.settings",
            # failures: the settings page reads the failure reasons the bus stored.
            (
                "ghapp.config",
                "ghapp.failures",
                "ghapp.github",
                "ghapp.manifest",
                "ghapp.store",
                "ghapp.web",
            ),
        ),
        ("ghapp.web.sessions", ("ghapp.store", "ghapp.web")),
        (
            "ghapp.web.setup",
            ("ghapp.config", "ghapp.config_values", "ghapp.env_file", "ghapp.logs", "ghapp.web"),
        ),
    ],
)
def test_lower_rooms_do_not_reach_up(package: str, may_import: tuple[str, ...]) -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if within(name, package)
        for target in targets
        if not any(within(target, allowed) for allowed in may_import)
    ]
    assert wrong == []


def test_the_skill_api_reaches_no_store_queue_or_web_module_even_lazily() -> None:
    graph = import_graph()
    reached, todo = set(), ["ghapp"]
    while todo:
        for target in graph[todo.pop()] - reached:
            reached.add(target)
            todo.append(target)
    wrong = sorted(
        module for module in reached if any(within(module, p) for p in GHAPP_NOT_IN_THE_SKILL_API)
    )
    assert wrong == []


def test_importing_ghapp_loads_no_store_queue_or_web_module() -> None:
    code = "import json, sys, ghapp; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(result.stdout)
    assert "ghapp.context" in loaded and "ghapp.skill" in loaded  # the API itself did load
    heavy = [
        module
        for module in loaded
        if module.split(".")[0] in NOT_IN_THE_SKILL_API
        or any(within(module, p) for p in GHAPP_NOT_IN_THE_SKILL_API)
    ]
    assert heavy == []
