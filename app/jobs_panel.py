"""The jobs dock: one row per running job (progress bar, cancel button) above a log of everything jobs said."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QToolButton, QVBoxLayout,
                               QWidget)

from app.icons import icon
from app.jobrunner import JobRunner
from core.jobs import Failed, Job

#: keep the log bounded so a long training run cannot grow memory without limit
MAX_LOG_LINES = 5000


class JobRow(QWidget):
    """Title, progress bar, message and a cancel button for one job."""

    def __init__(self, runner: JobRunner, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("jobRow")
        self.runner = runner
        self.title = QLabel(runner.title)
        self.title.setObjectName("jobTitle")
        self.bar = QProgressBar(minimum=0, maximum=0, textVisible=True)
        self.bar.setFixedHeight(14)
        self.message = QLabel("starting…")
        self.message.setObjectName("dim")
        self.cancel_button = QToolButton(icon=icon("stop"), toolTip=f"Cancel {runner.title}", autoRaise=True)
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.cancel_button)
        runner.progress.connect(self._on_progress)

    def _cancel(self) -> None:
        self.runner.cancel()
        self.cancel_button.setEnabled(False)
        self.message.setText("cancelling…")

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.bar.setMaximum(max(total, 0))
        self.bar.setValue(done if total > 0 else 0)
        self.message.setText(message or (f"{done}/{total}" if total else ""))


class JobsPanel(QWidget):
    """Starts jobs, shows them while they run, and keeps their log; failures are reported by ``job_failed``."""

    job_failed = Signal(str, object)   # job title, core.jobs.Failed (not cancellations)
    job_finished = Signal(str)         # job title: Done, failed or cancelled
    status = Signal(str)               # a one-line summary for the status bar

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runners: list[JobRunner] = []
        self.rows = QVBoxLayout()
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(2)
        self.idle = QLabel("No jobs running")
        self.idle.setObjectName("dim")
        self.rows.addWidget(self.idle)
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(MAX_LOG_LINES)
        self.log_view.setObjectName("log")
        self.log_view.setMinimumHeight(60)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(self.rows)
        layout.addWidget(self.log_view, 1)

    def start(self, job: Job) -> JobRunner:
        """Run ``job`` in its own thread; connect to the returned runner's signals for its events."""
        runner = JobRunner(job, self)
        row = JobRow(runner, self)
        self.idle.hide()
        self.rows.addWidget(row)
        runner.log.connect(lambda message, level, title=runner.title: self.append(f"{title}: {message}", level))
        runner.done.connect(lambda result, title=runner.title: self.append(f"{title}: done"))
        runner.failed.connect(lambda failed, title=runner.title: self._on_failed(title, failed))
        runner.finished.connect(lambda r=runner, w=row: self._on_thread_finished(r, w))
        self.runners.append(runner)
        self.append(f"{runner.title}: started")
        self.status.emit(f"{runner.title} running")
        runner.start()
        return runner

    def append(self, message: str, level: str = "info") -> None:
        """Add a time-stamped line to the log."""
        prefix = "⚠ " if level == "warning" else ""
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {prefix}{message}")
        # appendPlainText scrolls only a log already at its end, which a dock not laid out yet never is
        bar = self.log_view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def warn(self, message: str) -> None:
        """Add a warning line to the log (e.g. the renderer was restarted)."""
        self.append(message, "warning")

    def cancel_all(self, wait_ms: int = 30000) -> None:
        """Cancel every job and wait for their threads (the window calls this when it closes)."""
        for runner in list(self.runners):
            runner.cancel()
        for runner in list(self.runners):
            runner.wait(wait_ms)

    @property
    def busy(self) -> bool:
        """True while any job thread runs."""
        return any(runner.isRunning() for runner in self.runners)

    def _on_failed(self, title: str, failed: Failed) -> None:
        first_line = failed.error.splitlines()[0] if failed.error else "failed"
        self.append(f"{title}: {'cancelled' if failed.cancelled else 'failed: ' + first_line}",
                    "info" if failed.cancelled else "warning")
        if not failed.cancelled:
            self.job_failed.emit(title, failed)

    def _on_thread_finished(self, runner: JobRunner, row: JobRow) -> None:
        row.setParent(None)
        row.deleteLater()
        if runner in self.runners:
            self.runners.remove(runner)
        if not self.runners:
            self.idle.show()
        self.job_finished.emit(runner.title)
        self.status.emit(f"{runner.title} finished")
        runner.deleteLater()
