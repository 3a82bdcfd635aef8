"""No traceback reaches the terminal: a bug is one line naming the file and the step, exit 2; --debug shows it."""
from __future__ import annotations

from core.cli import main
from core.jobs.inspect import InspectJob


def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _broken(self, emit, cancel):
    return {}["no such key"]


def test_an_unexpected_exception_is_one_line_naming_the_input_and_command(shared_data, capsys, monkeypatch):
    monkeypatch.setattr(InspectJob, "execute", _broken)
    folder = shared_data / "modelnet_off"
    code, out, err = _run(capsys, "datasets", "inspect", str(folder), "--json")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip() == (f"error: {folder}: unexpected failure while running 'datasets' (KeyError: 'no such key'); "
                           "rerun with --debug for the traceback")


def test_debug_anywhere_on_the_line_shows_the_traceback(shared_data, capsys, monkeypatch):
    monkeypatch.setattr(InspectJob, "execute", _broken)
    code, _, err = _run(capsys, "datasets", "--debug", "inspect", str(shared_data / "modelnet_off"))
    assert code == 2 and "Traceback (most recent call last)" in err and "KeyError" in err
    assert err.strip().splitlines()[-1].startswith("error: ")


def test_bad_input_keeps_its_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, "datasets", "inspect", str(tmp_path / "nowhere"))
    assert code == 2 and err.strip() == f"error: {tmp_path / 'nowhere'}: no such file or folder"
