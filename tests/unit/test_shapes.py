import numpy as np
import pytest

from core.errors import InputError
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid


def test_point_cloud_rejects_nan_and_wrong_shape():
    with pytest.raises(InputError, match="NaN"):
        PointCloud(np.array([[0, 0, np.nan]]))
    with pytest.raises(InputError, match=r"\(N, 3\)"):
        PointCloud(np.zeros((4, 2)))
    with pytest.raises(InputError, match="empty"):
        PointCloud(np.zeros((0, 3)))


def test_point_cloud_normalisation_round_trip():
    pts = np.random.default_rng(0).normal(size=(100, 3)) * 50 + 7
    cloud, norm = PointCloud(pts).normalized()
    assert np.linalg.norm(cloud.points, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(norm.invert(cloud.points), pts, rtol=1e-4)


def test_mesh_checks_face_indices():
    with pytest.raises(InputError, match="face indices"):
        Mesh(np.zeros((3, 3)), np.array([[0, 1, 3]]))
    tri = Mesh(np.eye(3), np.array([[0, 1, 2]]))
    assert tri.triangle_areas()[0] == pytest.approx(np.sqrt(3) / 2)


def test_voxel_grid_centers_and_threshold():
    occ = np.zeros((4, 4, 4), dtype=np.float64)
    occ[0, 0, 0] = 1.0
    grid = VoxelGrid(occ)
    assert grid.filled == 1
    np.testing.assert_allclose(grid.centers(), [[-0.75, -0.75, -0.75]])
    with pytest.raises(InputError, match="cubic"):
        VoxelGrid(np.zeros((4, 4, 3)))


def test_splats_linear_quantities_round_trip():
    rng = np.random.default_rng(1)
    colors = rng.uniform(0.1, 0.9, (5, 3))
    splats = GaussianSplats.from_colors(rng.normal(size=(5, 3)), colors, np.full((5, 3), 0.02),
                                        np.tile([1.0, 0, 0, 0], (5, 1)), np.full(5, 0.7))
    np.testing.assert_allclose(splats.colors, colors, atol=1e-6)
    np.testing.assert_allclose(splats.opacity, 0.7, atol=1e-6)
    np.testing.assert_allclose(splats.scales, 0.02, rtol=1e-5)
    assert splats.sh_degree == 0
    with pytest.raises(InputError, match="all-zero"):
        GaussianSplats(np.zeros((1, 3)), np.zeros((1, 3)), np.zeros(1), np.zeros((1, 3)), np.zeros((1, 4)))
