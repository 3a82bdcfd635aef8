"""The job protocol: ``job.run(on_event, cancel)`` does the work, reports events, honours cancel."""
from __future__ import annotations

import threading
import traceback
from abc import ABC, abstractmethod
from typing import Any, Callable

from core.errors import InputError
from core.jobs.events import Done, Event, Failed

EventHandler = Callable[[Event], None]


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set; the job stops at the next check."""


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


class Job(ABC):
    """A unit of work that reports events and can be cancelled; subclasses implement :meth:`execute`."""

    #: short name shown in progress bars and the app's job list
    name: str = "job"

    @abstractmethod
    def execute(self, emit: EventHandler, cancel: CancelToken) -> Any:
        """Do the work, emitting Progress/Log/Metric/Preview events; return the result."""

    def run(self, on_event: EventHandler | None = None, cancel: CancelToken | None = None) -> Any:
        """Run the job, finishing with exactly one Done or Failed event; return the result or None.

        Bad input (:class:`InputError`) and cancellation end with a one-line Failed; any other
        exception is a bug and is re-raised after its Failed event so it is never silent.
        """
        emit = on_event or (lambda event: None)
        cancel = cancel or CancelToken()
        try:
            result = self.execute(emit, cancel)
        except Cancelled:
            emit(Failed("cancelled", cancelled=True))
            return None
        except InputError as exc:
            emit(Failed(str(exc), bad_input=True))
            return None
        except Exception as exc:
            emit(Failed(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            raise
        emit(Done(result))
        return result
