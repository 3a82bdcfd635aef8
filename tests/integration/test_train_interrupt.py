"""Runs that survive interruption and moving (issue 23) and resume requests that say what they do (issue 24).

A signal during ``train`` saves the step reached and resumes to the same weights as an uninterrupted run;
a run folder resumes after it (or its data) moved; ``--resume`` with new step totals extends the run or
refuses in one line; ``--cond class`` over one class is refused in the CLI and the job alike.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.jobs import CancelToken, Failed, Progress
from core.jobs.train import TrainJob
from core.training import RunSpec, load_checkpoint

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FOLDER = "modelnet10_pointclouds_1024"
H5 = "modelnet10_pcd1024_train.h5"
AE_STEPS, LDM_STEPS = 60, 10
#: a tiny class-conditioned points run: ~30 autoencoder steps a second on one core
SMALL = ("--classes", "chair,sofa", "--repr", "points", "--cond", "class", "--points", "128", "--batch-size", "4",
         "--max-shapes", "32")
#: seconds a training subprocess may take to reach its first logged step (imports and data loading)
START_TIMEOUT = 120
STOPPED = re.compile(r"interrupted by SIGTERM: stopped after ae step (\d+) of 60; checkpoint saved to (\S+); "
                     r"resume with: python -m core train --out (\S+) --resume")


def _train_args(data: str, out: Path, ae_steps: int = AE_STEPS, ldm_steps: int = LDM_STEPS) -> list[str]:
    return ["train", "--data", data, *SMALL, "--ae-steps", str(ae_steps), "--ldm-steps", str(ldm_steps),
            "--out", str(out)]


def _main(capsys, *args: str) -> tuple[int, str]:
    """The CLI's entry point in this process: exit code and stderr."""
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def _start_training(args: list[str], stderr: Path) -> subprocess.Popen:
    """``python -m core train …`` in its own process, with as many threads as this one (identical numbers)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(stderr, "w"))


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    """Until ``path`` exists and is not empty (the run has logged a step, or written a checkpoint)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not (path.exists() and path.stat().st_size):
        assert process.poll() is None and time.monotonic() < deadline, "training ended or stalled before the signal"
        time.sleep(0.01)


def _same_weights(run: Path, reference: Path) -> bool:
    for stage in ("ae", "ldm"):
        a = load_checkpoint(run / "checkpoints" / f"{stage}_last.safetensors").tensors
        b = load_checkpoint(reference / "checkpoints" / f"{stage}_last.safetensors").tensors
        if a.keys() != b.keys() or not all(torch.equal(a[k], b[k]) for k in b):
            return False
    return True


def _losses(run: Path) -> list[tuple]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["stage"], r["step"], r["loss"]) for r in records]


@pytest.fixture(scope="module")
def data(shared_data) -> str:
    return str(shared_data / FOLDER / H5)


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("uninterrupted") / "run"
    assert main(_train_args(data, run)) == 0
    return run


def test_sigterm_checkpoints_the_last_step_and_resume_matches_an_uninterrupted_run(data, uninterrupted, tmp_path,
                                                                                    capsys):
    run, stderr = tmp_path / "run", tmp_path / "stderr.txt"
    process = _start_training(_train_args(data, run), stderr)
    _wait_for(run / "metrics.jsonl", process)  # the autoencoder has logged its first steps
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    line = stderr.read_text().replace("\r", "\n").strip().splitlines()[-1]
    stopped = STOPPED.fullmatch(line)
    assert stopped, line
    step = int(stopped[1])
    last = run / "checkpoints" / "ae_last.safetensors"
    assert Path(stopped[2]) == last and Path(stopped[3]) == run
    logged = [s for stage, s, _ in _losses(run) if stage == "ae"]
    assert 0 < logged[-1] <= step < AE_STEPS  # mid-run, and no logged step was lost
    assert load_checkpoint(last).manifest["step"] == step
    assert not (run / "checkpoints" / "ldm_last.safetensors").exists()

    code, err = _main(capsys, "train", "--out", str(run), "--resume")
    assert code == 0, err
    assert f"resuming ae from step {step}" in err
    assert _losses(run) == _losses(uninterrupted)
    assert _same_weights(run, uninterrupted)


def test_a_second_signal_exits_at_once_keeping_the_last_checkpoint(data, tmp_path):
    run, stderr = tmp_path / "run", tmp_path / "stderr.txt"
    process = _start_training(_train_args(data, run), stderr)
    last = run / "checkpoints" / "ae_last.safetensors"
    _wait_for(last, process)
    # two different signals are never merged into one: SIGINT asks for a clean stop, SIGTERM cuts it short
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    text = stderr.read_text()
    assert "SIGTERM again: stopping at once" in text and "interrupted by" not in text
    assert load_checkpoint(last).manifest["step"] >= 20  # the preset's first checkpoint, or a later whole one


