"""Arrays told apart by shape (any dtype, byte order, memory order), HDF5 label shapes, glTF/GLB meshes.

Every file is written by numpy, h5py or Open3D; Open3D also reads back what we write as GLB."""
from __future__ import annotations

import gzip

import h5py
import numpy as np
import open3d as o3d
import pytest

from core.cli import main
from core.errors import InputError
from core.io import read_mesh, read_pointnet_h5, read_shape, read_voxel_h5, write_mesh
from core.io.array_layout import read_shape_array
from core.shapes import Mesh, PointCloud, VoxelGrid

RNG = np.random.default_rng(0)


def test_big_endian_float64_fortran_points_as_numpy_writes_them(tmp_path):
    clouds = np.asfortranarray(RNG.normal(size=(4, 1024, 3)).astype(">f8"))
    np.save(tmp_path / "clouds.npy", clouds)
    shapes = read_shape_array(tmp_path / "clouds.npy")
    assert shapes.representation == "points" and shapes.shapes.shape == (4, 1024, 3) and not shapes.single
    assert shapes.shapes.dtype == np.float32 and shapes.shapes.dtype.isnative
    np.testing.assert_array_equal(shapes.shapes, clouds.astype(np.float32))


@pytest.mark.parametrize("dtype", ["<f2", ">f4", "<f8", "<i2"])
def test_one_cloud_of_any_numeric_dtype_is_a_point_cloud(tmp_path, dtype):
    cloud = (RNG.normal(size=(50, 3)) * 10).astype(dtype)
    np.save(tmp_path / "one.npy", cloud)
    shape = read_shape(tmp_path / "one.npy")
    assert isinstance(shape, PointCloud) and len(shape) == 50
    np.testing.assert_array_equal(shape.points, cloud.astype(np.float32))


def test_six_columns_are_points_and_normals_in_gzip_and_npz(tmp_path):
    clouds = RNG.normal(size=(3, 64, 6)).astype(np.float32)
    with gzip.open(tmp_path / "withnormals.npy.gz", "wb") as stream:
        np.save(stream, clouds)
    np.savez(tmp_path / "labelled.npz", labels=np.arange(3), points=clouds)  # several arrays: "points" is used
    for name in ("withnormals.npy.gz", "labelled.npz"):
        shapes = read_shape_array(tmp_path / name)
        cloud = shapes.shape(2)
        np.testing.assert_array_equal(cloud.points, clouds[2, :, :3])
        np.testing.assert_array_equal(cloud.normals, clouds[2, :, 3:])


def test_npz_without_a_known_key_names_its_arrays(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 10, 3)), b=np.zeros(2))
    with pytest.raises(InputError, match=r"npz holds 2 arrays \(a, b\) and none is called points, voxels, data"):
        read_shape_array(tmp_path / "two.npz")


@pytest.mark.parametrize("shape, rows", [((5, 16, 16, 16), 5), ((5, 1, 16, 16, 16), 5), ((16, 16, 16), 1)])
def test_voxel_layouts(tmp_path, shape, rows):
    grids = RNG.random(shape) > 0.6
    np.save(tmp_path / "v.npy", grids.astype(np.uint8))
    shapes = read_shape_array(tmp_path / "v.npy")
    assert shapes.representation == "voxels" and shapes.shapes.shape == (rows, 16, 16, 16)
    np.testing.assert_array_equal(shapes.shapes, grids.reshape(rows, 16, 16, 16))
    assert shapes.single == (len(shape) == 3) and not shapes.thresholded


def test_probabilities_are_thresholded_and_said_to_be(tmp_path):
    grid = np.full((8, 8, 8), 0.3)
    grid[2:5, 2:5, 2:5] = 0.7
    np.save(tmp_path / "p.npy", grid)
    shapes = read_shape_array(tmp_path / "p.npy")
    assert shapes.thresholded and shapes.shapes.sum() == 27
    assert isinstance(read_shape(tmp_path / "p.npy"), VoxelGrid)


@pytest.mark.parametrize("value", [255, -1, 7])
def test_voxel_values_outside_zero_one_are_refused(tmp_path, value):
    grids = np.zeros((2, 8, 8, 8), dtype=np.int16)
    grids[:, 3, 3, 3] = value
    np.save(tmp_path / "bad.npy", grids)
    with pytest.raises(InputError, match=r"voxel values must lie in \[0, 1\]") as error:
        read_shape_array(tmp_path / "bad.npy")
    assert str(tmp_path / "bad.npy") in str(error.value) and f"{value}" in str(error.value)


def test_voxel_hdf5_values_outside_zero_one_are_refused(tmp_path):
    with h5py.File(tmp_path / "vox.h5", "w") as file:
        file["voxels"] = np.full((2, 8, 8, 8), 255, dtype=np.uint8)
    with pytest.raises(InputError, match=r"voxel values must lie in \[0, 1\].*255"):
        read_voxel_h5(tmp_path / "vox.h5")


