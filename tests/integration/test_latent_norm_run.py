"""A run trained with ``--latent-norm element``: its statistics reach the checkpoint, sampling and editing read them,
and a checkpoint whose statistics do not fit is refused in one line."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.jobs.train import TrainJob
from core.training import RunSpec, load_checkpoint, load_trained
from core.training.checkpoint import checkpoint_path, write_checkpoint

pytestmark = pytest.mark.slow
H5 = "modelnet10_pointclouds_1024/modelnet10_pcd1024_train.h5"


@pytest.fixture(scope="module")
def element_run(shared_data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("latent_norm") / "run"
    spec = RunSpec(data=str(shared_data / H5), representation="points", classes=["chair", "sofa"], cond="class",
                   preset="tiny", ae_steps=20, ldm_steps=6, n_points=256, batch_size=4, max_shapes=40,
                   latent_norm="element")
    assert TrainJob(run, spec).run() is not None
    return run


def test_the_checkpoint_holds_per_element_statistics_of_the_latent_shape(element_run):
    run = load_trained(element_run)
    data = load_checkpoint(checkpoint_path(element_run, "ldm")).manifest["data"]
    assert data["latent_norm"] == "element"
    assert np.array(data["latent_shift"]).shape == tuple(run.autoencoder.latent_shape)
    assert run.latent_norm.mode == "element" and run.config.latent_norm == "element"


def test_the_training_latents_reach_the_denoiser_standardised(element_run):
    """The run's own training shapes, encoded and normalised, have each element at mean 0 and std 1 (what the
    denoiser trained on), and the pipeline's decode turns normalised latents back into the autoencoder's own
    reconstructions."""
    from core.training.run import load_training_data

    run = load_trained(element_run)
    shapes = load_training_data(run.config, run.representation).train[0]
    with torch.inference_mode():
        latents = run.autoencoder.encode(run.representation.model_input(shapes))
        normalised = run.latent_norm.normalize(latents)
        assert normalised.mean(0).abs().max() < 1e-3 and (normalised.std(0) - 1).abs().max() < 1e-3
        assert torch.allclose(run.pipeline().decode(normalised), run.autoencoder.decode(latents), atol=1e-4)


def test_sampling_an_element_normalised_run_gives_finite_shapes(element_run, tmp_path, core_cli):
    result = core_cli("sample", str(element_run), "--n", "2", "--class", "chair", "--steps", "3", "--seed", "1",
                  "--format", "npy", "--out", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    samples = np.load(tmp_path / "s" / "samples.npy")
    assert samples.shape == (2, 256, 3) and np.isfinite(samples).all()


def test_statistics_that_do_not_fit_the_latent_are_one_line_exit_2(element_run, tmp_path, core_cli):
    broken = tmp_path / "broken"
    shutil.copytree(element_run, broken)
    path = checkpoint_path(broken, "ldm")
    checkpoint = load_checkpoint(path)
    manifest = checkpoint.manifest
    manifest["data"] = {**manifest["data"], "latent_shift": manifest["data"]["latent_shift"][:-1]}
    write_checkpoint(path, manifest, checkpoint.tensors)
    result = core_cli("sample", str(broken), "--n", "1", "--class", "chair", "--steps", "2", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ldm_last.safetensors" in lines[0] and "latent statistics" in lines[0]
    assert not (tmp_path / "o").exists()


def test_an_unknown_latent_norm_is_refused_before_any_work(tmp_path, core_cli):
    result = core_cli("train", "--data", "builtin:primitives", "--repr", "points", "--latent-norm", "channel",
                  "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "--latent-norm" in result.stderr
    assert not (tmp_path / "run").exists()
