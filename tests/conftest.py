"""Shared test fixtures: the real data folder, benchmark scripts as modules, the CLI as a process, an isolated
cache, headless Qt."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENT3D_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder beside the checkout; CI always has it, so its absence is a failure."""
    assert SHARED_DATA.is_dir(), f"real data folder missing: {SHARED_DATA} (set LATENT3D_SHARED_DATA)"
    return SHARED_DATA


#: how long one ``python -m core`` process of a test may take
CLI_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def core_cli():
    """``core_cli("sample", ...)``: a real ``python -m core`` process from the checkout, as a user runs it (for what
    must hold across processes: exit codes, one-line errors on stderr); paths and numbers are passed as text."""
    def run(*args: str | os.PathLike | int | float) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT_S)
    return run


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark("quality")``: a script of ``benchmarks/`` imported as a module (they are scripts, not a
    package), so tests call the functions the README's figures come from."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"{name}_under_test", ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own converted-shape cache so tests never see a stale one."""
    monkeypatch.setenv("LATENT3D_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(autouse=True)
def _isolated_tempdir(tmp_path_factory, monkeypatch):
    """Scratch folders the code makes on its own (the Edit page's job folders, which stay for the user to
    open) go under pytest's base temp, which pytest prunes, not into the machine's /tmp; subprocesses too."""
    scratch = tmp_path_factory.mktemp("tempdir")
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
