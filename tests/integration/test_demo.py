"""A tiny real run exported as a built-in model: it samples like the run, ``builtin:NAME`` works in the
CLI, and the demo samples, writes and renders it (into a temporary resources folder)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli import main
from core.io import read_point_cloud
from core.jobs import Done, Log
from core.jobs.demo import DemoJob
from core.jobs.export_builtin import ExportBuiltinJob
from core.jobs.sample import SampleJob
from core.resources import RESOURCES_ENV
from core.training import RunSpec, load_checkpoint, train_run

pytestmark = pytest.mark.slow
H5 = "modelnet10_pointclouds_1024/modelnet10_pcd1024_train.h5"


@pytest.fixture(scope="module")
def tiny_run(shared_data, tmp_path_factory):
    """A class-conditioned points run on chairs and sofas, a few steps of each stage."""
    run = tmp_path_factory.mktemp("tiny") / "run"
    train_run(run, RunSpec(data=str(shared_data / H5), representation="points", classes=["chair", "sofa"],
                           cond="class", preset="tiny", ae_steps=6, ldm_steps=6, n_points=256, batch_size=4,
                           max_shapes=40))
    return run


@pytest.fixture(scope="module")
def resources(tiny_run, tmp_path_factory):
    """A resources folder holding the run exported as builtin:points (float16) and builtin:exact (float32)."""
    folder = tmp_path_factory.mktemp("resources")
    for name, dtype in (("points", "float16"), ("exact", "float32")):
        events = []
        ExportBuiltinJob(tiny_run, name, folder / "pretrained", dtype=dtype, command="python -m core train …",
                         hardware="test machine").run(events.append)
        assert isinstance(events[-1], Done), events[-1]
    return folder


def _samples(run, out, **options) -> np.ndarray:
    return SampleJob(run, 3, out, class_name="chair", seed=5, fmt="npy", previews=False, **options).run().array


def test_export_keeps_only_ema_weights_and_samples_like_the_run(tiny_run, resources, tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(resources))
    pretrained = resources / "pretrained"
    for stage in ("ae", "ldm"):
        exported = load_checkpoint(pretrained / "points" / "checkpoints" / f"{stage}_last.safetensors")
        original = load_checkpoint(tiny_run / "checkpoints" / f"{stage}_last.safetensors")
        assert set(exported.tensors) == {k for k in original.tensors if k.startswith("ema.")}
        assert {t.dtype for t in exported.tensors.values()} == {torch.float16}
        assert "optimizer" not in exported.manifest and exported.manifest["weights_dtype"] == "float16"
        assert exported.manifest["model_config"] == original.manifest["model_config"]
    reference = _samples(tiny_run, tmp_path / "run")
    assert np.array_equal(_samples("builtin:exact", tmp_path / "exact"), reference)  # float32: the same bytes
    half = _samples("builtin:points", tmp_path / "half")
    assert not np.array_equal(half, reference) and np.abs(half - reference).max() < 2e-2

    manifest = json.loads((pretrained / "manifest.json").read_text())
    entry = manifest["models"]["points"]
    assert sorted(manifest["models"]) == ["exact", "points"]
    assert entry["classes"] == ["chair", "sofa"] and entry["representation"] == "points"
    assert entry["steps"] == {"ae": 6, "ldm": 6} and entry["hardware"] == "test machine"
    assert 0 < entry["export_check"]["max_abs_diff"] < 2e-2 and entry["metrics"] is None
    readme = (pretrained / "README.md").read_text()
    assert "`builtin:points`" in readme and "academic research use only" in readme


#: int4's steps are 18x int8's (7 levels per group, not 127 per row): its samples may drift further
@pytest.mark.parametrize("dtype, share_of_float16, max_drift", [("int8", 0.7, 0.05), ("int4", 0.45, 0.1)])
def test_an_integer_export_is_a_fraction_of_float16_and_samples_near_the_run(dtype, share_of_float16, max_drift,
                                                                             tiny_run, resources, tmp_path,
                                                                             monkeypatch):
    events = []
    ExportBuiltinJob(tiny_run, "compact", tmp_path / "pretrained", dtype=dtype, command="python -m core train …",
                     hardware="test machine").run(events.append)
    assert isinstance(events[-1], Done), events[-1]
    small_file = tmp_path / "pretrained" / "compact" / "checkpoints" / "ldm_last.safetensors"
    half_file = resources / "pretrained" / "points" / "checkpoints" / "ldm_last.safetensors"
    assert load_checkpoint(small_file).manifest["weights_dtype"] == dtype
    assert small_file.stat().st_size < share_of_float16 * half_file.stat().st_size
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    difference = np.abs(_samples("builtin:compact", tmp_path / "s") - _samples(tiny_run, tmp_path / "run"))
    assert 0 < difference.max() < max_drift, difference.max()


def test_the_autoencoder_may_keep_finer_weights_and_a_new_storage_drops_the_measured_quality(tiny_run, tmp_path):
    dest = tmp_path / "pretrained"
    ExportBuiltinJob(tiny_run, "mixed", dest, dtype="int8", command="python -m core train …").run()
    manifest_file = dest / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["models"]["mixed"]["metrics"] = {"chair (samples)": {"1-NNA-CD": 0.6}}
    manifest_file.write_text(json.dumps(manifest))
    ExportBuiltinJob(tiny_run, "mixed", dest, dtype="int8", command="python -m core train …").run()
    assert json.loads(manifest_file.read_text())["models"]["mixed"]["metrics"]  # the same weights: kept
    ExportBuiltinJob(tiny_run, "mixed", dest, dtype="int4", ae_dtype="int8", command="python -m core train …").run()
    checkpoints = dest / "mixed" / "checkpoints"
    assert load_checkpoint(checkpoints / "ae_last.safetensors").manifest["weights_dtype"] == "int8"
    assert load_checkpoint(checkpoints / "ldm_last.safetensors").manifest["weights_dtype"] == "int4"
    entry = json.loads(manifest_file.read_text())["models"]["mixed"]
    assert entry["weights_dtype"] == "int4" and entry["ae_weights_dtype"] == "int8"
    assert entry["metrics"] is None  # other weights: the figures measured on int8 no longer hold
    assert "| int4 (autoencoder int8), " in (dest / "README.md").read_text()


def test_cli_samples_a_builtin_model_and_names_the_known_ones(resources, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RESOURCES_ENV, str(resources))
    assert main(["sample", "builtin:points", "--class", "chair", "--n", "2", "--steps", "4", "--format", "ply",
                 "--out", str(tmp_path / "s")]) == 0
    assert len(read_point_cloud(tmp_path / "s" / "sample_001.ply").points) == 256
    capsys.readouterr()
    assert main(["sample", "builtin:voxels", "--n", "1", "--out", str(tmp_path / "v")]) == 2
    assert "builtin:exact, builtin:points" in capsys.readouterr().err


def test_eval_scores_a_builtin_model_without_writing_into_it(resources, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(resources))
    before = sorted(p.relative_to(resources) for p in resources.rglob("*"))
    ref = shared_data / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_test.h5"
    assert main(["eval", "builtin:points", "--ref", str(ref), "--class", "chair", "--n", "4", "--metrics", "cd",
                 "--json", str(tmp_path / "eval.json")]) == 0
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["samples"] == "builtin:points" and report["n_samples"] == 4 and "MMD-CD" in json.dumps(report)
    assert sorted(p.relative_to(resources) for p in resources.rglob("*")) == before


def test_demo_samples_the_installed_models_and_skips_the_missing(resources, tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(resources))
    events = []
    result = DemoJob(tmp_path / "demo", classes=("chair", "table"), n=2, steps=4, image_size=48).run(events.append)
    assert isinstance(events[-1], Done)
    logs = [e.message for e in events if isinstance(e, Log)]
    assert sum("builtin:voxels is not installed" in m for m in logs) == 1
    assert sum("builtin:splats is not installed" in m for m in logs) == 1
    assert any("no class table" in m for m in logs)
    assert result["models"] == ["points"] and "procedural" not in result
    clouds = sorted((tmp_path / "demo" / "points" / "chair").glob("sample_*.ply"))
    assert len(clouds) == 2 and np.load(tmp_path / "demo" / "points" / "chair" / "samples.npy").shape == (2, 256, 3)
    sheet = np.asarray(Image.open(result["sheet"]))
    assert sheet.shape[0] >= 48 and sheet.shape[1] >= 2 * 48 and (sheet < 200).any()
    assert set(result["timings"]) == {"builtin:points chair: sample 2 + write ply", "render contact sheet"}


def test_a_builtin_models_manifest_guidance_is_its_default_and_survives_a_re_export(tiny_run, tmp_path,
                                                                                   monkeypatch):
    pretrained = tmp_path / "pretrained"
    ExportBuiltinJob(tiny_run, "guided", pretrained, dtype="float32", guidance=0.5).run()
    ExportBuiltinJob(tiny_run, "guided", pretrained, dtype="float32").run()  # no --guidance: the manifest's is kept
    assert json.loads((pretrained / "manifest.json").read_text())["models"]["guided"]["guidance"] == 0.5
    assert "default guidance: 0.5" in (pretrained / "README.md").read_text()
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    default = _samples("builtin:guided", tmp_path / "default")
    assert json.loads((tmp_path / "default" / "samples.json").read_text())["guidance"] == 0.5
    assert np.array_equal(default, _samples("builtin:guided", tmp_path / "half", guidance=0.5))
    assert not np.array_equal(default, _samples("builtin:guided", tmp_path / "three", guidance=3.0))


def test_a_builtin_models_own_sampler_is_its_default_and_re_exports_carry_it(tiny_run, tmp_path, monkeypatch):
    pretrained = tmp_path / "pretrained"
    ExportBuiltinJob(tiny_run, "noisy", pretrained, dtype="float32", guidance=1.5, sampler="dpmpp_sde").run()
    ExportBuiltinJob(tiny_run, "noisy", pretrained, dtype="float32").run()  # no --sampler: the manifest's is kept
    assert json.loads((pretrained / "manifest.json").read_text())["models"]["noisy"]["sampler"] == "dpmpp_sde"
    assert "default sampler: dpmpp_sde" in (pretrained / "README.md").read_text()
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    default = _samples("builtin:noisy", tmp_path / "default")
    assert json.loads((tmp_path / "default" / "samples.json").read_text())["sampler"] == "dpmpp_sde"
    assert np.array_equal(default, _samples("builtin:noisy", tmp_path / "sde", sampler="dpmpp_sde"))
    assert not np.array_equal(default, _samples("builtin:noisy", tmp_path / "ode", sampler="dpmpp"))
    # into another folder, from the built-in model's own: its defaults go with it
    ExportBuiltinJob(pretrained / "noisy", "noisy", tmp_path / "elsewhere", dtype="int8").run()
    moved = json.loads((tmp_path / "elsewhere" / "manifest.json").read_text())["models"]["noisy"]
    assert (moved["sampler"], moved["guidance"]) == ("dpmpp_sde", 1.5)


def test_re_exporting_a_builtin_model_keeps_how_it_was_trained(tiny_run, tmp_path):
    shipped = tmp_path / "shipped"
    ExportBuiltinJob(tiny_run, "points", shipped, dtype="int8", command="python -m core train X",
                     hardware="the training machine").run()
    source = json.loads((shipped / "manifest.json").read_text())["models"]["points"]
    assert isinstance(source["train_seconds"]["ldm"], float)  # six tiny steps may round to 0.0 s
    events = []
    ExportBuiltinJob(shipped / "points", "points", tmp_path / "requantised", dtype="int4", ae_dtype="int8").run(
        events.append)
    assert isinstance(events[-1], Done), events[-1]
    entry = json.loads((tmp_path / "requantised" / "manifest.json").read_text())["models"]["points"]
    assert entry["weights_dtype"] == "int4" and entry["steps"] == source["steps"]
    assert {key: entry[key] for key in ("training_command", "train_seconds", "hardware")} == {
        "training_command": "python -m core train X", "train_seconds": source["train_seconds"],
        "hardware": "the training machine"}
