"""A non-editable install carries the app's icons and style sheet (they live in the ``app`` package)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from app.resources import resources_dir

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_every_asset(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("latent3d_studio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assets = sorted(p.relative_to(ROOT).as_posix() for p in resources_dir().rglob("*") if p.is_file())
    assert "app/assets/style.qss" in assets and "app/assets/icons/latent3d-studio.svg" in assets
    assert [a for a in assets if a not in names] == []
