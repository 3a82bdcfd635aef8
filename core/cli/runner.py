"""Run a job from the terminal: tqdm for Progress, log lines to stderr, Failed turned into exit codes."""
from __future__ import annotations

import signal
import sys
from typing import Any

from tqdm import tqdm

from core.errors import InputError
from core.jobs import CancelToken, Event, Failed, Job, Log, Metric, Progress


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


def run_in_terminal(job: Job, quiet: bool = False) -> Any:
    """Run ``job`` with a progress bar; Ctrl-C cancels it cleanly. Raises InputError on bad input."""
    reporter = _TerminalReporter(job.name, quiet)
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        result = job.run(reporter, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
        reporter.close()
    if reporter.failure is not None:
        if reporter.failure.cancelled:
            raise KeyboardInterrupt
        raise InputError(None, reporter.failure.error)
    return result
