"""Train tiny points and voxels runs on real ModelNet10 chairs, then sample them through the CLI and jobs."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.choices import SAMPLERS
from core.cli import main
from core.jobs import CancelToken, Failed, Metric, Preview, Progress
from core.jobs.edit import CompleteJob
from core.jobs.edit_inputs import Cut
from core.jobs.sample import SampleJob
from core.jobs.train import TrainJob
from core.shapes import PointCloud, VoxelGrid
from core.training import RunSpec, load_checkpoint

pytestmark = pytest.mark.slow
H5 = "modelnet10_pointclouds_1024/modelnet10_pcd1024_train.h5"
AE_STEPS, LDM_STEPS = 6, 6
MAX_SHAPES = 40


def _spec(shared_data, representation: str, **extra) -> RunSpec:
    return RunSpec(data=str(shared_data / H5), representation=representation, classes=["chair", "sofa"],
                   cond="class", preset="tiny", ae_steps=AE_STEPS, ldm_steps=LDM_STEPS, n_points=256,
                   batch_size=4, max_shapes=MAX_SHAPES, **extra)


def _main(capsys, *args: str) -> tuple[int, str]:
    """The CLI's entry point in this process (fast): exit code and stderr."""
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _losses(run: Path) -> list[tuple]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["stage"], r["step"], r["epoch"], r["loss"], r.get("val_loss")) for r in records]


