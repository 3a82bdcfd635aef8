"""Every writer's output reads back to the same shape, per format and encoding."""
from __future__ import annotations

import gzip

import h5py
import numpy as np
import plyfile
import pytest

from core.io import (atomic_write, read_array, read_mesh, read_point_cloud, read_pointnet_h5, read_shape,
                     read_splats, read_voxel_h5, write_array, write_mesh, write_point_cloud, write_shape,
                     write_splats)
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

RNG = np.random.default_rng(7)


def _cloud(n: int = 64) -> PointCloud:
    # colours on the 1/255 grid survive 8-bit quantisation exactly
    return PointCloud(RNG.normal(size=(n, 3)), RNG.normal(size=(n, 3)), RNG.integers(0, 256, (n, 3)) / 255)


def _cube() -> Mesh:
    vertices = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=np.float64) * 0.3 + 0.1
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return Mesh(vertices, faces)


@pytest.mark.parametrize("suffix,encoding", [(".ply", "binary_little_endian"), (".ply", "ascii"),
                                             (".ply", "binary_big_endian"), (".pcd", "ascii"),
                                             (".pcd", "binary_little_endian")])
def test_point_cloud_round_trip(tmp_path, suffix, encoding):
    cloud = _cloud()
    path = tmp_path / f"cloud{suffix}"
    write_point_cloud(cloud, path, encoding)
    back = read_point_cloud(path)
    np.testing.assert_array_equal(back.points, cloud.points)
    np.testing.assert_array_equal(back.normals, cloud.normals)
    np.testing.assert_array_equal(back.colors, cloud.colors)


def test_ply_encodings_differ_on_disk(tmp_path):
    cloud = _cloud(8)
    headers = set()
    for encoding in ("binary_little_endian", "ascii", "binary_big_endian"):
        write_point_cloud(cloud, tmp_path / f"{encoding}.ply", encoding)
        headers.add((tmp_path / f"{encoding}.ply").read_bytes().split(b"\n")[1])
    assert headers == {b"format binary_little_endian 1.0", b"format ascii 1.0", b"format binary_big_endian 1.0"}


def test_ply_points_keep_extra_properties(tmp_path):
    intensity = np.arange(10, dtype=np.uint16)
    write_point_cloud(PointCloud(RNG.normal(size=(10, 3)), extra={"intensity": intensity}), tmp_path / "e.ply")
    back = read_point_cloud(tmp_path / "e.ply")
    assert back.normals is None and back.colors is None
    np.testing.assert_array_equal(back.extra["intensity"], intensity)
    assert back.extra["intensity"].dtype == np.uint16


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".npy.gz"])
def test_point_cloud_as_array(tmp_path, suffix):
    cloud = _cloud()
    write_point_cloud(cloud, tmp_path / f"p{suffix}")
    np.testing.assert_array_equal(read_point_cloud(tmp_path / f"p{suffix}").points, cloud.points)


@pytest.mark.parametrize("suffix", [".obj", ".stl", ".ply", ".off"])
def test_mesh_round_trip(tmp_path, suffix):
    mesh = _cube()
    write_mesh(mesh, tmp_path / f"cube{suffix}")
    back = read_mesh(tmp_path / f"cube{suffix}")
    assert len(back.faces) == len(mesh.faces)
    # STL welds and reorders vertices: compare the triangles' corner coordinates instead of indices
    np.testing.assert_allclose(np.sort(back.vertices[back.faces].reshape(-1, 9), axis=0),
                               np.sort(mesh.vertices[mesh.faces].reshape(-1, 9), axis=0), rtol=1e-7)
    if suffix != ".stl":
        np.testing.assert_array_equal(back.faces, mesh.faces)
        np.testing.assert_array_equal(back.vertices, mesh.vertices)


def test_mesh_vertex_colors_round_trip(tmp_path):
    mesh = Mesh(_cube().vertices, _cube().faces, vertex_colors=RNG.integers(0, 256, (8, 3)) / 255)
    for suffix in (".ply", ".obj"):
        write_mesh(mesh, tmp_path / f"c{suffix}")
        np.testing.assert_allclose(read_mesh(tmp_path / f"c{suffix}").vertex_colors, mesh.vertex_colors, atol=1e-7)


def test_ascii_stl_and_polygon_faces(tmp_path):
    (tmp_path / "quad.stl").write_text(
        "solid q\n" + "".join(f"facet normal 0 0 1\n outer loop\n{''.join(f'  vertex {x} {y} 0' + chr(10) for x, y in tri)}"
                              " endloop\nendfacet\n" for tri in ([(0, 0), (1, 0), (1, 1)], [(0, 0), (1, 1), (0, 1)]))
        + "endsolid q\n")
    stl = read_mesh(tmp_path / "quad.stl")
    assert stl.vertices.shape == (4, 3) and stl.faces.shape == (2, 3)
    # a quad and a pentagon as OFF: fans give 2 + 3 triangles, nothing dropped
    (tmp_path / "poly.off").write_text("OFF\n# comment\n5 2 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n0.5 1.5 0\n"
                                       "4 0 1 2 3\n5 0 1 2 4 3  255 0 0\n")
    off = read_mesh(tmp_path / "poly.off")
    np.testing.assert_array_equal(off.faces, [[0, 1, 2], [0, 2, 3], [0, 1, 2], [0, 2, 4], [0, 4, 3]])


