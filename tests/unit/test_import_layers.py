"""The import graph of ``core`` and ``app`` runs one way, down the layers DESIGN.md draws, and has no circle.

Read from the source with ``ast``, imports inside functions included: a lazy import is still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "app")
#: bottom first; a module may import its own layer and the ones below, never one above. ``core`` itself
#: (the package), its error, event, cancel and choice types sit under everything
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "core.errors", "core.events", "core.cancel", "core.choices", "core.resources"),
    ("core.shapes",),
    ("core.io",),
    ("core.data",),
    ("core.metrics", "core.render"),
    ("core.models",),
    ("core.diffusion",),
    ("core.training",),
    ("core.jobs",),
    ("core.cli", "core.__main__"),
    ("app",),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere in it: ``from a import b`` is ``a.b`` where that is a module
    (a submodule, loaded on its own), else ``a`` (a name ``a`` defines)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                         for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & modules


def _graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    files = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    return {module: _imports(path, set(files)) - {module} for module, path in files.items()}


def _layer(module: str) -> int:
    """Index of the layer whose longest prefix names ``module``."""
    matches = [(len(prefix), index) for index, prefixes in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    if not matches:
        pytest.fail(f"{module} is in no layer: add its package to LAYERS")
    return max(matches)[1]


def test_no_import_points_up_a_layer() -> None:
    upward = sorted(f"{module} -> {target}" for module, targets in _graph().items() for target in targets
                    if _layer(target) > _layer(module))
    assert upward == []


def test_the_import_graph_has_no_circle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module], _ = 1, path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (circle := visit(target)):
                return circle
        state[module], _ = 2, path.pop()
        return None

    circles = [circle for module in sorted(graph) if module not in state and (circle := visit(module))]
    assert circles == []
