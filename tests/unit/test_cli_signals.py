"""Stop signals in the terminal runner (issue 23): the first cancels the job, which says what it kept; the exit
code is 128 + the signal. (A second signal ends the process: tests/integration/test_train_interrupt.py.)"""
from __future__ import annotations

import os
import signal

import pytest

from core.cancel import Cancelled
from core.cli.runner import STOP_SIGNALS, Interrupted, run_in_terminal, stop_on_signals
from core.jobs import CancelToken, Job


class _SignalledJob(Job):
    """Sends itself ``signum`` and stops at its next check, saying what it kept."""

    name = "signalled"

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def execute(self, emit, cancel):
        os.kill(os.getpid(), self.signum)
        for _ in range(1000):  # Python runs the handler between bytecodes, within a few iterations
            if cancel.cancelled:
                raise Cancelled("stopped after step 3; checkpoint saved to C")
        raise AssertionError("the signal did not cancel the job")


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_a_stop_signal_cancels_and_the_previous_handler_comes_back(signum):
    before, cancel = signal.getsignal(signum), CancelToken()
    with stop_on_signals(cancel) as received:
        os.kill(os.getpid(), signum)
        for _ in range(1000):
            if cancel.cancelled:
                break
    assert received == [signum] and cancel.cancelled
    assert signal.getsignal(signum) is before


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_an_interrupted_job_says_what_it_kept_and_exits_128_plus_the_signal(signum, code):
    with pytest.raises(Interrupted) as stop:
        run_in_terminal(_SignalledJob(signum), quiet=True, interrupted_hint="resume with: R")
    name = signal.Signals(signum).name
    assert str(stop.value) == f"interrupted by {name}: stopped after step 3; checkpoint saved to C; resume with: R"
    assert stop.value.exit_code == code
