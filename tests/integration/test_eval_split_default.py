"""``eval`` without ``--split`` (issue 23): the test split where the reference has one, else all its shapes,
and the JSON (and a log line) say which; ``--key`` reaches the reference's .npz arrays."""
from __future__ import annotations

import json

import numpy as np

from core.cli import main
from core.data import open_dataset

POINTS = 128


def _eval(capsys, *args) -> tuple[int, dict | None, str]:
    capsys.readouterr()
    code = main(["eval", *map(str, args)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else None, captured.err


def test_a_reference_without_splits_is_scored_whole_without_split(shared_data, tmp_path, capsys):
    ref = shared_data / "modelnet10_voxels32"
    chairs = open_dataset(ref).subset(classes=["chair"])
    np.save(tmp_path / "samples.npy", chairs.voxels()[:4].astype(np.uint8))
    code, result, err = _eval(capsys, tmp_path / "samples.npy", "--ref", ref, "--class", "chair", "--metrics", "iou",
                              "--n-ref", "0")
    assert code == 0, err
    assert result["split"] == "all" and result["n_ref"] == len(chairs)
    assert "split 'all'" in err


def test_a_reference_with_a_test_split_is_scored_on_it_without_split(shared_data, tmp_path, capsys):
    ref = shared_data / "modelnet10_pointclouds_1024"
    sofas = open_dataset(ref).subset(classes=["sofa"])
    np.save(tmp_path / "samples.npy", sofas.subset(split="train").points(n_points=POINTS)[:4])
    code, result, err = _eval(capsys, tmp_path / "samples.npy", "--ref", ref, "--class", "sofa", "--metrics", "cd",
                              "--n-ref", "0")
    assert code == 0, err
    assert result["split"] == "test" and result["n_ref"] == len(sofas.subset(split="test")) < len(sofas)
    code, result, err = _eval(capsys, tmp_path / "samples.npy", "--ref", ref, "--class", "sofa", "--metrics", "cd",
                              "--n-ref", "0", "--split", "all")
    assert code == 0 and result["split"] == "all" and result["n_ref"] == len(sofas), err


def test_key_names_the_reference_arrays(tmp_path, capsys):
    clouds = np.random.default_rng(0).normal(size=(8, POINTS, 3)).astype(np.float32)
    np.savez(tmp_path / "ref.npz", scans=clouds, other=clouds[:2], labels=np.arange(8) % 2)
    np.save(tmp_path / "samples.npy", clouds[:3])
    code, result, err = _eval(capsys, tmp_path / "samples.npy", "--ref", tmp_path / "ref.npz", "--key", "scans",
                              "--class", "class_1", "--metrics", "cd")
    assert code == 0, err
    assert result["n_ref"] == 4 and result["split"] == "all"
