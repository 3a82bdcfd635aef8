"""User data as datasets: point arrays, voxel arrays and folders of mesh/point files with broken files among them.

Files are written by numpy, trimesh and Open3D (never by our writers); a broken file is skipped, named with
its reason, and fails the whole dataset only with --strict or when nothing loads."""
from __future__ import annotations

import json

import numpy as np
import open3d as o3d
import pytest
import trimesh

from core.cli import main
from core.data import open_dataset
from core.errors import InputError
from core.io import dispatch
from core.jobs import Log
from core.jobs.convert import ConvertJob

RNG = np.random.default_rng(0)


def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _mesh_folder(root, broken: bool = True):
    """Meshes as trimesh and Open3D write them (OBJ, STL, OFF, PLY, GLB), a PCD cloud, and one truncated STL."""
    root.mkdir(exist_ok=True)
    shapes = {"box.obj": trimesh.creation.box(), "ball.stl": trimesh.creation.icosphere(2),
              "cone.off": trimesh.creation.cone(0.5, 1.0), "tube.ply": trimesh.creation.cylinder(0.3, 1.0),
              "ring.glb": trimesh.creation.annulus(0.2, 0.5, 0.2)}
    for name, mesh in shapes.items():
        mesh.export(root / name)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(RNG.normal(size=(200, 3))))
    o3d.io.write_point_cloud(str(root / "scan.pcd"), cloud, compressed=True)
    if broken:
        (root / "broken.stl").write_bytes((root / "ball.stl").read_bytes()[:-100])
    return root


