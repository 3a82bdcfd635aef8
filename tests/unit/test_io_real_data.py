"""The readers on the real files in ../shared/data (see its README for the counts checked here)."""
from __future__ import annotations

import numpy as np
import pytest

from core.io import (is_splat_ply, read_array, read_mesh, read_point_cloud, read_pointnet_h5, read_shape,
                     read_splats, write_shape, write_splats)
from core.io.ply import read_ply_header
from core.shapes import Mesh

SPLAT_FILES = {  # file -> (gaussians, properties, SH degree, has normals), from the data README
    "kacytran1122_try__point_cloud_iteration_7000.ply": (9080, 62, 3, True),
    "gshairlod_donut__fused_iteration_30000.ply": (45624, 14, 0, False),
}
OFF_COUNTS = {  # file -> (vertices, faces) as listed in the data README
    "ModelNet10/bathtub/train/bathtub_0001.off": (3514, 3546),
    "ModelNet10/bathtub/train/bathtub_0002.off": (700, 664),
    "ModelNet10/bathtub/train/bathtub_0003.off": (14963, 19985),
    "ModelNet10/bathtub/train/bathtub_0004.off": (2842, 3519),
    "ModelNet10/bathtub/train/bathtub_0005.off": (18472, 30734),
    "ModelNet10/bed/train/bed_0001.off": (2095, 1807),
    "ModelNet10/bed/train/bed_0002.off": (22627, 35299),
    "ModelNet10/bed/train/bed_0003.off": (2644, 2440),
    "ModelNet40/airplane/train/airplane_0003.off": (42472, 44580),
}


@pytest.mark.parametrize("name", sorted(SPLAT_FILES))
def test_splat_file_write_of_read_is_bit_exact(shared_data, tmp_path, name):
    source = shared_data / "gaussian_splats" / name
    count, n_properties, degree, has_normals = SPLAT_FILES[name]
    assert is_splat_ply(source)
    splats = read_splats(source)
    assert (len(splats), len(splats.layout), splats.sh_degree) == (count, n_properties, degree)
    assert (splats.normals is not None) == has_normals
    copy = tmp_path / "copy.ply"
    write_shape(splats, copy)
    original_header, copy_header = read_ply_header(source), read_ply_header(copy)
    assert copy_header.elements == original_header.elements  # names, order, types and counts
    assert copy.read_bytes()[copy_header.size:] == source.read_bytes()[original_header.size:]


def test_splat_layout_drives_property_order(shared_data, tmp_path):
    splats = read_splats(shared_data / "gaussian_splats" / "kacytran1122_try__point_cloud_iteration_7000.ply")
    # reversing the recorded layout must reverse the written property order: the layout is what is written
    splats.layout = tuple(reversed(splats.layout))
    write_splats(splats, tmp_path / "rev.ply")
    names = read_ply_header(tmp_path / "rev.ply").element("vertex").names
    assert names == tuple(name for name, _ in splats.layout)


@pytest.mark.parametrize("name", sorted(OFF_COUNTS))
def test_modelnet_off_counts(shared_data, name):
    mesh = read_shape(shared_data / "modelnet_off" / name)
    n_vertices, n_faces = OFF_COUNTS[name]
    assert isinstance(mesh, Mesh)
    assert len(mesh.vertices) == n_vertices
    assert len(mesh.faces) >= n_faces  # polygons become several triangles, none are dropped


def test_modelnet_one_line_header_matches_repaired_copy(shared_data, tmp_path):
    source = shared_data / "modelnet_off/ModelNet10/bathtub/train/bathtub_0001.off"
    text = source.read_text()
    assert text.startswith("OFF3514 3546 0")
    (tmp_path / "fixed.off").write_text(text.replace("OFF3514 3546 0", "OFF\n3514 3546 0", 1))
    one_line, repaired = read_mesh(source), read_mesh(tmp_path / "fixed.off")
    np.testing.assert_array_equal(one_line.vertices, repaired.vertices)
    np.testing.assert_array_equal(one_line.faces, repaired.faces)


def test_pcd_sample_equals_hdf5_row(shared_data):
    folder = shared_data / "modelnet10_pointclouds_1024"
    rows = (folder / "train_files.txt").read_text().split()
    points, labels = read_pointnet_h5(folder / "modelnet10_pcd1024_train.h5")
    classes = (folder / "shape_names.txt").read_text().split()
    for name in ("chair/train/chair_0001.pcd", "toilet/train/toilet_0001.pcd"):
        cloud = read_point_cloud(folder / "pcd_samples" / name)
        row = rows.index(name)
        assert cloud.points.tobytes() == points[row].tobytes()  # bit for bit
        assert classes[labels[row]] == name.split("/")[0]


def test_modelnet_h5_counts_and_ycb_one_dimensional_labels(shared_data):
    points, labels = read_pointnet_h5(shared_data / "modelnet10_pointclouds_1024" / "modelnet10_pcd1024_test.h5")
    assert points.shape == (908, 1024, 3) and labels.shape == (908,)
    points, labels = read_pointnet_h5(shared_data / "pointnet_h5_ycb" / "ycb_objects_train.h5")
    assert points.shape == (60, 2048, 3) and points.dtype == np.float32
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [10] * 6


def test_gzipped_voxel_arrays(shared_data):
    monitor = read_array(shared_data / "modelnet10_voxels32" / "monitor.npy.gz")
    assert monitor.shape == (466, 1, 32, 32, 32) and monitor.dtype == np.float64
    assert not monitor[0].any() and monitor[1:].any(axis=(1, 2, 3, 4)).all()  # README: row 0 is all zeros
