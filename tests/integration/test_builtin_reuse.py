"""``train --ae-from builtin:points``: a new denoiser over the autoencoder that ships with the project."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.jobs.sample import SampleJob
from core.jobs.train import TrainJob
from core.training import RunSpec, load_checkpoint
from core.training.pretrained import pretrained_dir

pytestmark = pytest.mark.slow
H5 = "modelnet10_pointclouds_1024/modelnet10_pcd1024_train.h5"


def test_a_run_trains_a_denoiser_over_the_builtin_points_autoencoder(shared_data, tmp_path):
    run = tmp_path / "run"
    spec = RunSpec(data=str(shared_data / H5), representation="points", classes=["chair", "sofa"], cond="class",
                   preset="small", ldm_steps=3, max_shapes=16, batch_size=4, ae_from="builtin:points")
    assert TrainJob(run, spec).run() is not None

    config = json.loads((run / "config.json").read_text())
    assert config["autoencoder_from"]["run"] == str(pretrained_dir() / "points")
    shipped = load_checkpoint(pretrained_dir() / "points" / "checkpoints" / "ae_last.safetensors")
    assert not shipped.group("model")  # the export holds EMA weights only, in float16
    copied = load_checkpoint(run / "checkpoints" / "ae_last.safetensors")
    for group in ("model", "ema"):  # both restored from the EMA weights, as float32
        weights = copied.group(group)
        assert weights.keys() == shipped.group("ema").keys()
        assert all(weights[k].dtype == torch.float32 and weights[k].half().equal(v)
                   for k, v in shipped.group("ema").items())
    stages = {json.loads(line)["stage"] for line in (run / "metrics.jsonl").read_text().splitlines()}
    assert stages == {"ldm"}  # stage 1 trained nothing

    result = SampleJob(run, 2, tmp_path / "s", class_name="chair", steps=2, seed=0, fmt="npy").run()
    assert result.array.shape == (2, 1024, 3) and np.isfinite(result.array).all()
