"""The eval command and job on real ModelNet10 shapes: oracle vs noise separation, bad input, resampling."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import main
from core.data import open_dataset
from core.errors import InputError
from core.jobs import CancelToken, Log
from core.jobs.evaluate import EvalJob
from core.metrics.evaluation import point_set_metrics
from core.metrics.normalisation import normalise_clouds

POINTS = 128  # small clouds keep the pairwise matrices cheap; the separation shows at any size


def _modelnet(shared_data):
    return shared_data / "modelnet10_pointclouds_1024"


def _main(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def test_oracle_beats_noise_on_real_chairs(shared_data):
    chairs = open_dataset(_modelnet(shared_data)).subset(classes=["chair"])
    train = chairs.subset(split="train").points(n_points=POINTS)[:24]
    test = chairs.subset(split="test").points(n_points=POINTS)[:24]
    noise = np.random.default_rng(0).standard_normal((24, POINTS, 3)).astype(np.float32)

    def score(samples: np.ndarray) -> dict:
        return point_set_metrics(torch.from_numpy(normalise_clouds(samples)), torch.from_numpy(normalise_clouds(test)),
                                 ("cd",)).scores

    oracle, garbage = score(train), score(noise)
    assert oracle["1-NNA-CD"] < 0.7 < 0.95 < garbage["1-NNA-CD"]
    assert oracle["MMD-CD"] < garbage["MMD-CD"] and oracle["COV-CD"] > garbage["COV-CD"]


def test_cli_writes_the_json_contract_and_resamples_with_a_note(shared_data, tmp_path, capsys):
    samples = open_dataset(_modelnet(shared_data)).subset(classes=["bathtub"], split="train").points(n_points=96)[:6]
    np.save(tmp_path / "s.npy", samples)
    out = tmp_path / "o.json"
    code, err = _main(capsys, "eval", str(tmp_path / "s.npy"), "--ref", str(_modelnet(shared_data)), "--class",
                      "bathtub", "--points", str(POINTS), "--metrics", "cd,jsd", "--json", str(out))
    assert code == 0
    assert "resampled 96 to 128" in err
    report = json.loads(out.read_text())
    assert set(report["metrics"]) == {"MMD-CD", "COV-CD", "1-NNA-CD", "JSD"}
    assert report["n_samples"] == 6 and report["n_ref"] == 50 and report["points"] == POINTS
    assert report["normalisation"] == "bbox" and report["seed"] == 0 and report["seconds"] >= 0


def test_job_reports_resampling_as_a_log_event(shared_data, tmp_path):
    np.save(tmp_path / "s.npy", np.random.default_rng(1).random((3, 40, 3)).astype(np.float32))
    events = []
    result = EvalJob(tmp_path / "s.npy", _modelnet(shared_data), class_name="bathtub", metrics=("jsd",),
                     points=64).run(events.append)
    assert result.metrics["JSD"] > 0
    assert any(isinstance(e, Log) and "resampled 40 to 64" in e.message for e in events)


@pytest.mark.parametrize("array, problem", [
    (np.full((2, 16, 3), np.nan, dtype=np.float32), "NaN"),
    (np.zeros((2, 16, 4), dtype=np.float32), "expected points (N,P,3), voxels (N,R,R,R) or splat grids"),
    (np.zeros((0, 16, 3), dtype=np.float32), "empty sample set"),
])
def test_bad_samples_exit_2_with_one_line(shared_data, tmp_path, capsys, array, problem):
    np.save(tmp_path / "bad.npy", array)
    code, err = _main(capsys, "eval", str(tmp_path / "bad.npy"), "--ref", str(_modelnet(shared_data)),
                      "--class", "bathtub", "--json", str(tmp_path / "o.json"))
    assert code == 2
    assert problem in err and "bad.npy" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.json").exists()


def test_missing_samples_and_unknown_class_exit_2(shared_data, tmp_path, capsys):
    code, err = _main(capsys, "eval", str(tmp_path / "none.npy"), "--ref", str(_modelnet(shared_data)))
    assert code == 2 and "no such file" in err
    np.save(tmp_path / "s.npy", np.zeros((2, 8, 3), dtype=np.float32))
    code, err = _main(capsys, "eval", str(tmp_path / "s.npy"), "--ref", str(_modelnet(shared_data)), "--class", "spaceship")
    assert code == 2 and "spaceship" in err and len(err.strip().splitlines()) == 1


def test_shipped_classifier_recognises_real_chairs_in_eval(shared_data, tmp_path):
    classifier = Path(__file__).resolve().parents[2] / "resources" / "classifier"
    chairs = open_dataset(_modelnet(shared_data)).subset(classes=["chair"], split="test").points(n_points=POINTS)
    np.save(tmp_path / "chairs.npy", chairs[:12] * 3.0)  # any scale: the classifier normalises its input
    result = EvalJob(tmp_path / "chairs.npy", _modelnet(shared_data), class_name="chair", metrics=("jsd",),
                     classifier=classifier).run()
    assert result.metrics["class-accuracy"] >= 0.8
    with pytest.raises(InputError, match="needs --class"):
        EvalJob(tmp_path / "chairs.npy", _modelnet(shared_data), metrics=("jsd",), classifier=classifier).execute(
            lambda e: None, CancelToken())


def test_empty_voxel_grids_exit_2(shared_data, tmp_path, capsys):
    grids = np.zeros((3, 8, 8, 8), dtype=np.uint8)
    grids[0, 2:4, 2:4, 2:4] = 1
    np.save(tmp_path / "vox.npy", grids)
    code, err = _main(capsys, "eval", str(tmp_path / "vox.npy"), "--ref", str(_modelnet(shared_data)),
                      "--class", "bathtub")
    assert code == 2 and "2 empty voxel grid(s) (first: index 1)" in err


def test_resampled_copies_stay_one_shape(shared_data, tmp_path):
    chair = open_dataset(_modelnet(shared_data)).subset(classes=["bathtub"], split="train").points(n_points=96)[:1]
    np.save(tmp_path / "collapsed.npy", np.repeat(chair, 40, axis=0))
    events = []
    result = EvalJob(tmp_path / "collapsed.npy", _modelnet(shared_data), class_name="bathtub", metrics=("cd",),
                     points=64).run(events.append)
    assert any(isinstance(e, Log) and "resampled 96 to 64" in e.message for e in events)
    assert result.metrics["COV-CD"] == pytest.approx(1 / 50)  # 40 copies, one shape: one reference covered


def test_nearest_distances_and_reference_cap_are_in_the_json(shared_data, tmp_path):
    data = open_dataset(_modelnet(shared_data)).subset(classes=["bathtub"], split="train").points(n_points=64)
    np.save(tmp_path / "s.npy", data[:5])
    job = lambda cap, seed=0: EvalJob(tmp_path / "s.npy", _modelnet(shared_data), class_name="bathtub",  # noqa: E731
                                      metrics=("cd",), n_ref=cap, seed=seed).run()
    capped, other_seed, whole = job(20), job(20, seed=1), job(None)
    assert capped.n_ref == 20 and capped.n_ref_cap == 20 and whole.n_ref == 50
    nearest = capped.nearest["CD"]
    assert len(nearest) == 5 and min(nearest) > 0
    # a cap only removes references, so every sample's nearest one can only be as near or farther
    assert all(c >= w - 1e-9 for c, w in zip(nearest, whole.nearest["CD"]))
    assert capped.nearest["CD"] == job(20).nearest["CD"] != other_seed.nearest["CD"]


def test_voxel_eval_uses_the_distance_transform_chamfer_and_reports_nearest(shared_data, tmp_path):
    chairs = shared_data / "modelnet10_voxels32" / "chair.npy.gz"
    grids = open_dataset(chairs).voxels(resolution=32)
    np.save(tmp_path / "vox.npy", grids[:4])
    result = EvalJob(tmp_path / "vox.npy", chairs, split="all", metrics=("cd", "iou"), n_ref=30).run()
    assert result.representation == "voxels" and result.n_ref == 30
    assert set(result.nearest) == {"CD", "IoU"} and len(result.nearest["IoU"]) == 4
    assert 0 <= min(result.nearest["IoU"]) and max(result.nearest["IoU"]) < 1


def test_voxel_eval_reports_floaters_and_one_piece_that_a_floating_piece_breaks(shared_data, tmp_path):
    chairs = shared_data / "modelnet10_voxels32" / "chair.npy.gz"
    grids = open_dataset(chairs).voxels(resolution=32)[:6].astype(np.uint8)
    broken = grids.copy()
    broken[:, 0, 0, 0] = 1  # a one-voxel floater in the corner (the shapes keep a one-cell margin)
    for name, array in (("whole", grids), ("broken", broken)):
        np.save(tmp_path / f"{name}.npy", array)
    score = lambda name: EvalJob(tmp_path / f"{name}.npy", chairs, split="all", metrics=("iou",),  # noqa: E731
                                 n_ref=10).run()
    whole, cracked = score("whole"), score("broken")
    assert whole.metrics["one_piece"] > 0 and cracked.metrics["one_piece"] == 0
    assert cracked.metrics["floaters"] > whole.metrics["floaters"]
    pieces = cracked.fragments
    assert pieces["resolution"] == 32 and len(pieces["components"]) == 6
    assert all(b == w + 1 for b, w in zip(pieces["components"], whole.fragments["components"]))


def test_splat_grids_are_scored_as_points_drawn_on_their_gaussians(shared_data, tmp_path, capsys):
    from core.data.splat_grid import unpack

    ref = _modelnet(shared_data)
    toilets = open_dataset(ref).subset(classes=["toilet"], split="train")
    grids = np.stack(unpack(toilets.splat_grids(resolution=16)[:4], 16))  # as `sample --format npy` writes them
    np.save(tmp_path / "splats.npy", grids)
    out = tmp_path / "o.json"
    code, _ = _main(capsys, "eval", str(tmp_path / "splats.npy"), "--ref", str(ref), "--class", "toilet",
                    "--metrics", "cd", "--points", str(POINTS), "--json", str(out))
    report = json.loads(out.read_text())
    assert code == 0 and report["representation"] == "splats" and report["points"] == POINTS
    assert {"MMD-CD", "COV-CD", "1-NNA-CD", "floaters", "one_piece"} <= set(report["metrics"])
    assert report["metrics"]["floaters"] < 0.05 and report["fragments"]["resolution"] == 16  # the grid's own


def test_oracle_in_another_representation_reports_its_pieces(shared_data, capsys, tmp_path):
    out = tmp_path / "o.json"
    code, _ = _main(capsys, "eval", "--oracle", "--repr", "voxels", "--ref", str(_modelnet(shared_data)),
                    "--class", "toilet", "--n", "8", "--metrics", "iou", "--json", str(out))
    report = json.loads(out.read_text())
    assert code == 0 and report["representation"] == "voxels" and report["n_samples"] == 8
    assert report["metrics"]["one_piece"] >= 0.5 and report["metrics"]["floaters"] < 0.05
    code, err = _main(capsys, "eval", "x.npy", "--repr", "voxels", "--ref", str(_modelnet(shared_data)))
    assert code == 2 and "--repr" in err and "--oracle" in err


def test_a_folder_of_meshes_is_scored_as_surface_points_with_its_pieces(shared_data, tmp_path):
    from core.io import read_mesh, write_mesh

    source = sorted((shared_data / "modelnet_off").rglob("*.off"))[:3]
    folder = tmp_path / "meshes"
    folder.mkdir()
    for path, suffix in zip(source, (".obj", ".glb", ".obj")):  # GLB as Shap-E and TRELLIS users export it
        write_mesh(read_mesh(path), folder / f"{path.stem}{suffix}")
    result = EvalJob(folder, _modelnet(shared_data), class_name="chair", metrics=("cd",), points=POINTS).run()
    assert result.representation == "mesh" and result.n_samples == 3 and result.points == POINTS
    assert 0 <= result.metrics["floaters"] <= 1 and len(result.fragments["components"]) == 3


def test_classifier_scores_voxel_samples_through_their_surface_points(shared_data, tmp_path):
    classifier = Path(__file__).resolve().parents[2] / "resources" / "classifier"
    test = open_dataset(_modelnet(shared_data)).subset(split="test")
    for name in ("chair", "monitor"):
        np.save(tmp_path / f"{name}.npy", test.subset(classes=[name]).voxels(resolution=32)[:10].astype(np.uint8))
    score = lambda name, claimed: EvalJob(tmp_path / f"{name}.npy", _modelnet(shared_data),  # noqa: E731
                                          class_name=claimed, metrics=("iou",), classifier=classifier,
                                          n_ref=10).run().metrics["class-accuracy"]
    assert score("chair", "chair") >= 0.7 and score("monitor", "monitor") >= 0.7
    assert score("monitor", "chair") <= 0.3  # a real score, not a constant
