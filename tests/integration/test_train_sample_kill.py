"""A SIGKILL in the middle of checkpoint writes never costs the previous checkpoint."""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.training import load_checkpoint

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

#: writes checkpoints in a loop; every tensor of checkpoint k holds the value k, so a file whose
#: weights disagree with its manifest (a torn write) is detectable
WRITER = """
import sys, torch
from pathlib import Path
from torch import nn
from core.training.checkpoint import save_checkpoint
path, step = Path(sys.argv[1]), int(sys.argv[2])
model = nn.Linear(1024, 1024)
optimizer = torch.optim.AdamW(model.parameters())
model(torch.ones(1, 1024)).sum().backward(); optimizer.step()
while True:
    with torch.no_grad():
        for tensor in [*model.parameters(), *optimizer.state[model.weight].values()]:
            tensor.fill_(step)
    save_checkpoint(path, {"stage": "kill", "step": step}, model, model, optimizer)
    print(step, flush=True)
    step += 1
"""


def test_sigkill_during_checkpoint_writes_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "checkpoints" / "kill_last.safetensors"
    rng, step = random.Random(0), 0
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(step)], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        writer.stdout.readline()  # at least one checkpoint of this writer exists
        time.sleep(rng.uniform(0.0, 0.6))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        checkpoint = load_checkpoint(path)
        loaded = checkpoint.manifest["step"]
        assert loaded >= step
        assert all(torch.all(t == loaded) for name, t in checkpoint.tensors.items() if name.endswith("weight"))
        assert torch.all(checkpoint.tensors["optim.0.exp_avg"] == loaded)
        step = loaded + 1
