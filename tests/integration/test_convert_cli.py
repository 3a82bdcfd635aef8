"""``python -m core convert`` on the real files: bit-exact splat round trips, every target, bad input."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("name", ["kacytran1122_try__point_cloud_iteration_7000.ply",
                                  "gshairlod_donut__fused_iteration_30000.ply"])
def test_splats_survive_convert_to_splats_bit_for_bit(shared_data, tmp_path, name, core_cli):
    source = shared_data / "gaussian_splats" / name
    out = tmp_path / "copy.ply"
    result = core_cli("convert", source, "--to", "splats", "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == source.read_bytes()


def test_a_modelnet_mesh_converts_to_every_representation(shared_data, tmp_path, core_cli):
    from core.io import read_shape
    from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

    source = shared_data / "modelnet_off" / "ModelNet10" / "bathtub" / "train" / "bathtub_0001.off"
    expected = {"points": (tmp_path / "p.ply", PointCloud), "voxels": (tmp_path / "v.npy", VoxelGrid),
                "splats": (tmp_path / "s.ply", GaussianSplats), "mesh": (tmp_path / "m.obj", Mesh)}
    for target, (out, kind) in expected.items():
        result = core_cli("convert", source, "--to", target, "--out", out, "--points", 1000, "--res", 24)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(out)
        shape = read_shape(out)
        assert isinstance(shape, kind)
    assert len(read_shape(expected["points"][0])) == 1000
    assert read_shape(expected["voxels"][0]).resolution == 24
    assert len(read_shape(expected["splats"][0])) == 1000
    mesh_source = read_shape(source)
    np.testing.assert_allclose(read_shape(expected["mesh"][0]).vertices, mesh_source.vertices, rtol=1e-6)


def test_a_dataset_folder_converts_shape_by_shape(shared_data, tmp_path, core_cli):
    out = tmp_path / "voxels"
    result = core_cli("convert", shared_data / "modelnet_off", "--to", "voxels", "--out", out, "--res", 16,
                     "--filled")
    assert result.returncode == 0, result.stderr
    files = sorted(out.rglob("*.npy"))
    assert len(files) == 9
    assert out / "bed" / "train" / "bed_0001.npy" in files
    grid = np.load(out / "bed" / "train" / "bed_0001.npy")
    assert grid.shape == (16, 16, 16) and 0 < grid.mean() < 0.9


@pytest.mark.parametrize("content, problem", [
    (b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\nend_header\nabc", "truncated"),
    (b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", "7"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, content, problem, core_cli):
    suffix = ".ply" if content.startswith(b"ply") else ".off"
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(content)
    result = core_cli("convert", bad, "--to", "voxels", "--out", tmp_path / "out.npy")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and problem in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.npy").exists()


def test_an_output_type_the_target_cannot_use_exits_2(shared_data, tmp_path, core_cli):
    source = shared_data / "gaussian_splats" / "gshairlod_donut__fused_iteration_30000.ply"
    result = core_cli("convert", source, "--to", "voxels", "--out", tmp_path / "grid.obj")
    assert result.returncode == 2
    assert "grid.obj" in result.stderr and "Traceback" not in result.stderr
