"""``interpolate``, ``vary`` and ``complete`` on the built-in models and real ModelNet10 chairs."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch

from core.cli import main
from core.jobs.edit import CompleteJob, InterpolateJob, VaryJob
from core.jobs.edit_inputs import Cut
from core.metrics.distances import chamfer_distance, nearest_squared_distances

#: far from the unit sphere, so a result in the wrong frame cannot pass
OFFSET, SCALE = np.array([5.0, -3.0, 2.0]), 4.0
FAST = {"class_name": "chair", "steps": 6, "fmt": "npy"}


@pytest.fixture(scope="module")
def chairs(shared_data) -> np.ndarray:
    """Two ModelNet10 test chairs, moved and scaled away from the unit sphere."""
    folder = shared_data / "modelnet10_pointclouds_1024"
    names = (folder / "shape_names.txt").read_text().split()
    with h5py.File(folder / "modelnet10_pcd1024_test.h5") as file:
        rows = np.flatnonzero(file["label"][:, 0] == names.index("chair"))[:2]
        clouds = file["data"][rows].astype(np.float64)
    centred = clouds - (clouds.min(axis=1, keepdims=True) + clouds.max(axis=1, keepdims=True)) / 2
    unit = centred / np.linalg.norm(centred, axis=2).max(axis=1)[:, None, None]
    return (unit * SCALE + OFFSET).astype(np.float32)


@pytest.fixture
def files(tmp_path, chairs):
    """The chairs as point-cloud .npy files (P, 3), and the first one with its half x > centre cut away."""
    paths = {name: tmp_path / f"{name}.npy" for name in ("a", "b", "half")}
    np.save(paths["a"], chairs[0])
    np.save(paths["b"], chairs[1])
    np.save(paths["half"], chairs[0][chairs[0][:, 0] <= OFFSET[0]])
    return paths


def cd(a: np.ndarray, b: np.ndarray) -> float:
    """Chamfer distance of two clouds, in the unit-sphere scale of the model (our clouds are SCALE times it)."""
    return float(chamfer_distance(torch.from_numpy(a / SCALE).float()[None],
                                  torch.from_numpy(b / SCALE).float()[None])[0])


def test_interpolation_ends_are_the_reconstructions_in_each_input_frame(files, chairs, tmp_path):
    shapes = InterpolateJob("builtin:points", files["a"], files["b"], tmp_path / "out", n=5, **FAST).run()["shapes"]
    recon_a = cd(shapes[0].points, chairs[0])
    assert recon_a < 0.005 and cd(shapes[-1].points, chairs[1]) < 0.005
    assert cd(shapes[0].points, chairs[1]) > 2 * recon_a  # A's end is A, not B
    middle = cd(shapes[2].points, chairs[0]), cd(shapes[2].points, chairs[1])
    assert min(middle) > recon_a  # the middle shape is neither end


def test_vary_strength_moves_away_from_the_reconstruction(files, chairs, tmp_path):
    recon = InterpolateJob("builtin:points", files["a"], files["a"], tmp_path / "r", n=2, **FAST).run()["shapes"][0]
    near = VaryJob("builtin:points", files["a"], 0.05, tmp_path / "near", n=3, **FAST).run()["shapes"]
    far = VaryJob("builtin:points", files["a"], 0.9, tmp_path / "far", n=3, **FAST).run()["shapes"]
    near_cd = np.mean([cd(s.points, recon.points) for s in near])
    far_cd = np.mean([cd(s.points, recon.points) for s in far])
    assert near_cd < 0.002 and far_cd > 4 * near_cd
    assert all(cd(s.points, chairs[0]) < 0.01 for s in near)  # in the input's frame


def test_completion_keeps_the_kept_half_where_it_was(files, chairs, tmp_path):
    kept = np.load(files["half"])
    shapes = CompleteJob("builtin:points", files["half"], tmp_path / "out", n=2, **FAST).run()["shapes"]
    for shape in shapes:
        to_output = nearest_squared_distances(torch.from_numpy(kept / SCALE).float()[None],
                                              torch.from_numpy(shape.points / SCALE).float()[None])[0]
        assert float(to_output.mean()) < 0.005
        assert shape.points[:, 0].max() > OFFSET[0] + 0.3 * SCALE  # it filled in the missing half


def test_cli_writes_as_sample_does_and_records_the_request(files, tmp_path, capsys):
    out = tmp_path / "vary"
    assert main(["vary", "builtin:points", str(files["a"]), "--strength", "0.3", "--n", "2", "--class", "chair",
                 "--steps", "4", "--format", "ply", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["sample_000.ply", "sample_001.ply", "samples.json",
                                                      "samples.npy"]
    request = json.loads((out / "samples.json").read_text())
    assert request["job"] == "vary" and request["strength"] == 0.3 and request["class"] == "chair"
    assert np.load(out / "samples.npy").shape == (2, 1024, 3)
    assert np.abs(np.load(out / "samples.npy").mean(axis=(0, 1)) - OFFSET).max() < 0.5 * SCALE


@pytest.mark.parametrize("argv, problem", [
    (["vary", "builtin:points", "{a}", "--strength", "0", "--out", "{out}"], "(0, 1]"),
    (["complete", "builtin:points", "{missing}", "--out", "{out}"], "no such shape file"),
    (["interpolate", "builtin:points", "{a}", "{a}", "--n", "1", "--out", "{out}"], "at least its two ends"),
    (["complete", "builtin:points", "{a}", "--cut", "w>0", "--out", "{out}"], "AXIS>OFFSET"),
])
def test_bad_input_is_one_line_and_exit_2(files, tmp_path, capsys, argv, problem):
    names = {"a": files["a"], "missing": tmp_path / "nope.ply", "out": tmp_path / "out"}
    assert main([word.format(**names) for word in argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("model", ["builtin:voxels", "builtin:splats"])
def test_grid_models_edit_in_the_input_frame(files, chairs, tmp_path, model):
    from core.jobs.edit_inputs import surface_points

    shape = VaryJob(model, files["a"], 0.2, tmp_path / "out", n=1, **{**FAST, "steps": 3}).run()["shapes"][0]
    written = json.loads((tmp_path / "out" / "samples.json").read_text())
    assert (written.get("occupancy_logit") is not None) == (model == "builtin:voxels")  # how its cells were read
    points = surface_points(shape)
    low, high = chairs[0].min(axis=0), chairs[0].max(axis=0)
    assert np.abs((points.min(axis=0) + points.max(axis=0)) / 2 - (low + high) / 2).max() < 0.15 * SCALE
    assert abs(np.ptp(points, axis=0).max() / np.ptp(chairs[0], axis=0).max() - 1) < 0.15


@pytest.mark.parametrize("model", ["builtin:voxels", "builtin:splats"])
def test_completion_told_the_cut_matches_the_kept_half_and_fills_the_other(files, chairs, tmp_path, model):
    from core.jobs.edit_inputs import surface_points

    kept = np.load(files["half"])
    told, untold = (surface_points(CompleteJob(model, files["half"], tmp_path / str(cut), n=1, cut=cut,
                                               **{**FAST, "steps": 4}).run()["shapes"][0])
                    for cut in (Cut.parse(f"x>{OFFSET[0]}"), None))

    def off_the_partial(points: np.ndarray) -> float:
        """How far the output's points on the kept side lie from the partial shape."""
        return one_sided(points[points[:, 0] <= OFFSET[0]], kept)

    assert one_sided(kept, told) < 0.002  # covers the partial shape
    assert off_the_partial(told) < off_the_partial(untold) / 3  # and adds nothing beside it (coverage alone does)
    assert told[:, 0].max() > OFFSET[0] + 0.3 * SCALE  # the missing half is filled in


def test_cli_complete_passes_the_cut_and_records_it(files, tmp_path):
    out = tmp_path / "out"
    assert main(["complete", "builtin:points", str(files["half"]), "--cut", f"x>{OFFSET[0]}", "--n", "1",
                 "--class", "chair", "--steps", "2", "--out", str(out)]) == 0
    assert json.loads((out / "samples.json").read_text())["cut"] == f"x>{OFFSET[0]:g}"


def one_sided(points: np.ndarray, to: np.ndarray) -> float:
    """Mean squared distance from ``points`` to their nearest in ``to``, in the model's unit-sphere scale."""
    return float(nearest_squared_distances(torch.from_numpy(points / SCALE).float()[None],
                                           torch.from_numpy(to / SCALE).float()[None])[0].mean())
