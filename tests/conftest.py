"""Shared test fixtures: the real data folder, an isolated cache, headless Qt."""
from __future__ import annotations

import os
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


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own converted-shape cache so tests never see a stale one."""
    monkeypatch.setenv("LATENT3D_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
