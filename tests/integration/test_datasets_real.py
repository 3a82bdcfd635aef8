"""Datasets over the real shared data: the counts issue 3 names, and every representation from each kind."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.data import open_dataset

MODELNET10_TRAIN = {"bathtub": 106, "bed": 515, "chair": 889, "desk": 200, "dresser": 200, "monitor": 465,
                    "night_stand": 200, "sofa": 680, "table": 392, "toilet": 344}


@pytest.fixture(scope="module")
def modelnet10(shared_data):
    """The 4,899-shape ModelNet10 point-cloud folder, opened once."""
    return open_dataset(shared_data / "modelnet10_pointclouds_1024")


def test_modelnet10_folder_counts(modelnet10):
    assert len(modelnet10) == 4899 and modelnet10.representation == "points"
    train = modelnet10.subset(split="train")
    assert len(train) == 3991 and len(modelnet10.subset(split="test")) == 908
    assert dict(zip(train.classes, np.bincount(train.labels()).tolist())) == MODELNET10_TRAIN
    assert len(modelnet10.subset(classes=["chair"], split="train")) == 889
    first = modelnet10.records[0]
    assert (first.name, first.class_name, first.split) == ("bathtub_0107", "bathtub", "test")


def test_modelnet10_points_are_resampled_and_normalised(modelnet10):
    chairs = modelnet10.subset(classes=["chair"], split="test")
    points = chairs.points(n_points=2048)
    assert points.shape == (100, 2048, 3)
    np.testing.assert_allclose(np.linalg.norm(points, axis=2).max(axis=1), 1.0, atol=1e-5)
    raw = chairs.load(0).points
    assert raw.shape == (1024, 3) and np.abs(raw).max() > 2  # raw ModelNet units, normalised above


def test_train_file_alone_and_cli_json(shared_data, capsys):
    path = shared_data / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_train.h5"
    assert main(["datasets", "inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["count"] == 3991 and summary["splits"] == {"train": 3991}
    assert summary["classes"]["chair"] == 889 and summary["points_per_shape"] == 1024


def test_modelnet10_folder_cli(shared_data, capsys):
    assert main(["datasets", "inspect", str(shared_data / "modelnet10_pointclouds_1024"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["count"] == 4899 and summary["splits"] == {"test": 908, "train": 3991}
    assert summary["class_splits"]["chair"] == {"test": 100, "train": 889}


def test_modelnet_off_meshes(shared_data):
    dataset = open_dataset(shared_data / "modelnet_off")
    summary = dataset.summary()
    assert summary["count"] == 9 and summary["classes"] == {"airplane": 1, "bathtub": 5, "bed": 3}
    assert summary["representation"] == "mesh" and summary["splits"] == {"train": 9}
    bathtubs = dataset.subset(classes=["bathtub"])
    points = bathtubs.points(n_points=512)
    assert points.shape == (5, 512, 3)
    np.testing.assert_allclose(np.linalg.norm(points, axis=2).max(axis=1), 1.0, atol=1e-5)
    grid = bathtubs.get(0, "voxels", resolution=32).occupancy
    assert grid.any() and not grid[0].any() and not grid[-1].any()  # fitted inside the margin


def test_voxel_arrays_drop_the_empty_first_rows(shared_data):
    dataset = open_dataset(shared_data / "modelnet10_voxels32")
    summary = dataset.summary()
    assert summary["classes"] == {"chair": 889, "monitor": 465} and summary["resolution"] == 32
    assert [(d["source"].split("/")[-1], d["row"]) for d in summary["dropped"]] == [
        ("chair.npy.gz", 0), ("monitor.npy.gz", 0)]
    monitors = dataset.subset(classes=["monitor"])
    grids = monitors.voxels(32)
    assert grids.shape == (465, 32, 32, 32) and grids.reshape(465, -1).any(axis=1).all()
    assert 0.05 < grids.mean() < 0.11  # the README's 7.9 % mean occupancy
    assert monitors.get(0, "points", n_points=256).points.shape == (256, 3)


def test_gaussian_splat_folder(shared_data):
    dataset = open_dataset(shared_data / "gaussian_splats")
    assert dataset.representation == "splats" and len(dataset) == 2
    splats = dataset.get(0, "splats")
    assert len(splats) == len(dataset.load(0))
    assert np.linalg.norm(splats.positions, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    points = dataset.points(n_points=1024)
    assert points.shape == (2, 1024, 3)