@pytest.mark.parametrize("shape", [(0, 32, 32, 32), (0, 3), (5, 0, 3), (0,), (0, 1, 8, 8, 8)])
def test_empty_arrays_of_any_shape_are_one_line(tmp_path, shape):
    np.save(tmp_path / "empty.npy", np.zeros(shape, dtype=np.float32))
    with pytest.raises(InputError, match=r"array is empty \(shape "):
        read_shape_array(tmp_path / "empty.npy")


@pytest.mark.parametrize("shape, problem", [((6, 6, 6), "ambiguous: a cube reads as one voxel grid"),
                                            ((3, 4, 4, 4), "grids need R >= 8"),
                                            ((10, 7), "holds no shapes we know; accepted: points")])
def test_shapes_we_cannot_tell_are_one_clear_line(tmp_path, shape, problem):
    np.save(tmp_path / "odd.npy", np.ones(shape, dtype=np.float32))
    with pytest.raises(InputError, match=problem) as error:
        read_shape_array(tmp_path / "odd.npy")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("label_shape", [(5,), (5, 1), (5, 1, 1)])
def test_hdf5_labels_of_every_common_shape(tmp_path, label_shape):
    with h5py.File(tmp_path / "clouds.h5", "w") as file:
        file["data"] = RNG.normal(size=(5, 32, 3)).astype(np.float32)
        file["label"] = np.array([3, 1, 4, 1, 5], dtype=np.int32).reshape(label_shape)
    assert read_pointnet_h5(tmp_path / "clouds.h5")[1].tolist() == [3, 1, 4, 1, 5]


def _open3d_mesh() -> o3d.geometry.TriangleMesh:
    mesh = o3d.geometry.TriangleMesh.create_torus(torus_radius=1.0, tube_radius=0.3, radial_resolution=12,
                                                  tubular_resolution=8)
    mesh.vertex_colors = o3d.utility.Vector3dVector(RNG.uniform(size=(len(mesh.vertices), 3)))
    return mesh


@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_gltf_written_by_open3d(tmp_path, suffix):
    expected = _open3d_mesh()
    assert o3d.io.write_triangle_mesh(str(tmp_path / f"torus{suffix}"), expected)
    mesh = read_shape(tmp_path / f"torus{suffix}")
    assert isinstance(mesh, Mesh) and len(mesh.faces) == len(expected.triangles)
    corners = np.sort(mesh.vertices[mesh.faces].reshape(-1, 3), axis=0)
    reference = np.sort(np.asarray(expected.vertices)[np.asarray(expected.triangles)].reshape(-1, 3), axis=0)
    np.testing.assert_allclose(corners, reference, atol=1e-6)  # glTF positions are float32


def test_glb_we_write_is_read_by_open3d(tmp_path):
    mesh = read_shape(_write_with_open3d(tmp_path))
    write_mesh(mesh, tmp_path / "ours.glb")
    back = o3d.io.read_triangle_mesh(str(tmp_path / "ours.glb"))
    assert len(back.triangles) == len(mesh.faces)
    np.testing.assert_allclose(np.asarray(back.vertices)[np.asarray(back.triangles)],
                               mesh.vertices[mesh.faces], atol=1e-6)
    ours = read_mesh(tmp_path / "ours.glb")
    np.testing.assert_allclose(ours.vertex_colors, mesh.vertex_colors, atol=1 / 255)


def _write_with_open3d(tmp_path):
    path = tmp_path / "torus.glb"
    o3d.io.write_triangle_mesh(str(path), _open3d_mesh())
    return path


def test_broken_glb_and_gltf_are_one_line(tmp_path):
    data = _write_with_open3d(tmp_path).read_bytes()
    cases = {"cut.glb": (data[:-16], "truncated or padded GLB"), "magic.glb": (b"glTX" + data[4:], "no 'glTF' magic"),
             "junk.gltf": (b'{"asset": {"version": "2.0"}, "meshes": [{"primitives": [{"attributes": {"POSITION": 7}}]}]}',
                           "not a valid glTF file|holds no triangle meshes")}
    for name, (payload, problem) in cases.items():
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(InputError, match=problem) as error:
            read_mesh(tmp_path / name)
        assert str(tmp_path / name) in str(error.value) and "\n" not in str(error.value)


def test_sample_format_glb_writes_voxel_samples_as_meshes(tmp_path, capsys):
    assert main(["sample", "builtin:voxels", "--n", "1", "--steps", "2", "--format", "glb", "--out", str(tmp_path)]) == 0
    back = o3d.io.read_triangle_mesh(str(tmp_path / "sample_000.glb"))
    assert len(back.triangles) > 100
    assert len(read_mesh(tmp_path / "sample_000.glb").faces) == len(back.triangles)
