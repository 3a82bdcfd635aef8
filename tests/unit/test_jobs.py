import pytest

from core.errors import InputError
from core.jobs import CancelToken, Done, Failed, Job, Progress


class _CountJob(Job):
    name = "count"

    def __init__(self, n, fail_at=None, bug=False):
        self.n, self.fail_at, self.bug = n, fail_at, bug

    def execute(self, emit, cancel):
        for i in range(self.n):
            cancel.raise_if_cancelled()
            if i == self.fail_at:
                raise (RuntimeError("bug") if self.bug else InputError("x.ply", "truncated"))
            emit(Progress(i + 1, self.n))
        return self.n


def test_job_reports_progress_then_done():
    events = []
    assert _CountJob(3).run(events.append) == 3
    assert [e.done for e in events[:-1]] == [1, 2, 3]
    assert events[-1] == Done(3)


def test_bad_input_ends_in_one_line_failed():
    events = []
    assert _CountJob(3, fail_at=1).run(events.append) is None
    assert events[-1] == Failed("x.ply: truncated", bad_input=True)


def test_cancel_stops_job_and_reports_cancelled():
    cancel = CancelToken()
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, Progress) and event.done == 2:
            cancel.cancel()

    _CountJob(10).run(on_event, cancel)
    assert events[-1].cancelled and len(events) == 3


def test_bug_is_reported_and_reraised():
    events = []
    with pytest.raises(RuntimeError):
        _CountJob(3, fail_at=0, bug=True).run(events.append)
    assert isinstance(events[-1], Failed) and not events[-1].bad_input


def test_terminal_runner_keeps_stdout_for_results(capsys):
    from core.cli.runner import run_in_terminal
    from core.jobs import Log

    class _LogJob(Job):
        def execute(self, emit, cancel):
            emit(Progress(1, 2))
            emit(Log("resampled to 1024 points", "warning"))
            return 7

    assert run_in_terminal(_LogJob()) == 7
    captured = capsys.readouterr()
    assert captured.out == "" and "resampled" in captured.err
