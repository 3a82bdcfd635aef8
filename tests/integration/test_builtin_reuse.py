"""``train --ae-from builtin:points``: a new denoiser over the autoencoder that ships with the project."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.jobs.events import Failed
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
    shipped = load_checkpoint(pretrained_dir() / "points" / "checkpoints" / "ae_last.safetensors")
    assert config["autoencoder_from"] == {"run": "builtin:points", "step": shipped.manifest["step"]}  # no local path
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


def test_a_token_latent_builtin_is_reused_when_its_layout_is_named(shared_data, tmp_path):
    """builtin:voxels has a token latent: --ae-latent tokens builds the DiT over it; without it the run would
    build a grid latent's UNet, and the refusal names the layout that differs."""
    common = dict(data=str(shared_data / H5), representation="voxels", classes=["chair", "sofa"], cond="class",
                  preset="small", prediction="v", ldm_steps=2, max_shapes=8, batch_size=4, ae_from="builtin:voxels")
    events = []
    assert TrainJob(tmp_path / "grid", RunSpec(**common)).run(events.append) is None
    assert isinstance(events[-1], Failed) and events[-1].bad_input and "latent_layout 'tokens'" in events[-1].error
    run = tmp_path / "tokens"
    assert TrainJob(run, RunSpec(**common, ae_latent="tokens")).run() is not None
    config = json.loads((run / "config.json").read_text())
    assert config["autoencoder"]["latent_layout"] == "tokens" and config["denoiser"]["latent_shape"] == [32, 8]
    result = SampleJob(run, 2, tmp_path / "s", class_name="chair", steps=2, seed=0, fmt="npy").run()
    assert result.array.shape == (2, 32, 32, 32) and np.isfinite(result.array).all()