def test_a_folder_with_a_corrupt_file_loads_the_rest_and_names_it(tmp_path, capsys):
    folder = _mesh_folder(tmp_path / "meshes")
    dataset = open_dataset(folder)
    assert len(dataset) == 6 and dataset.representation == "mesh"
    assert [s.path for s in dataset.source.skipped] == [str(folder / "broken.stl")]
    code, out, err = _run(capsys, "datasets", "inspect", folder, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["count"] == 6 and summary["files"] == 7
    assert summary["skipped"] == [{"path": str(folder / "broken.stl"),
                                   "reason": dataset.source.skipped[0].reason}]
    assert "truncated" in summary["skipped"][0]["reason"]
    assert f"{folder}: skipped 1 of 7 files" in err  # the job logs it too
    code, out, _ = _run(capsys, "datasets", "inspect", folder)
    assert code == 0 and f"{folder}: skipped 1 of 7 files\n  {folder / 'broken.stl'}: " in out


def test_strict_makes_a_skipped_file_exit_2(tmp_path, capsys):
    folder = _mesh_folder(tmp_path / "meshes")
    for command in (["datasets", "inspect", folder], ["convert", folder, "--to", "points", "--out", tmp_path / "o"]):
        code, out, err = _run(capsys, *command, "--strict")
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
        assert "1 of 7 files do not load (first: " in err and "broken.stl" in err and "--strict" in err
    assert not (tmp_path / "o").exists()


def test_shape_files_beside_an_array_are_named_not_silently_left_out(tmp_path, capsys):
    """A folder whose top holds a point-cloud .npy is read as arrays; an OBJ (UTF-8 name) and a PLY beside it are
    listed as skipped with the reason, and --strict refuses the folder; example files in subfolders are not."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    np.save(folder / "wolke.npy", RNG.normal(size=(512, 3)).astype(np.float32))
    trimesh.creation.box().export(folder / "stühl_ß.obj")
    trimesh.creation.icosphere(1).export(folder / "ball.ply")
    (folder / "samples").mkdir()
    trimesh.creation.box().export(folder / "samples" / "example.obj")
    dataset = open_dataset(folder)
    assert len(dataset) == 1 and dataset.representation == "points"
    skipped = {s.path: s.reason for s in dataset.source.skipped}
    assert sorted(skipped) == [str(folder / "ball.ply"), str(folder / "stühl_ß.obj")]
    assert all("holds array files" in reason for reason in skipped.values())
    code, out, _ = _run(capsys, "datasets", "inspect", folder)
    assert code == 0 and f"{folder}: skipped 2 of 3 files" in out and "stühl_ß.obj: not read" in out
    code, out, err = _run(capsys, "datasets", "inspect", folder, "--strict")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "2 of 3 files" in err


def test_a_folder_where_nothing_loads_is_exit_2(tmp_path, capsys):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "a.obj").write_bytes(b"\x00\x01binary")
    (folder / "b.ply").write_text("not a ply\n")
    code, _, err = _run(capsys, "datasets", "inspect", folder)
    assert code == 2 and err.strip().startswith(f"error: {folder}: none of its 2 files loads (first: ")


def test_convert_logs_the_skipped_file_and_converts_the_rest(tmp_path):
    folder = _mesh_folder(tmp_path / "meshes")
    events = []
    result = ConvertJob(folder, "points", tmp_path / "out", points=64).run(events.append)
    assert result["count"] == 6
    logs = [e.message for e in events if isinstance(e, Log) and e.level == "warning"]
    assert any(f"skipped 1 of 7 files\n  {folder / 'broken.stl'}: " in message for message in logs)


def test_a_bug_while_reading_a_file_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    folder = _mesh_folder(tmp_path / "meshes", broken=False)
    monkeypatch.setitem(dispatch.MESH_READERS, ".off", lambda path: 1 / 0)
    code, _, err = _run(capsys, "datasets", "inspect", folder)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {folder / 'cone.off'}: unexpected failure while reading (ZeroDivisionError")


def test_point_arrays_are_datasets(tmp_path, capsys):
    clouds = np.asfortranarray((RNG.normal(size=(4, 1024, 3)) * 50).astype(">f8"))
    np.save(tmp_path / "clouds.npy", clouds)
    dataset = open_dataset(tmp_path / "clouds.npy")
    assert dataset.representation == "points" and len(dataset) == 4 and dataset.classes == ["clouds"]
    points = dataset.points(n_points=256)
    assert points.shape == (4, 256, 3) and np.abs(np.linalg.norm(points, axis=2).max() - 1) < 1e-5
    np.testing.assert_array_equal(dataset.load(2).points, clouds[2].astype(np.float32))
    assert dataset.voxels(16).shape == (4, 16, 16, 16)
    code, out, _ = _run(capsys, "datasets", "inspect", tmp_path / "clouds.npy", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["representation"] == "points" and summary["points_per_shape"] == 1024
    assert summary["count"] == 4 and summary["skipped"] == []
    np.save(tmp_path / "one.npy", clouds[0])
    assert len(open_dataset(tmp_path / "one.npy")) == 1


def test_convert_a_point_array_to_voxels(tmp_path, capsys):
    np.save(tmp_path / "clouds.npy", RNG.normal(size=(3, 500, 3)).astype(np.float32))
    code, out, _ = _run(capsys, "convert", tmp_path / "clouds.npy", "--to", "voxels", "--res", "16",
                        "--out", tmp_path / "out")
    assert code == 0 and len(list((tmp_path / "out").rglob("*.npy"))) == 3


def test_an_array_folder_skips_files_of_the_other_representation(tmp_path):
    for name in ("chairs", "tables"):
        np.save(tmp_path / f"{name}.npy", RNG.normal(size=(2, 100, 3)).astype(np.float32))
    np.save(tmp_path / "grids.npy", RNG.random((2, 8, 8, 8)) > 0.5)
    np.save(tmp_path / "empty.npy", np.zeros((0, 100, 3), np.float32))
    dataset = open_dataset(tmp_path)
    assert dataset.representation == "points" and dataset.classes == ["chairs", "tables"] and len(dataset) == 4
    reasons = {s.path: s.reason for s in dataset.source.skipped}
    assert reasons == {str(tmp_path / "empty.npy"): "array is empty (shape (0, 100, 3)): it holds no shapes",
                       str(tmp_path / "grids.npy"): "holds voxels, while the dataset's other files hold points"}


def test_voxel_probabilities_are_thresholded_and_inspect_says_so(tmp_path, capsys):
    grids = RNG.random((3, 1, 8, 8, 8)) * 0.4
    grids[:, 0, 2:6, 2:6, 2:6] = 0.9
    np.save(tmp_path / "probs.npy", grids)
    dataset = open_dataset(tmp_path / "probs.npy")
    assert dataset.representation == "voxels" and dataset.load(0).filled == 64
    code, out, _ = _run(capsys, "datasets", "inspect", tmp_path / "probs.npy")
    assert code == 0 and f"{tmp_path / 'probs.npy'}: voxel values between 0 and 1 thresholded at 0.5" in out


def test_an_unsplit_dataset_serves_as_any_split(tmp_path):
    np.save(tmp_path / "clouds.npy", RNG.normal(size=(3, 50, 3)).astype(np.float32))
    dataset = open_dataset(tmp_path / "clouds.npy")
    assert len(dataset.subset(split="test")) == 3


def test_a_bad_single_file_is_its_own_error(tmp_path):
    np.save(tmp_path / "vox.npy", np.full((2, 8, 8, 8), 255, dtype=np.uint8))
    with pytest.raises(InputError, match=r"^.*vox.npy: voxel values must lie in \[0, 1\]"):
        open_dataset(tmp_path / "vox.npy")
