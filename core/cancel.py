"""Asking long work to stop: a thread-safe token the caller sets, and the exception the work stops with.

Below both ``core.jobs`` and ``core.training``: the app's cancel button and a terminal's signals set
the same token, and the training loop that honours it knows nothing of jobs.
"""
from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside work whose cancel token is set; the message says what was kept (e.g. a checkpoint)."""


class CancelToken:
    """A thread-safe flag a caller sets to ask a running job to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled()
