"""Text formats with UTF-8 (or any byte) in comments, names and material lines; OBJ polygons and negative
indices; PCD binary_compressed; 3DGS PLY checks. Files are written by other libraries (trimesh, plyfile,
Open3D) or as the text users' exporters write, and trimesh/Open3D are the oracles for what they hold."""
from __future__ import annotations

import numpy as np
import open3d as o3d
import plyfile
import pytest
import trimesh

from core.errors import InputError
from core.io import read_mesh, read_point_cloud, read_shape
from core.shapes import GaussianSplats, PointCloud

# A pybullet-style OBJ: UTF-8 material and object names, a Latin-1 byte in a comment, a missing .mtl,
# vt/vn/s/g records, v/vt/vn corners, a quad, a pentagon and negative (relative) indices.
OBJ_TEXT = (
    "# exported by a CAD tool \xe9t\xe9\n".encode("latin-1")
    + """mtllib 杯子.mtl
o 杯子
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0.5 1.5 0
vt 0 0
vt 1 0
vn 0 0 1
g body
usemtl 材质.001
s 1
f 1/1/1 2/2/1 3/2/1 4/1/1
f -5//1 -4//1 -3//1 -1//1 -2//1
v 0 0 1
f -1 1 2
""".encode("utf-8"))


def _area(vertices: np.ndarray, faces: np.ndarray) -> float:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(np.linalg.norm(np.cross(b - a, c - a), axis=1).sum() / 2)


def test_obj_with_utf8_material_polygons_and_negative_indices(tmp_path):
    path = tmp_path / "mug.obj"
    path.write_bytes(OBJ_TEXT)
    mesh = read_mesh(path)
    assert len(mesh.faces) == 2 + 3 + 1  # quad -> 2, pentagon -> 3, triangle: nothing dropped
    # unit square 1 + pentagon (the square and a 0.25 roof) 1.25 + right triangle 0.5
    assert _area(mesh.vertices, mesh.faces) == pytest.approx(2.75)
    assert mesh.faces[2:5].tolist() == [[0, 1, 2], [0, 2, 4], [0, 4, 3]]  # "f -5 -4 -3 -1 -2" as a fan
    assert mesh.faces[-1].tolist() == [5, 0, 1]  # "f -1 1 2" after the sixth vertex


def test_off_and_ascii_stl_with_utf8_names_match_trimesh(tmp_path):
    box = trimesh.creation.box(extents=(1, 2, 3))
    off = box.export(file_type="off").replace("OFF\n", "OFF\n# 椅子 (chair), café\n", 1)
    (tmp_path / "box.off").write_bytes(off.encode("utf-8"))
    stl = box.export(file_type="stl_ascii").replace("solid", "solid 名字", 1)
    (tmp_path / "box.stl").write_bytes(stl.encode("utf-8"))
    for name in ("box.off", "box.stl"):
        mesh = read_mesh(tmp_path / name)
        assert len(mesh.faces) == 12 and _area(mesh.vertices, mesh.faces) == pytest.approx(box.area)


def test_a_binary_file_handed_to_a_text_reader_names_the_nul_byte(tmp_path):
    (tmp_path / "binary.obj").write_bytes(b"v 0 0 0\n\x00\x01\x02")
    with pytest.raises(InputError, match="not a text OBJ file: NUL byte at offset 8"):
        read_mesh(tmp_path / "binary.obj")


@pytest.mark.parametrize("text", [False, True])
def test_ply_with_a_utf8_comment_reads_what_plyfile_wrote(tmp_path, text):
    rng = np.random.default_rng(0)
    vertices = np.zeros(50, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("intensity", "f4")])
    for name in vertices.dtype.names:
        vertices[name] = rng.normal(size=50)
    path = tmp_path / "scan.ply"
    plyfile.PlyData([plyfile.PlyElement.describe(vertices, "vertex")], text=text,
                    comments=["PLACEHOLDER"]).write(str(path))
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", "扫描仪 Kinect™ \xe9".encode("utf-8"), 1))
    cloud = read_point_cloud(path)
    np.testing.assert_array_equal(cloud.points, np.stack([vertices[a] for a in "xyz"], axis=1))
    np.testing.assert_array_equal(cloud.extra["intensity"], vertices["intensity"])


