"""Run a core job in a QThread and re-emit its events as Qt signals (the napari way: the GUI only reacts)."""
from __future__ import annotations

import threading

from PySide6.QtCore import QThread, QTimer, Signal

from core.jobs import CancelToken, Done, Failed, Job, Log, Metric, Preview, Progress


class JobRunner(QThread):
    """One job in one thread. Signals arrive in the GUI thread; exactly one of ``done``/``failed`` ends a run."""

    progress = Signal(int, int, str)   # done, total, message
    log = Signal(str, str)             # message, level
    metric = Signal(object)            # core.jobs.Metric
    preview = Signal(object)           # core.jobs.Preview
    done = Signal(object)              # the job's result
    failed = Signal(object)            # core.jobs.Failed

    def __init__(self, job: Job, parent=None) -> None:
        super().__init__(parent)
        self.job = job
        self.cancel_token = CancelToken()
        self.title = getattr(job, "name", type(job).__name__)
        self._go = threading.Event()

    def start(self, *args) -> None:
        """Start the thread; the job begins when the GUI thread's event loop next turns. Callers connect to the
        signals just after ``start()`` returns, and a fast job (a cached file) would otherwise emit before
        that: a signal with no connection yet is lost, and the view waits for ever."""
        super().start(*args)
        QTimer.singleShot(0, self._go.set)

    def cancel(self) -> None:
        """Ask the job to stop at its next check (returns at once)."""
        self.cancel_token.cancel()
        self._go.set()  # a thread still waiting to begin must not hold up wait()

    def run(self) -> None:  # noqa: D102 - QThread entry point
        self._go.wait()
        try:
            self.job.run(self._dispatch, self.cancel_token)
        except Exception:  # the job already emitted Failed with the traceback; keep the thread's death quiet
            pass

    def _dispatch(self, event) -> None:
        if isinstance(event, Progress):
            self.progress.emit(event.done, event.total, event.message)
        elif isinstance(event, Log):
            self.log.emit(event.message, event.level)
        elif isinstance(event, Metric):
            self.metric.emit(event)
        elif isinstance(event, Preview):
            self.preview.emit(event)
        elif isinstance(event, Done):
            self.done.emit(event.result)
        elif isinstance(event, Failed):
            self.failed.emit(event)
