"""``torchrun --nproc_per_node 2 -m core train``: two CPU ranks (gloo) end with bit-identical weights."""
from __future__ import annotations

import json
import subprocess
import sys
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
               "--classes", "chair", "--repr", "points", "--cond", "class", "--preset", "tiny", "--points", "128",
               "--ae-steps", "3", "--ldm-steps", "3", "--batch-size", "4", "--max-shapes", "32", "--out", str(run)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in ("ae", "ldm"):
        manifest = load_checkpoint(run / "checkpoints" / f"{stage}_last.safetensors").manifest
        assert manifest["world_size"] == 2 and manifest["step"] == 3
        digests = manifest["rank_digests"]
        assert len(digests) == 2 and digests[0] == digests[1]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["stage"] == "ldm"] == [3]  # logged once: rank 0 alone writes
