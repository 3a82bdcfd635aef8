"""GUI fixtures: one render thread per test, stopped (renderer released in its thread) before Qt goes away."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from app.viewport.render_thread import RenderThread


@pytest.fixture
def render_thread(qtbot):
    """The process's render thread (one Filament renderer per process); a test's thumbnail clients go with the
    widgets that own them."""
    return RenderThread.shared()


@pytest.fixture
def error_boxes(monkeypatch) -> list[str]:
    """Every error dialog the app tried to show (the dialogs themselves are never opened)."""
    shown: list[str] = []

    def record(parent, title, text, *args, **kwargs):
        shown.append(f"{title}: {text}")
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", record)
    monkeypatch.setattr(QMessageBox, "warning", record)
    return shown


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so test shapes are the same every run."""
    return np.random.default_rng(0)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The main window at 1280x800 with settings isolated in tmp; shut down (jobs cancelled, renderer released)
    afterwards."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    main = MainWindow()
    qtbot.addWidget(main)
    main.resize(1280, 800)
    main.show()
    yield main
    main.shutdown()
