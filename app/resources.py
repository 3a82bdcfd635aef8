"""Where the app's icons and style sheet live: ``app/assets``, package data of the ``app`` package.

Inside the package, so a wheel (a non-editable install) and a PyInstaller bundle carry them: PyInstaller sets
``__file__`` of a frozen module to its place under ``sys._MEIPASS``, and the spec copies the folder there.
"""
from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The ``app/assets`` folder (icons/, style.qss)."""
    return Path(__file__).resolve().parent / "assets"
