"""The app's look: Fusion style + app/assets/style.qss, and pyqtgraph colours that match it."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

from app.resources import resources_dir


def apply_theme(app: QApplication) -> None:
    """Use the dark style sheet (the Fusion style renders it the same on every platform)."""
    app.setStyle("Fusion")
    path = resources_dir() / "style.qss"
    if path.is_file():
        app.setStyleSheet(path.read_text(encoding="utf-8"))
