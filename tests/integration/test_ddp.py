"""``torchrun --nproc_per_node 2 -m core train``: two CPU ranks (gloo) end with bit-identical weights, and
stop together with one checkpoint when torchrun is sent SIGTERM."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.training import load_checkpoint

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_two_cpu_ranks_train_identical_replicas(shared_data, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "core", "train", "--data",
               str(shared_data / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_train.h5"),
               "--classes", "chair,sofa", "--repr", "points", "--cond", "class", "--preset", "tiny", "--points", "128",
               "--ae-steps", "3", "--ldm-steps", "3", "--batch-size", "4", "--max-shapes", "32", "--out", str(run)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in ("ae", "ldm"):
        manifest = load_checkpoint(run / "checkpoints" / f"{stage}_last.safetensors").manifest
        assert manifest["world_size"] == 2 and manifest["step"] == 3
        digests = manifest["rank_digests"]
        assert len(digests) == 2 and digests[0] == digests[1]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["stage"] == "ldm"] == [3]  # logged once: rank 0 alone writes


def test_sigterm_to_torchrun_checkpoints_once_and_stops_every_rank(shared_data, tmp_path):
    run, stderr = tmp_path / "run", tmp_path / "stderr.txt"
    data = str(shared_data / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_train.h5")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "core"]
    train = ["train", "--out", str(run), "--ldm-steps", "3"]
    options = ["--data", data, "--classes", "chair,sofa", "--repr", "points", "--cond", "class", "--points", "128",
               "--ae-steps", "500", "--batch-size", "4", "--max-shapes", "32"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([*launcher, *train, *options], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=open(stderr, "w"))
    deadline = time.monotonic() + 180
    while not (run / "metrics.jsonl").exists():
        assert process.poll() is None and time.monotonic() < deadline, "training ended or stalled before the signal"
        time.sleep(0.02)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) != 0
    # torchrun kills ranks that have not stopped 30 s after its SIGTERM: both stopped on their own, together
    assert time.monotonic() - signalled < 20
    lines = [line for line in stderr.read_text().replace("\r", "\n").splitlines() if "interrupted by" in line]
    assert len(lines) == 1, lines  # rank 0 speaks for both
    stopped = re.search(r"stopped after ae step (\d+) of 500; checkpoint saved to (\S+); resume with: "
                        r"torchrun --nproc_per_node 2 -m core train --out (\S+) --resume", lines[0])
    assert stopped and Path(stopped[2]) == run / "checkpoints" / "ae_last.safetensors", lines[0]
    step = int(stopped[1])
    manifest = load_checkpoint(run / "checkpoints" / "ae_last.safetensors").manifest
    assert manifest["step"] == step < 500 and manifest["world_size"] == 2

    resumed = subprocess.run([*launcher, *train, "--resume", "--ae-steps", str(step + 2)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for stage, steps in (("ae", step + 2), ("ldm", 3)):
        manifest = load_checkpoint(run / "checkpoints" / f"{stage}_last.safetensors").manifest
        assert manifest["step"] == steps and len(set(manifest["rank_digests"])) == 1