@pytest.fixture(scope="module")
def points_run(shared_data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("points") / "run"
    events = []
    assert TrainJob(run, _spec(shared_data, "points")).run(events.append) is not None
    assert any(isinstance(e, Metric) and e.stage == "ldm" for e in events)
    return run


@pytest.fixture(scope="module")
def voxels_run(shared_data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("voxels") / "run"
    assert TrainJob(run, _spec(shared_data, "voxels")).run() is not None
    return run


def test_run_folder_layout(points_run):
    config = json.loads((points_run / "config.json").read_text())
    assert config["classes"] == ["chair", "sofa"] and config["schedule"]["prediction_type"] == "epsilon"
    for stage in ("ae", "ldm"):
        manifest = load_checkpoint(points_run / "checkpoints" / f"{stage}_last.safetensors").manifest
        assert manifest["step"] == AE_STEPS and manifest["representation"] == "points"
    data = load_checkpoint(points_run / "checkpoints" / "ldm_last.safetensors").manifest["data"]
    assert data["scale_factor"] > 0 and data["classes"] == ["chair", "sofa"]
    assert {r[0] for r in _losses(points_run)} == {"ae", "ldm"}


def test_cli_sample_twice_gives_identical_finite_arrays(points_run, tmp_path, core_cli):
    outputs = []
    for name in ("a", "b"):
        result = core_cli("sample", str(points_run), "--n", "3", "--class", "chair", "--guidance", "3", "--steps",
                          "4", "--sampler", "dpmpp", "--seed", "7", "--format", "npy", "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        outputs.append((tmp_path / name / "samples.npy").read_bytes())
    assert outputs[0] == outputs[1]
    array = np.load(tmp_path / "a" / "samples.npy")
    assert array.shape == (3, 256, 3) and array.dtype == np.float32 and np.isfinite(array).all()


def test_sample_job_emits_previews_and_writes_ply(points_run, tmp_path):
    from core.io import read_point_cloud

    events = []
    result = SampleJob(points_run, 2, tmp_path, class_name="sofa", steps=4, sampler="euler", seed=1,
                       preview_every=2).run(events.append)
    previews = [e for e in events if isinstance(e, Preview)]
    assert [p.step for p in previews] == [2, 4]
    assert all(isinstance(s, PointCloud) and len(s) == 256 for s in previews[-1].shapes)
    ply = [Path(p) for p in result.paths if p.endswith(".ply")]
    assert len(ply) == 2 and np.allclose(read_point_cloud(ply[0]).points, result.array[0])


def test_voxels_sample_writes_uint8_grids_and_meshes(voxels_run, tmp_path):
    result = SampleJob(voxels_run, 2, tmp_path, class_name="chair", steps=3, sampler="ddim", seed=2).run()
    array = np.load(tmp_path / "samples.npy")
    assert array.dtype == np.uint8 and array.shape == (2, 32, 32, 32)
    assert all(isinstance(s, VoxelGrid) for s in result.shapes)
    assert all(Path(p).suffix in (".npy", ".obj", ".json") for p in result.paths)


def test_a_token_latent_voxel_run_trains_a_dit_and_samples_grids(shared_data, tmp_path):
    """--ae-latent tokens end to end: the autoencoder's latent is (K, C) tokens, the saved denoiser is the DiT
    over them, and sampling (with previews) decodes them back into voxel grids."""
    run = tmp_path / "run"
    assert TrainJob(run, _spec(shared_data, "voxels", ae_latent="tokens")).run() is not None
    config = json.loads((run / "config.json").read_text())
    assert config["autoencoder"]["latent_layout"] == "tokens" and len(config["denoiser"]["latent_shape"]) == 2
    events = []
    result = SampleJob(run, 2, tmp_path / "out", class_name="chair", steps=4, seed=0, preview_every=2).run(
        events.append)
    assert np.load(tmp_path / "out" / "samples.npy").shape == (2, 32, 32, 32)
    assert all(isinstance(s, VoxelGrid) for s in result.shapes)
    assert all(isinstance(s, VoxelGrid) for e in events if isinstance(e, Preview) for s in e.shapes)
    # completion told the cut: a token latent has no latent cells to keep, only the decoded agreement guides it
    cloud = result.shapes[0].centers()
    np.save(tmp_path / "half.npy", cloud[cloud[:, 0] <= 0].astype(np.float32))
    completed = CompleteJob(run, tmp_path / "half.npy", tmp_path / "done", n=1, cut=Cut.parse("x>0"),
                            class_name="chair", steps=2, fmt="npy").run()
    assert np.load(tmp_path / "done" / "samples.npy").shape == (1, 32, 32, 32)
    assert isinstance(completed["shapes"][0], VoxelGrid)


def test_a_zero_terminal_snr_run_samples_finite_shapes_with_every_sampler(shared_data, tmp_path):
    """--zero-terminal-snr: the run's schedule ends in pure noise, and every sampler (the built-in DPM-Solver++
    and diffusers' others, whose ᾱ_T is 0 or 2⁻²⁴) and every preview of the x0 estimate stays finite there."""
    run = tmp_path / "run"
    assert TrainJob(run, _spec(shared_data, "points", prediction="v", zero_terminal_snr=True)).run() is not None
    assert json.loads((run / "config.json").read_text())["schedule"]["rescale_betas_zero_snr"] is True
    for sampler in SAMPLERS:
        events = []
        result = SampleJob(run, 2, tmp_path / sampler, class_name="chair", steps=4, sampler=sampler, seed=0,
                           preview_every=1).run(events.append)
        assert np.isfinite(np.load(tmp_path / sampler / "samples.npy")).all() and len(result.shapes) == 2
        previews = [s.points for e in events if isinstance(e, Preview) for s in e.shapes]
        assert len(previews) == 4 * 2 and all(np.isfinite(p).all() for p in previews), sampler


def test_unknown_class_exits_2_listing_the_valid_ones(points_run, tmp_path, capsys):
    code, err = _main(capsys, "sample", str(points_run), "--n", "1", "--class", "bathtub", "--out", str(tmp_path / "s"))
    assert code == 2 and "no class 'bathtub'" in err and "chair, sofa" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("damage", ["other_representation", "truncated"])
def test_bad_checkpoint_exits_2_and_changes_nothing(points_run, voxels_run, tmp_path, damage, capsys):
    run = tmp_path / "run"
    shutil.copytree(points_run, run)
    target = run / "checkpoints" / "ldm_last.safetensors"
    if damage == "other_representation":
        shutil.copy(voxels_run / "checkpoints" / "ldm_last.safetensors", target)
    else:
        target.write_bytes(target.read_bytes()[:-1000])
    before = _tree_digest(run)
    code, err = _main(capsys, "sample", str(run), "--n", "1", "--class", "chair", "--out", str(tmp_path / "s"))
    assert code == 2 and "ldm_last.safetensors" in err, err
    code, err = _main(capsys, "train", "--out", str(run), "--resume")
    assert code == 2 and "ldm_last.safetensors" in err, err
    assert _tree_digest(run) == before and not (tmp_path / "s").exists()


def test_unsupported_and_conflicting_requests_exit_2(points_run, shared_data, tmp_path, capsys):
    data = str(shared_data / H5)
    for args, message in ((("--classes", "chair,boat", "--out", str(tmp_path / "a")), "unknown class 'boat'"),
                          (("--out", str(points_run)), "--resume"),
                          (("--denoiser-depth", "0", "--out", str(tmp_path / "d")),
                           "--denoiser-depth: must be a positive integer, got 0")):
        code, err = _main(capsys, "train", "--data", data, *args)
        assert code == 2 and message in err, err
    assert not (tmp_path / "a").exists() and not (tmp_path / "d").exists()


def test_resume_after_cancel_retraces_the_uninterrupted_run(points_run, shared_data, tmp_path):
    run = tmp_path / "run"
    for stage, step in (("ae", 2), ("ldm", 4)):
        cancel = CancelToken()
        stop = lambda e, s=stage, k=step: isinstance(e, Progress) and (e.message, e.done) == (s, k) and cancel.cancel()
        events = []
        job = TrainJob(run, _spec(shared_data, "points") if stage == "ae" else None)
        assert job.run(lambda e: (events.append(e), stop(e)), cancel) is None
        assert isinstance(events[-1], Failed) and events[-1].cancelled
        assert load_checkpoint(run / "checkpoints" / f"{stage}_last.safetensors").manifest["step"] == step
    TrainJob(run).run()
    assert _losses(run) == _losses(points_run)
    a = load_checkpoint(run / "checkpoints" / "ldm_last.safetensors").tensors
    b = load_checkpoint(points_run / "checkpoints" / "ldm_last.safetensors").tensors
    assert all(torch.equal(a[k], b[k]) for k in b)


def test_cancelled_sampling_stops_within_a_step_and_writes_nothing(points_run, tmp_path):
    cancel, events = CancelToken(), []
    stop = lambda e: isinstance(e, Progress) and e.done == 1 and cancel.cancel()
    job = SampleJob(points_run, 2, tmp_path / "s", class_name="chair", steps=6, sampler="ddim", preview_every=1)
    assert job.run(lambda e: (events.append(e), stop(e)), cancel) is None
    assert isinstance(events[-1], Failed) and events[-1].cancelled
    assert max(e.done for e in events if isinstance(e, Progress)) == 1 and not (tmp_path / "s").exists()
