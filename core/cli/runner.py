"""Run a job from the terminal: tqdm for Progress, log lines to stderr, Failed turned into exit codes.

Ctrl-C (SIGINT), ``kill`` or a scheduler's pre-emption (SIGTERM, also what ``torchrun`` sends its
workers when it shuts down) and a closed terminal (SIGHUP) all cancel the job: it finishes the step
it is in and keeps its work (training writes a checkpoint), then the command exits with 128 + the
signal's number, as a shell reports a process the signal ended. A second signal ends the process at
once; files are only ever replaced by renames, so what was last written stays whole.
"""
from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from tqdm import tqdm

from core.errors import InputError
from core.jobs import CancelToken, Event, Failed, Job, Log, Metric, Progress

#: signals that stop a job cleanly (SIGHUP does not exist on every platform)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
#: a process ended by signal N exits with 128 + N (130 for SIGINT, 143 for SIGTERM)
SIGNAL_EXIT_BASE = 128


class Interrupted(Exception):
    """A job stopped by a signal or cancelled: one line for stderr and the exit code a shell expects."""

    def __init__(self, message: str, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        """128 + the signal's number."""
        return SIGNAL_EXIT_BASE + self.signum


class _TerminalReporter:
    """Turns job events into a tqdm bar and stderr lines."""

    def __init__(self, job_name: str, quiet: bool) -> None:
        self.job_name = job_name
        self.quiet = quiet
        self.bar: tqdm | None = None
        self.failure: Failed | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, Metric):
            if self.bar is not None:
                self.bar.set_postfix({k: f"{v:.4g}" for k, v in list(event.values.items())[:3]}, refresh=False)
        elif isinstance(event, Log):
            message = event.message if event.level == "info" else f"{event.level}: {event.message}"
            # stderr either way: stdout carries a command's result (e.g. eval's JSON)
            (tqdm.write if self.bar else print)(message, file=sys.stderr)
        elif isinstance(event, Failed):
            self.failure = event

    def _progress(self, event: Progress) -> None:
        if self.quiet:
            return
        if self.bar is None or (event.total and self.bar.total != event.total) or event.done < self.bar.n:
            self.close()
            self.bar = tqdm(total=event.total or None, desc=event.message or self.job_name,
                            file=sys.stderr, dynamic_ncols=True, leave=False)
        elif event.message:
            self.bar.set_description_str(event.message, refresh=False)
        self.bar.update(event.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextmanager
def stop_on_signals(cancel: CancelToken) -> Iterator[list[int]]:
    """While the block runs, the first of :data:`STOP_SIGNALS` sets ``cancel``; a second ends the process now.

    Yields the list of signals received so far. The second signal does not wait for the job (whose
    step may be long, or stuck): it exits with 128 + its number without running any more Python.
    """
    received: list[int] = []

    def handle(signum: int, frame: Any) -> None:
        if received:
            with suppress(OSError):  # after SIGHUP the terminal may be gone
                print(f"{signal.Signals(signum).name} again: stopping at once", file=sys.stderr, flush=True)
            os._exit(SIGNAL_EXIT_BASE + signum)
        received.append(signum)
        cancel.cancel()

    previous = {number: signal.signal(number, handle) for number in STOP_SIGNALS}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_in_terminal(job: Job, quiet: bool = False, interrupted_hint: str = "") -> Any:
    """Run ``job`` with a progress bar; a stop signal cancels it cleanly (:func:`stop_on_signals`).

    Raises InputError on bad input, and :class:`Interrupted` when the job was cancelled: its message is
    the job's own account of what it kept, then ``interrupted_hint`` (e.g. how to resume).
    """
    reporter = _TerminalReporter(job.name, quiet)
    cancel = CancelToken()
    with stop_on_signals(cancel) as received:
        try:
            result = job.run(reporter, cancel)
        finally:
            reporter.close()
    if reporter.failure is not None:
        if reporter.failure.cancelled:
            signum = received[0] if received else signal.SIGINT
            hint = f"; {interrupted_hint}" if interrupted_hint else ""
            raise Interrupted(f"interrupted by {signal.Signals(signum).name}: {reporter.failure.error}{hint}", signum)
        raise InputError(None, reporter.failure.error)
    return result
