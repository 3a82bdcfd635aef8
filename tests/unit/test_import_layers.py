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
    return _imports_of(ast.parse(path.read_text(encoding="utf-8")), modules)


def _imports_of(tree: ast.AST, modules: set[str]) -> set[str]:
    """The project modules the import statements in ``tree`` name, read as :func:`_imports` says."""
    found: set[str] = set()
    for node in ast.walk(tree):
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


#: The only functions that may import a project module inside their body (issue 21), as (module, qualified name).
#: Project modules import each other at their top; a lazy import stands only in front of a heavy third-party
#: library (torch, numba) that a light caller must not pay for, each reason here.
LAZY_IMPORT_POINTS: dict[tuple[str, str], str] = {
    # core.jobs.edit imports torch at its top; the CLI's parser (every command module, for --help) and the app's
    # Edit page (at start-up) reach its job classes through here when a job starts
    ("core.jobs", "edit_job"): "torch",
    # light job classes the CLI's parser and the app's pages import: each job's torch-backed modules are imported
    # in one place, when it runs on its own thread
    ("core.jobs.train", "TrainJob.execute"): "torch",
    ("core.jobs.train_classifier", "TrainClassifierJob.execute"): "torch",
    ("core.jobs.sample", "_model_side"): "torch",
    ("core.jobs.evaluate", "_scoring"): "torch",
    ("core.jobs.nearest", "_metrics"): "torch",
    ("core.jobs.export_builtin", "_training"): "torch",
    ("core.jobs.demo", "DemoJob._classes_of"): "torch (core.training.run_config)",
    # numba kernels: importing them compiles or loads the cached machine code (~0.3 s), only when first used
    ("core.metrics.grid_chamfer", "nearest_means"): "numba",
    ("core.metrics.distances", "emd_auction"): "numba",
    # the renderer processes ("spawn", and a PyInstaller build's freeze_support) import app/__main__.py again as
    # their main module: they must not import Qt and the window's modules
    ("app.__main__", "parse_args"): "PySide6",
    ("app.__main__", "main"): "PySide6",
}


def _lazy_imports(path: Path, modules: set[str]) -> set[tuple[str, str]]:
    """(qualified function name, project module) for each project import inside a function of ``path``."""
    found: set[tuple[str, str]] = set()

    def visit(node: ast.AST, scope: tuple[str, ...], in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, scope + (child.name,), in_function or not isinstance(child, ast.ClassDef))
                continue
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.update((".".join(scope), target) for target in _imports_of(child, modules))
            visit(child, scope, in_function)

    visit(ast.parse(path.read_text(encoding="utf-8")), (), False)
    return found


def test_project_modules_are_imported_lazily_only_at_the_named_points() -> None:
    files = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    lazy = {(module, function, target) for module, path in files.items()
            for function, target in _lazy_imports(path, set(files))}
    unexpected = sorted(f"{module}:{function} imports {target}" for module, function, target in lazy
                        if (module, function) not in LAZY_IMPORT_POINTS)
    assert unexpected == [], "import these at the module's top, or name the lazy point in LAZY_IMPORT_POINTS"
    unused = sorted(set(LAZY_IMPORT_POINTS) - {(module, function) for module, function, _ in lazy})
    assert unused == [], "a named lazy point that imports no project module"
