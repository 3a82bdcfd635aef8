"""Double-click start: a freedesktop .desktop launcher and the icon, written to the user's XDG data folder."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from app.resources import resources_dir

APP_ID = "latent3d-studio"


def xdg_data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when unset or empty (XDG Base Directory spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value else Path.home() / ".local" / "share"


def launcher_command() -> str:
    """The command the launcher runs: the frozen executable, or this Python running the app module."""
    if getattr(sys, "frozen", False):
        return f'"{sys.executable}"'
    return f'"{sys.executable}" -m app'


def desktop_entry(exec_command: str) -> str:
    """The text of the .desktop file (Desktop Entry Specification 1.5)."""
    return "\n".join([
        "[Desktop Entry]", "Type=Application", "Version=1.5", "Name=Latent3D Studio",
        "GenericName=3D latent diffusion studio",
        "Comment=Train and sample latent diffusion models on voxels, point clouds and Gaussian splats",
        f"Exec={exec_command} %F", f"Icon={APP_ID}", "Terminal=false", "Categories=Graphics;3DGraphics;Science;",
        "StartupWMClass=latent3d-studio", "",
    ])


def install_desktop(data_home: Path | None = None) -> tuple[Path, Path]:
    """Write ``applications/latent3d-studio.desktop`` and the scalable icon; returns both paths."""
    root = data_home or xdg_data_home()
    entry = root / "applications" / f"{APP_ID}.desktop"
    icon_path = root / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(resources_dir() / "icons" / f"{APP_ID}.svg", icon_path)
    entry.write_text(desktop_entry(launcher_command()), encoding="utf-8")
    entry.chmod(0o755)
    return entry, icon_path
