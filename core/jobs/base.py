"""The job protocol: ``job.run(on_event, cancel)`` does the work, reports events, honours cancel."""
from __future__ import annotations

import logging
import threading
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.cancel import CancelToken, Cancelled
from core.errors import InputError
from core.events import Done, EventHandler, Failed, Log

__all__ = ["CancelToken", "Cancelled", "EventHandler", "Job"]


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
        exception is a bug and is re-raised after its Failed event so it is never silent. Warnings the
        data layer logs meanwhile (files skipped) arrive as Log events.
        """
        emit = on_event or (lambda event: None)
        cancel = cancel or CancelToken()
        try:
            with _logged_as_events(emit):
                result = self.execute(emit, cancel)
        except Cancelled as exc:
            emit(Failed(str(exc) or "cancelled", cancelled=True))
            return None
        except InputError as exc:
            emit(Failed(str(exc), bad_input=True))
            return None
        except Exception as exc:
            emit(Failed(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            raise
        emit(Done(result))
        return result


#: loggers whose records a running job reports as Log events: core.data warns there about skipped files
FORWARDED_LOGGERS = ("core.data",)


class _LogToEvents(logging.Handler):
    """Turns records logged on the job's own thread into Log events (another thread's job gets its own),
    each distinct message once: a job may open its dataset more than once (train checks it, then loads it)."""

    def __init__(self, emit: EventHandler) -> None:
        super().__init__(logging.INFO)
        self.emit_event, self.thread = emit, threading.get_ident()
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.thread == self.thread and message not in self.seen:
            self.seen.add(message)
            self.emit_event(Log(message, "warning" if record.levelno >= logging.WARNING else "info"))


@contextmanager
def _logged_as_events(emit: EventHandler) -> Iterator[None]:
    """While the block runs, warnings of :data:`FORWARDED_LOGGERS` reach ``emit`` as Log events."""
    handler = _LogToEvents(emit)
    loggers = [logging.getLogger(name) for name in FORWARDED_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
