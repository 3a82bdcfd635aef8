"""open_dataset over small folders built here: labels from layout, subsets, representations, bad input."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from core.data import open_dataset
from core.data.builtin import make_shape
from core.data.grid_frame import GRID_MARGIN_CELLS
from core.data.representations import resample_index, unit_sphere
from core.errors import InputError
from core.io import write_array, write_mesh
from core.shapes import Normalization, PointCloud


def _modelnet_folder(root: Path) -> Path:
    """chair/{train,test} and table/train OFF files, in raw (un-normalised) units."""
    for name, split, index in [("chair", "train", 0), ("chair", "train", 1), ("chair", "test", 2),
                               ("table", "train", 0)]:
        mesh = make_shape(name, index)
        mesh.vertices = mesh.vertices * 100 + 7  # ModelNet-like units: the dataset must normalise
        write_mesh(mesh, root / "ModelNet" / name / split / f"{name}_{index:04d}.off")
    return root


def test_modelnet_layout_gives_classes_splits_and_labels(tmp_path):
    dataset = open_dataset(_modelnet_folder(tmp_path))
    assert dataset.representation == "mesh" and len(dataset) == 4
    assert dataset.classes == ["chair", "table"]
    assert sorted((r.class_name, r.split) for r in dataset.records) == [
        ("chair", "test"), ("chair", "train"), ("chair", "train"), ("table", "train")]
    train = dataset.subset(split="train")
    assert len(train) == 3 and train.labels().tolist() == [0, 0, 1]
    tables = dataset.subset(classes=["table"])
    assert tables.classes == ["table"] and tables.labels().tolist() == [0]
    assert dataset.subset(classes="chair,table", split="test").labels().tolist() == [0]


def test_flat_folder_is_unlabelled(tmp_path):
    write_mesh(make_shape("mug", 0), tmp_path / "a.obj")
    write_mesh(make_shape("lamp", 0), tmp_path / "b.stl")
    dataset = open_dataset(tmp_path)
    assert dataset.classes == ["unlabelled"] and [r.split for r in dataset.records] == ["all", "all"]
    assert open_dataset(tmp_path / "a.obj").summary()["count"] == 1


def test_points_are_centred_in_the_unit_sphere_and_match_get(tmp_path):
    dataset = open_dataset(_modelnet_folder(tmp_path))
    points = dataset.points(n_points=512, seed=1)
    assert points.shape == (4, 512, 3) and points.dtype == np.float32
    radius = np.linalg.norm(points, axis=2).max(axis=1)
    np.testing.assert_allclose(radius, 1.0, atol=1e-5)
    np.testing.assert_allclose((points.min(axis=1) + points.max(axis=1)) / 2, 0.0, atol=1e-5)
    np.testing.assert_array_equal(dataset.get(2, "points", n_points=512, seed=1).points, points[2])
    assert not np.array_equal(points[0], points[1])
    assert not np.array_equal(dataset.points(n_points=512, seed=2)[0], points[0])


def test_voxels_fit_the_bounding_box_inside_the_margin(tmp_path):
    dataset = open_dataset(_modelnet_folder(tmp_path)).subset(classes=["table"])
    resolution = 16
    grid = dataset.voxels(resolution=resolution)[0]
    occupied = np.argwhere(grid)
    low, high = occupied.min(axis=0), occupied.max(axis=0)
    assert low.min() >= GRID_MARGIN_CELLS and high.max() <= resolution - 1 - GRID_MARGIN_CELLS
    longest = int(np.argmax(high - low))
    assert low[longest] == GRID_MARGIN_CELLS and high[longest] == resolution - 1 - GRID_MARGIN_CELLS
    np.testing.assert_allclose((low + high) / 2, (resolution - 1) / 2, atol=1.0)  # centred
    np.testing.assert_array_equal(dataset.get(0, "voxels", resolution=resolution).occupancy, grid)


def test_every_representation_from_a_mesh_dataset(tmp_path):
    dataset = open_dataset(_modelnet_folder(tmp_path))
    splats = dataset.get(0, "splats", n=256)
    assert len(splats) == 256 and np.linalg.norm(splats.positions, axis=1).max() <= 1.0 + 1e-5
    mesh = dataset.get(0, "mesh")
    assert np.linalg.norm(mesh.vertices, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InputError, match="unknown representation"):
        dataset.get(0, "sdf")
    with pytest.raises(InputError, match="unknown parameter"):
        dataset.get(0, "points", resolution=8)


def test_resampling_uses_every_point_evenly():
    twice = resample_index(1024, 2048, seed=0)
    assert np.bincount(twice, minlength=1024).tolist() == [2] * 1024
    uneven = np.bincount(resample_index(100, 250, seed=0), minlength=100)
    assert set(uneven.tolist()) == {2, 3} and uneven.sum() == 250
    subset = resample_index(1024, 100, seed=0)
    assert len(np.unique(subset)) == 100
    assert not np.array_equal(resample_index(1024, 100, seed=1), subset)


def test_batched_unit_sphere_equals_the_shape_normalisation():
    rng = np.random.default_rng(0)
    clouds = rng.normal(size=(3, 50, 3)) * [1, 5, 2] + 40
    expected = [Normalization.unit_sphere(c).apply(c) for c in clouds]
    np.testing.assert_allclose(unit_sphere(clouds), expected, atol=1e-5)


def test_pointnet_file_and_resampling(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "toy_train.h5"
    with h5py.File(path, "w") as f:
        f["data"] = (rng.normal(size=(5, 64, 3)) * 30).astype(np.float32)
        f["label"] = np.array([[0], [1], [1], [0], [2]], dtype=np.uint8)
    (tmp_path / "shape_names.txt").write_text("cube\ncone\n")
    dataset = open_dataset(path)
    assert dataset.classes == ["cube", "cone", "class_2"] and dataset.labels().tolist() == [0, 1, 1, 0, 2]
    assert {r.split for r in dataset.records} == {"train"}
    points = dataset.points(n_points=100)
    assert points.shape == (5, 100, 3)
    np.testing.assert_array_equal(dataset.get(3, "points", n_points=100).points, points[3])
    # every original point survives the resampling to more points, only normalised
    original = PointCloud(dataset.load(3).points).normalized()[0].points
    assert set(map(tuple, original.round(4))) == set(map(tuple, points[3].round(4)))


def test_voxel_arrays_drop_and_report_empty_rows(tmp_path):
    grids = np.zeros((4, 1, 8, 8, 8))
    grids[1:, 0, 2:6, 2:6, 2:6] = 1.0
    grids[2, 0, 0, 0, 0] = 1.0
    write_array(grids, tmp_path / "crate.npy.gz")
    dataset = open_dataset(tmp_path)
    assert dataset.representation == "voxels" and dataset.classes == ["crate"] and len(dataset) == 3
    summary = dataset.summary()
    assert summary["resolution"] == 8 and summary["dropped"] == [
        {"source": str(tmp_path / "crate.npy.gz"), "row": 0, "reason": "all-empty grid"}]
    np.testing.assert_array_equal(dataset.voxels(8), grids[1:, 0] > 0.5)  # native grids stay as they are
    assert dataset.voxels(16).shape == (3, 16, 16, 16)


@pytest.mark.parametrize("make, problem", [
    (lambda root: root, "folder is empty"),
    (lambda root: (root / "notes.txt").write_text("hi") and root, "no shape files"),
    (lambda root: root / "missing", "no such file"),
])
def test_bad_paths_name_the_path(tmp_path, make, problem):
    path = make(tmp_path)
    with pytest.raises(InputError, match=problem) as error:
        open_dataset(path)
    assert str(path) in str(error.value)


def test_hdf5_without_data_names_the_file(tmp_path):
    path = tmp_path / "broken.h5"
    with h5py.File(path, "w") as f:
        f["points"] = np.zeros((2, 8, 3), dtype=np.float32)
    with pytest.raises(InputError, match="data") as error:
        open_dataset(path)
    assert str(path) in str(error.value)


def test_unknown_class_or_split_is_an_input_error(tmp_path):
    dataset = open_dataset(_modelnet_folder(tmp_path))
    with pytest.raises(InputError, match="unknown class 'sofa'.*chair, table") as error:
        dataset.subset(classes=["sofa"])
    assert str(tmp_path) in str(error.value)
    with pytest.raises(InputError, match="unknown split 'val'"):
        dataset.subset(split="val")
    with pytest.raises(InputError, match="no shapes"):
        dataset.subset(classes=["table"], split="test")