def test_obj_index_forms_negative_indices_and_missing_mtl(tmp_path):
    (tmp_path / "m.obj").write_text("mtllib missing.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvn 0 0 1\n"
                                    "usemtl none\nf 1/1/1 2/1/1 3/1/1 4/1/1\nf 1//1 3//1 4//1\nf -4 -3 -2\nf 1/1 2/1 4/1\n")
    mesh = read_mesh(tmp_path / "m.obj")
    np.testing.assert_array_equal(mesh.faces, [[0, 1, 2], [0, 2, 3], [0, 2, 3], [0, 1, 2], [0, 1, 3]])


def test_splats_round_trip_standard_layout(tmp_path):
    n = 20
    splats = GaussianSplats(RNG.normal(size=(n, 3)), RNG.normal(size=(n, 3)), RNG.normal(size=n),
                            RNG.normal(size=(n, 3)), RNG.normal(size=(n, 4)), sh_rest=RNG.normal(size=(n, 45)),
                            extra={"filter_3D": RNG.random(n).astype(np.float32)})
    write_splats(splats, tmp_path / "s.ply")
    back = read_splats(tmp_path / "s.ply")
    assert [name for name, _ in back.layout][:6] == ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert back.layout[-1] == ("filter_3D", "f4") and back.sh_degree == 3
    for field in ("positions", "sh_dc", "opacity_logit", "log_scales", "rotations", "sh_rest"):
        np.testing.assert_array_equal(getattr(back, field), getattr(splats, field))
    assert isinstance(read_shape(tmp_path / "s.ply"), GaussianSplats)


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".npy.gz"])
def test_array_round_trip(tmp_path, suffix):
    array = np.asfortranarray(RNG.normal(size=(3, 5, 4)).astype(np.float32))
    write_array(array, tmp_path / f"a{suffix}")
    back = read_array(tmp_path / f"a{suffix}")
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_npz_key_selection(tmp_path):
    np.savez(tmp_path / "two.npz", points=np.zeros((4, 3)), labels=np.arange(4))
    np.testing.assert_array_equal(read_array(tmp_path / "two.npz", key="labels"), np.arange(4))


def test_write_shape_and_read_shape_dispatch(tmp_path):
    grid = VoxelGrid(RNG.random((8, 8, 8)) > 0.7)
    write_shape(grid, tmp_path / "v.npy")
    back = read_shape(tmp_path / "v.npy")
    assert isinstance(back, VoxelGrid)
    np.testing.assert_array_equal(back.occupancy, grid.occupancy)
    write_shape(_cube(), tmp_path / "m.ply")
    assert isinstance(read_shape(tmp_path / "m.ply"), Mesh)
    write_shape(_cloud(), tmp_path / "p.ply")
    assert isinstance(read_shape(tmp_path / "p.ply"), PointCloud)


@pytest.mark.parametrize("label_shape", [(5,), (5, 1)])
def test_pointnet_h5_labels_either_shape(tmp_path, label_shape):
    data = RNG.normal(size=(5, 16, 3)).astype(np.float32)
    labels = np.arange(5, dtype=np.uint8).reshape(label_shape)
    with h5py.File(tmp_path / "p.h5", "w") as file:
        file["data"], file["label"] = data, labels
    points, back = read_pointnet_h5(tmp_path / "p.h5")
    np.testing.assert_array_equal(points, data)
    assert back.dtype == np.int64 and back.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("shape,key", [((3, 8, 8, 8, 1), "voxels"), ((3, 1, 8, 8, 8), "voxels"),
                                       ((3, 8, 8, 8), "data")])
def test_voxel_h5_layouts(tmp_path, shape, key):
    occupancy = RNG.random((3, 8, 8, 8)) > 0.5
    with h5py.File(tmp_path / "v.h5", "w") as file:
        file.create_dataset(key, data=occupancy.reshape(shape).astype(np.uint8), compression="gzip")
    grids = read_voxel_h5(tmp_path / "v.h5")
    assert grids.dtype == bool
    np.testing.assert_array_equal(grids, occupancy)


def test_atomic_write_replaces_on_success_and_keeps_old_on_error(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    with atomic_write(target) as temporary:
        assert temporary.parent == tmp_path and temporary != target
        temporary.write_text("new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_gzip_npy_is_really_gzip(tmp_path):
    write_array(np.arange(6), tmp_path / "a.npy.gz")
    with gzip.open(tmp_path / "a.npy.gz", "rb") as stream:
        assert stream.read(6) == b"\x93NUMPY"


@pytest.mark.parametrize("text", [True, False])
def test_ply_polygon_faces_are_fanned(tmp_path, text):
    vertices = np.zeros(5, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4")])
    vertices["x"], vertices["y"] = [0, 1, 1, 0, 0.5], [0, 0, 1, 1, 1.5]
    faces = np.empty(2, dtype=[("vertex_indices", object)])
    faces["vertex_indices"] = [np.array([0, 1, 2, 3], np.int32), np.array([2, 4, 3], np.int32)]
    plyfile.PlyData([plyfile.PlyElement.describe(vertices, "vertex"), plyfile.PlyElement.describe(faces, "face")],
                    text=text).write(str(tmp_path / "poly.ply"))
    mesh = read_shape(tmp_path / "poly.ply")
    assert isinstance(mesh, Mesh)
    np.testing.assert_array_equal(mesh.faces, [[0, 1, 2], [0, 2, 3], [2, 4, 3]])