def test_ply_with_non_ascii_outside_a_comment_is_one_line(tmp_path):
    path = tmp_path / "bad.ply"
    path.write_bytes("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                     "property float 高\nend_header\n0 0 0\n".encode("utf-8"))
    with pytest.raises(InputError, match="line 6: non-ASCII bytes outside a comment"):
        read_point_cloud(path)


def _open3d_cloud(n: int = 300) -> o3d.geometry.PointCloud:
    rng = np.random.default_rng(1)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(rng.normal(size=(n, 3))))
    cloud.normals = o3d.utility.Vector3dVector(rng.normal(size=(n, 3)))
    cloud.colors = o3d.utility.Vector3dVector(rng.uniform(size=(n, 3)))
    return cloud


def test_pcd_binary_compressed_as_open3d_writes_it(tmp_path):
    expected = _open3d_cloud()
    path = tmp_path / "lzf.pcd"
    assert o3d.io.write_point_cloud(str(path), expected, compressed=True)
    assert b"DATA binary_compressed" in path.read_bytes()[:400]
    cloud = read_point_cloud(path)
    np.testing.assert_allclose(cloud.points, np.asarray(expected.points), atol=1e-6)  # float32 in the file
    np.testing.assert_allclose(cloud.normals, np.asarray(expected.normals), atol=1e-6)
    np.testing.assert_allclose(cloud.colors, np.asarray(expected.colors), atol=1 / 255)


def test_pcd_binary_compressed_damage_is_one_line(tmp_path):
    path = tmp_path / "lzf.pcd"
    o3d.io.write_point_cloud(str(path), _open3d_cloud(), compressed=True)
    data = path.read_bytes()
    body = data.index(b"DATA binary_compressed\n") + len(b"DATA binary_compressed\n")
    (tmp_path / "cut.pcd").write_bytes(data[:-20])
    with pytest.raises(InputError, match="truncated or lying header"):
        read_point_cloud(tmp_path / "cut.pcd")
    lying = bytearray(data)
    lying[body + 4:body + 8] = (10**9).to_bytes(4, "little")  # uncompressed size
    (tmp_path / "lying.pcd").write_bytes(bytes(lying))
    with pytest.raises(InputError, match="declares 1,000,000,000 bytes, but 300 points"):
        read_point_cloud(tmp_path / "lying.pcd")
    garbled = bytearray(data)
    garbled[body + 8:] = bytes(len(garbled) - body - 8)  # zeros: literal runs that decode to the wrong size
    (tmp_path / "garbled.pcd").write_bytes(bytes(garbled))
    with pytest.raises(InputError, match="lzf|LZF|compressed data"):
        read_point_cloud(tmp_path / "garbled.pcd")


def test_pcd_with_a_utf8_comment(tmp_path):
    path = tmp_path / "scan.pcd"
    o3d.io.write_point_cloud(str(path), _open3d_cloud(10), write_ascii=True)
    path.write_bytes(path.read_bytes().replace(b"# .PCD v0.7", "# 点云 scan café".encode("utf-8"), 1))
    assert len(read_point_cloud(path)) == 10


SPLAT_NAMES = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
               "rot_0", "rot_1", "rot_2", "rot_3"]


def _splat_ply(path, names):
    table = np.ones(4, dtype=[(name, "f4") for name in names])
    plyfile.PlyData([plyfile.PlyElement.describe(table, "vertex")]).write(str(path))
    return path


@pytest.mark.parametrize("missing", [("opacity",), ("scale_0", "scale_1", "scale_2"),
                                     ("rot_0", "rot_1", "rot_2", "rot_3"), ("f_dc_0", "f_dc_1", "f_dc_2")])
def test_a_3dgs_ply_missing_a_property_names_it(tmp_path, missing):
    path = _splat_ply(tmp_path / "scene.ply", [n for n in SPLAT_NAMES if n not in missing])
    with pytest.raises(InputError, match=f"3D Gaussian-splat PLY lacks {', '.join(missing)}"):
        read_shape(path)


def test_plain_points_with_one_3dgs_like_name_stay_points(tmp_path):
    assert isinstance(read_shape(_splat_ply(tmp_path / "p.ply", ["x", "y", "z", "opacity"])), PointCloud)


def test_f_rest_counts_must_be_those_of_an_sh_degree(tmp_path):
    rest = [f"f_rest_{k}" for k in range(21)]
    with pytest.raises(InputError, match="21 f_rest_\\* properties; .* 9, 24, 45, 72 for degrees 1-4"):
        read_shape(_splat_ply(tmp_path / "bad.ply", SPLAT_NAMES[:6] + rest + SPLAT_NAMES[6:]))
    degree_one = read_shape(_splat_ply(tmp_path / "sh1.ply", SPLAT_NAMES[:6] + rest[:9] + SPLAT_NAMES[6:]))
    assert isinstance(degree_one, GaussianSplats) and degree_one.sh_rest.shape == (4, 9)
