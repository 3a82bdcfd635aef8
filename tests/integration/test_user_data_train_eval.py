"""Point arrays and folders with a broken file as train --data and eval --ref (issue 18), through the CLI."""
from __future__ import annotations

import json

import numpy as np

from core.cli import main
from core.data import open_dataset


def _run(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def _chairs(shared_data, count: int, split: str) -> np.ndarray:
    """Real ModelNet10 chairs, raw coordinates, as numpy writes a user's (N, P, 3) array."""
    chairs = open_dataset(shared_data / "modelnet10_pointclouds_1024").subset(classes=["chair"], split=split)
    return np.stack([chairs.load(i).points for i in range(count)])


def test_eval_points_array_against_a_points_array(shared_data, tmp_path, capsys):
    np.save(tmp_path / "samples.npy", _chairs(shared_data, 6, "train"))
    np.save(tmp_path / "clouds.npy", _chairs(shared_data, 8, "test").astype(">f8"))
    code, err = _run(capsys, "eval", tmp_path / "samples.npy", "--ref", tmp_path / "clouds.npy", "--metrics", "cd",
                     "--points", 256, "--json", tmp_path / "o.json")
    assert code == 0, err
    report = json.loads((tmp_path / "o.json").read_text())
    assert report["n_samples"] == 6 and report["n_ref"] == 8 and set(report["metrics"]) == {"MMD-CD", "COV-CD",
                                                                                           "1-NNA-CD"}
    assert report["split"] == "all" and "reference: 8 shapes of split 'all'" in err  # no test split: every shape


def test_eval_ref_folder_with_a_broken_file_logs_it_and_strict_refuses(shared_data, tmp_path, capsys):
    import open3d as o3d

    ref = tmp_path / "ref"
    ref.mkdir()
    for i, cloud in enumerate(_chairs(shared_data, 5, "test")):
        o3d.io.write_point_cloud(str(ref / f"chair_{i}.pcd"), o3d.geometry.PointCloud(
            o3d.utility.Vector3dVector(cloud.astype(np.float64))), compressed=True)
    (ref / "chair_9.pcd").write_bytes((ref / "chair_0.pcd").read_bytes()[:300])
    np.save(tmp_path / "samples.npy", _chairs(shared_data, 4, "train"))
    args = ["eval", tmp_path / "samples.npy", "--ref", ref, "--metrics", "cd", "--points", 128,
            "--json", tmp_path / "o.json"]
    code, err = _run(capsys, *args)
    assert code == 0 and json.loads((tmp_path / "o.json").read_text())["n_ref"] == 5
    assert f"{ref}: skipped 1 of 6 files\n  {ref / 'chair_9.pcd'}: " in err
    code, err = _run(capsys, *args, "--strict")
    assert code == 2 and "1 of 6 files do not load" in err and len(err.strip().splitlines()) == 1


def test_train_on_point_arrays_with_a_broken_file_logs_it(shared_data, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "chairs.npy", _chairs(shared_data, 12, "train"))
    (data / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    code, err = _run(capsys, "train", "--data", data, "--repr", "points", "--ae-steps", 1, "--ldm-steps", 1,
                     "--points", 128, "--batch-size", 4, "--out", tmp_path / "run")
    assert code == 0, err
    assert err.count(f"{data}: skipped 1 of 2 files\n  {data / 'broken.npy'}: ") == 1  # once, though opened twice
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["classes"] == ["chairs"]
    code, err = _run(capsys, "train", "--data", data, "--out", tmp_path / "run2", "--strict")
    assert code == 2 and "broken.npy" in err and not (tmp_path / "run2").exists()