@pytest.fixture(scope="module")
def short_run(shared_data, tmp_path_factory) -> Path:
    """A finished 4 + 2 step run started from the data's folder with a relative --data, as a new user would."""
    run = tmp_path_factory.mktemp("short") / "run"
    previous = Path.cwd()
    os.chdir(shared_data / FOLDER)
    try:
        assert main(_train_args(H5, run, ae_steps=4, ldm_steps=2)) == 0
    finally:
        os.chdir(previous)
    return run


def test_config_records_the_data_as_an_absolute_path_and_as_given(short_run, shared_data):
    data = json.loads((short_run / "config.json").read_text())["data"]
    assert data["path"] == str(shared_data / FOLDER / H5) and data["given"] == H5


def test_a_moved_run_resumes_from_another_folder(short_run, tmp_path, monkeypatch, capsys):
    moved = tmp_path / "elsewhere" / "moved-run"
    shutil.copytree(short_run, moved)
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, err = _main(capsys, "train", "--out", "moved-run", "--resume", "--ldm-steps", "4")
    assert code == 0, err
    assert "ldm: 2 -> 4 steps, continuing from step 2" in err
    manifest = load_checkpoint(moved / "checkpoints" / "ldm_last.safetensors").manifest
    assert manifest["step"] == manifest["total_steps"] == 4
    assert json.loads((moved / "config.json").read_text())["train"]["ldm"]["steps"] == 4
    assert [s for stage, s, _ in _losses(moved) if stage == "ldm"] == [2, 4]


def test_resume_refuses_step_counts_it_cannot_honour(short_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(short_run, run)
    before = (run / "config.json").read_text()
    for args, message in ((("--ldm-steps", "1"), "ldm has already taken 2 steps; give at least 2"),
                          (("--ae-steps", "8"), "stage 2 has started on latents of the autoencoder")):
        code, err = _main(capsys, "train", "--out", str(run), "--resume", *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert (run / "config.json").read_text() == before


def test_moved_data_is_named_and_found_again_with_data(shared_data, tmp_path, capsys):
    linked = tmp_path / "data"
    linked.symlink_to(shared_data / FOLDER, target_is_directory=True)
    run = tmp_path / "run"
    assert main(_train_args(str(linked / H5), run, ae_steps=2, ldm_steps=2)) == 0
    moved = tmp_path / "moved-data"
    linked.rename(moved)
    code, err = _main(capsys, "train", "--out", str(run), "--resume", "--ldm-steps", "3")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert str(linked / H5) in err and "--data" in err
    code, err = _main(capsys, "train", "--out", str(run), "--resume", "--ldm-steps", "3", "--data", str(moved / H5))
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["data"]["path"] == str(moved / H5)
    assert load_checkpoint(run / "checkpoints" / "ldm_last.safetensors").manifest["step"] == 3


def test_class_conditioning_on_one_class_is_refused_by_cli_and_job(data, tmp_path, capsys):
    args = ["train", "--data", data, "--classes", "chair", "--cond", "class", "--out", str(tmp_path / "cli")]
    code, err = _main(capsys, *args)
    assert code == 2 and "--cond class needs at least two classes" in err and "use --cond none" in err, err
    events = []
    spec = RunSpec(data=data, representation="points", classes=["chair"], cond="class")
    assert TrainJob(tmp_path / "job", spec).run(events.append) is None
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.bad_input and "use --cond none" in failed.error
    assert not (tmp_path / "cli").exists() and not (tmp_path / "job").exists()


def test_cancel_from_the_app_checkpoints_and_names_the_checkpoint(data, tmp_path):
    cancel, events = CancelToken(), []
    stop = lambda e: isinstance(e, Progress) and (e.message, e.done) == ("ae", 3) and cancel.cancel()
    spec = RunSpec(data=data, representation="points", classes=["chair", "sofa"], cond="class", ae_steps=AE_STEPS,
                   ldm_steps=LDM_STEPS, n_points=128, batch_size=4, max_shapes=32)
    assert TrainJob(tmp_path / "run", spec).run(lambda e: (events.append(e), stop(e)), cancel) is None
    failed, last = events[-1], tmp_path / "run" / "checkpoints" / "ae_last.safetensors"
    assert isinstance(failed, Failed) and failed.cancelled
    assert failed.error == f"stopped after ae step 3 of {AE_STEPS}; checkpoint saved to {last}"
    assert load_checkpoint(last).manifest["step"] == 3
