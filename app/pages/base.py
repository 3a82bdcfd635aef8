"""What every page shares: the viewport, the jobs panel and the render thread, handed over by the window."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.jobs_panel import JobsPanel
from app.viewport.widget import Viewport


@dataclass
class Studio:
    """The window's shared parts a page may use."""

    viewport: Viewport
    jobs: JobsPanel


class Page(QWidget):
    """A page with a title and a subtitle above its content (``self.body``)."""

    title = ""
    subtitle = ""

    def __init__(self, studio: Studio, parent=None) -> None:
        super().__init__(parent)
        self.studio = studio
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(10)
        heading = QLabel(self.title)
        heading.setObjectName("pageTitle")
        sub = QLabel(self.subtitle)
        sub.setObjectName("dim")
        sub.setWordWrap(True)
        outer.addWidget(heading)
        outer.addWidget(sub)
        self.body = QVBoxLayout()
        self.body.setSpacing(10)
        outer.addLayout(self.body, 1)
