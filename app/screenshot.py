"""``--screenshot``: wait until the window has loaded and drawn everything, save it as PNG, quit."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

#: poll interval while waiting for jobs and frames to finish
POLL_MS = 250
#: the window must stay idle this long before it is captured (late signals land first)
SETTLE_MS = 600


class ScreenshotWhenReady:
    """Polls the window; when jobs, thumbnails and frames are done, grabs it to ``path`` and quits the app."""

    def __init__(self, window, path: Path, timeout_ms: int) -> None:
        self.window, self.path, self.timeout_ms = window, path, timeout_ms
        self.saved = False
        self._clock = QElapsedTimer()
        self._idle_since: int | None = None
        self._timer = QTimer(interval=POLL_MS, timeout=self._poll)

    def start(self) -> None:
        """Begin polling."""
        self._clock.start()
        self._timer.start()

    def _ready(self) -> bool:
        window = self.window
        if window.jobs.busy or not window.render_thread.idle:
            return False
        viewport, datasets = window.viewport, window.datasets
        if viewport.shape is None and datasets.dataset is not None and datasets.grid.count():
            datasets._show_item(datasets.grid.item(0))  # a loaded dataset: show its first shape too
            return False
        return viewport.shape is None or viewport.frames_shown > 0

    def _poll(self) -> None:
        if self._ready():
            now = self._clock.elapsed()
            self._idle_since = self._idle_since if self._idle_since is not None else now
            if now - self._idle_since < SETTLE_MS:
                return
        else:
            self._idle_since = None
            if self._clock.elapsed() < self.timeout_ms:
                return
        self._timer.stop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.saved = self.window.grab().save(str(self.path))
        QApplication.instance().quit()
