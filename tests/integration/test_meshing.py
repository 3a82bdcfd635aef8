"""``to_mesh`` and ``convert --to mesh``: every representation gives a surface in its own frame, read back
by the project's reader and by Open3D."""
from __future__ import annotations

import numpy as np
import pytest

from core.cli import main
from core.io import read_shape
from core.shapes import Mesh, PointCloud, VoxelGrid
from core.data.meshing import to_mesh

#: a sphere of this radius and centre, far from the unit frame, shows that meshes keep coordinates
RADIUS, CENTER = 3.0, np.array([10.0, -4.0, 2.0])


def sphere_points(n: int = 1500) -> np.ndarray:
    """Evenly spread points on the test sphere (a Fibonacci lattice, like a Poisson-disk scan)."""
    i = np.arange(n) + 0.5
    polar, azimuth = np.arccos(1 - 2 * i / n), np.pi * (1 + 5**0.5) * i
    directions = np.stack([np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)], axis=1)
    return CENTER + RADIUS * directions


def radii(mesh: Mesh) -> np.ndarray:
    """Distances of the mesh's vertices from the sphere's centre."""
    return np.linalg.norm(mesh.vertices - CENTER, axis=1)


@pytest.mark.parametrize("method", ["poisson", "grid"])
def test_points_mesh_lies_on_the_sphere_in_its_own_frame(method):
    mesh = to_mesh(PointCloud(sphere_points()), method)
    assert len(mesh.faces) > 500
    assert abs(np.median(radii(mesh)) - RADIUS) < 0.05 * RADIUS
    assert np.abs(radii(mesh) - RADIUS).max() < 0.15 * RADIUS


def test_poisson_normals_point_outwards():
    mesh = to_mesh(PointCloud(sphere_points()), "poisson")
    a, b, c = (mesh.vertices[mesh.faces[:, k]] for k in range(3))
    outward = np.einsum("ij,ij->i", np.cross(b - a, c - a), (a + b + c) / 3 - CENTER)
    assert (outward > 0).mean() > 0.95


def test_splats_and_voxels_mesh_where_their_shape_is():
    from core.data.conversions import convert, to_splats

    cloud = PointCloud(sphere_points())
    splat_mesh = to_mesh(to_splats(cloud))
    assert abs(np.median(radii(splat_mesh)) - RADIUS) < 0.05 * RADIUS
    ball = convert(cloud, "voxels", resolution=24, filled=True)
    assert isinstance(ball, VoxelGrid)
    voxel_mesh = to_mesh(ball)
    assert np.linalg.norm(voxel_mesh.vertices.mean(axis=0)) < 0.1  # voxelize fits the grid's own frame


def test_an_empty_or_tiny_shape_is_refused():
    from core.errors import ShapeError

    with pytest.raises(ShapeError, match="4 points"):
        to_mesh(PointCloud(np.zeros((3, 3))))
    with pytest.raises(ShapeError, match="meshing method"):
        to_mesh(PointCloud(sphere_points()), "alpha")


@pytest.mark.parametrize("suffix", [".obj", ".glb", ".ply"])
def test_convert_to_mesh_reads_back_with_open3d_and_our_reader(tmp_path, suffix):
    import open3d as o3d

    source = tmp_path / "sphere.npy"
    np.save(source, sphere_points().astype(np.float32))
    out = tmp_path / f"sphere{suffix}"
    assert main(["convert", str(source), "--to", "mesh", "--out", str(out)]) == 0
    ours = read_shape(out)
    assert isinstance(ours, Mesh) and abs(np.median(radii(ours)) - RADIUS) < 0.05 * RADIUS
    theirs = o3d.io.read_triangle_mesh(str(out))
    assert len(theirs.triangles) == len(ours.faces)
    np.testing.assert_allclose(np.sort(np.asarray(theirs.vertices), axis=0), np.sort(ours.vertices, axis=0),
                               atol=1e-4)
