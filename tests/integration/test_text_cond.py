"""Text conditioning end to end on real ModelNet10 chairs and sofas: train, sample with a prompt, reuse an AE."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.jobs.sample import SampleJob
from core.jobs.train import TrainJob
from core.models import text_encoder
from core.training import RunSpec, load_checkpoint, train_run

pytestmark = pytest.mark.slow
H5 = "modelnet10_pointclouds_1024/modelnet10_pcd1024_train.h5"
AE_STEPS, LDM_STEPS = 30, 30


def _spec(shared_data, **extra) -> RunSpec:
    values = {"data": str(shared_data / H5), "representation": "points", "classes": ["chair", "sofa"],
              "cond": "text", "preset": "tiny", "ae_steps": AE_STEPS, "ldm_steps": LDM_STEPS}
    return RunSpec(**{**values, **extra})


@pytest.fixture(scope="module")
def text_run(shared_data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("text") / "run"
    assert TrainJob(run, _spec(shared_data)).run() is not None
    return run


@pytest.fixture(scope="module")
def class_run_from_text_ae(shared_data, text_run, tmp_path_factory, core_cli) -> Path:
    """A class-conditioned run that starts from the text run's autoencoder, through the CLI."""
    run = tmp_path_factory.mktemp("reuse") / "run"
    result = core_cli("train", "--data", str(shared_data / H5), "--classes", "chair,sofa", "--repr", "points",
                      "--preset", "tiny", "--cond", "class", "--ldm-steps", "10", "--ae-from", str(text_run),
                      "--out", str(run))
    assert result.returncode == 0, result.stderr
    return run


def test_text_run_records_captions_and_a_text_denoiser(text_run):
    config = json.loads((text_run / "config.json").read_text())
    assert config["cond"] == "text" and config["denoiser"]["text_dim"] == 384
    assert "{a} 3D model of {a} {name}" in config["captions"]["templates"]
    assert load_checkpoint(text_run / "checkpoints" / "ldm_last.safetensors").manifest["step"] == LDM_STEPS


def test_prompt_sampling_is_seeded_and_follows_the_prompt(text_run, tmp_path):
    arrays = []
    for name, prompt, seed in (("a", "a wooden chair", 3), ("b", "a wooden chair", 3), ("c", "a sofa", 3)):
        SampleJob(text_run, 2, tmp_path / name, prompt=prompt, guidance=4, steps=4, seed=seed, fmt="npy").run()
        arrays.append(np.load(tmp_path / name / "samples.npy"))
    assert arrays[0].shape == (2, 512, 3) and np.isfinite(arrays[0]).all()
    assert np.array_equal(arrays[0], arrays[1]) and not np.allclose(arrays[0], arrays[2])
    request = json.loads((tmp_path / "a" / "samples.json").read_text())
    assert request["prompt"] == "a wooden chair" and request["guidance"] == 4 and request["class"] is None


def test_no_prompt_samples_the_null_prompt_without_loading_the_encoder(text_run, tmp_path, monkeypatch):
    def no_encoder():
        raise AssertionError("the text encoder was loaded without a prompt")

    monkeypatch.setattr(text_encoder, "text_encoder", no_encoder)
    result = SampleJob(text_run, 2, tmp_path / "null", steps=3, seed=1, fmt="npy").run()
    assert result is not None and np.isfinite(result.array).all()
    assert json.loads((tmp_path / "null" / "samples.json").read_text())["prompt"] is None


def test_class_on_a_text_run_and_prompt_on_a_class_run_exit_2_in_one_line(text_run, class_run_from_text_ae,
                                                                          tmp_path, core_cli):
    for run, option, value, hint in ((text_run, "--class", "chair", '--prompt "a chair"'),
                                     (class_run_from_text_ae, "--prompt", "a chair", "--class")):
        result = core_cli("sample", str(run), "--n", "1", option, value, "--out", str(tmp_path / "s"))
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert str(run) in lines[0] and hint in lines[0]
    assert not (tmp_path / "s").exists()


def test_ae_from_copies_the_trained_autoencoder_and_skips_stage_1(text_run, class_run_from_text_ae):
    config = json.loads((class_run_from_text_ae / "config.json").read_text())
    assert config["autoencoder_from"]["run"] == str(text_run.resolve()) and config["cond"] == "class"
    assert config["train"]["ae"]["steps"] == AE_STEPS
    source = load_checkpoint(text_run / "checkpoints" / "ae_last.safetensors")
    copied = load_checkpoint(class_run_from_text_ae / "checkpoints" / "ae_last.safetensors")
    assert all(copied.group("ema")[k].equal(v) for k, v in source.group("ema").items())
    stages = {json.loads(line)["stage"] for line in (class_run_from_text_ae / "metrics.jsonl").read_text().splitlines()}
    assert stages == {"ldm"}  # no autoencoder step was trained


@pytest.mark.parametrize("change, message", [({"n_points": 256}, "n_points 512 (this run: 256)"),
                                             ({"representation": "voxels"}, "representation 'points'")])
def test_ae_from_an_other_architecture_is_an_input_error(shared_data, text_run, tmp_path, change, message):
    with pytest.raises(InputError, match="does not fit this run") as error:
        train_run(tmp_path / "run", _spec(shared_data, ae_from=str(text_run), **change))
    assert message in str(error.value) and not (tmp_path / "run").exists()


def test_voxels_text_run_samples_a_prompt(shared_data, tmp_path):
    run = tmp_path / "run"
    spec = _spec(shared_data, data=str(shared_data / "modelnet10_voxels32"), classes=["chair", "monitor"],
                 representation="voxels", ae_steps=3, ldm_steps=3, max_shapes=16, batch_size=4)
    assert TrainJob(run, spec).run() is not None
    result = SampleJob(run, 1, tmp_path / "s", prompt="a monitor", guidance=4, steps=2, fmt="npy").run()
    assert result.array.shape == (1, 32, 32, 32) and result.array.dtype == np.uint8
    assert json.loads((tmp_path / "s" / "samples.json").read_text())["prompt"] == "a monitor"
