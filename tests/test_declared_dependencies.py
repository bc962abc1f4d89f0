"""Every library ghapp imports is declared in pyproject.toml, not left to arrive with
another package (cryptography came with githubkit, python-dotenv with pydantic-settings,
httpx with githubkit: one upgrade there and ghapp would break on install)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.add(normalized(match.group(0)))
    return names


def imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "ghapp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"__future__", "ghapp"}


def test_every_imported_library_is_declared() -> None:
    distributions = packages_distributions()
    modules = imported_top_level_modules()
    assert {"githubkit", "starlette", "cryptography", "dotenv", "httpx"} <= modules
    undeclared = {
        module: distributions.get(module)
        for module in modules
        if not {normalized(d) for d in distributions.get(module, [])} & declared()
    }
    assert undeclared == {}


def test_the_design_cards_libraries_and_a_safe_multipart_are_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {"githubkit", "pyjwt", "cryptography", "starlette", "uvicorn"} <= declared()
    (multipart,) = [d for d in project["dependencies"] if d.startswith("python-multipart")]
    # CVE-2024-53981 is fixed from 0.0.18 on.
    assert multipart == "python-multipart>=0.0.18"
