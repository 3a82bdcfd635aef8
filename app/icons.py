"""Icons by name from ``app/assets/icons`` (SVG line icons drawn for the dark theme)."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from app.resources import resources_dir

APP_ICON = "latent3d-studio"


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon ``app/assets/icons/<name>.svg`` (an empty icon if it is missing, never an error)."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))
