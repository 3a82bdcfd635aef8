"""Error reporting: a failed job or a bad file shows one dialog and the app carries on."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from core.jobs import Failed


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A modal error box; the first line is the message, a traceback (bugs only) goes to the details."""
    first, _, rest = message.partition("\n")
    QMessageBox.critical(parent, title, first if not rest else f"{first}\n\n{rest.strip()[-2000:]}")


def show_failure(parent: QWidget | None, job_title: str, failed: Failed) -> None:
    """The dialog for a job that ended with ``Failed`` (cancellations are not errors and show nothing)."""
    if failed.cancelled:
        return
    kind = "Bad input" if failed.bad_input else "Error"
    show_error(parent, f"{job_title}: {kind}", failed.error)
