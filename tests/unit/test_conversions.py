"""Conversions between meshes, point clouds, voxel grids and Gaussian splats, checked on known shapes."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import conversions as C
from core.errors import ShapeError
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid


def cube_mesh(half: float = 0.5) -> Mesh:
    """An axis-aligned closed cube with outward (counter-clockwise) faces."""
    corners = np.array([[x, y, z] for x in (-half, half) for y in (-half, half) for z in (-half, half)])
    faces = [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
             [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
    return Mesh(corners, np.array(faces))


def ball(resolution: int, radius: float) -> VoxelGrid:
    """Voxels whose centres lie inside a sphere at the origin."""
    centres = (np.indices((resolution,) * 3) + 0.5) * (2.0 / resolution) - 1.0
    return VoxelGrid((centres ** 2).sum(axis=0) <= radius ** 2)


@pytest.mark.parametrize("method", ["area", "poisson"])
def test_cube_samples_lie_on_faces_with_outward_unit_normals(method):
    cloud = C.sample_surface(cube_mesh(), 600, method=method, seed=1)
    assert 0.8 * 600 <= len(cloud) <= 600
    on_face = np.abs(np.abs(cloud.points).max(axis=1) - 0.5) < 1e-5
    assert on_face.all()
    np.testing.assert_allclose(np.linalg.norm(cloud.normals, axis=1), 1.0, atol=1e-5)
    # the normal is the axis of the face the point lies on, pointing out
    face_axis = np.argmax(np.abs(cloud.points), axis=1)
    rows = np.arange(len(cloud))
    assert np.allclose(np.abs(cloud.normals[rows, face_axis]), 1.0, atol=1e-5)
    assert (np.sign(cloud.normals[rows, face_axis]) == np.sign(cloud.points[rows, face_axis])).all()


def test_area_sampling_is_area_weighted_and_deterministic():
    # a 1 × 1 square (z = 0) and a 3 × 1 rectangle (z = 1): three times the points on the second
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [3, 0, 1], [3, 1, 1], [0, 1, 1.0]])
    mesh = Mesh(vertices, np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]]))
    cloud = C.sample_surface(mesh, 8000, seed=3)
    assert abs((cloud.points[:, 2] > 0.5).mean() - 0.75) < 0.02
    np.testing.assert_array_equal(cloud.points, C.sample_surface(mesh, 8000, seed=3).points)
    assert not np.array_equal(cloud.points, C.sample_surface(mesh, 8000, seed=4).points)


def test_sampling_interpolates_vertex_colours():
    mesh = cube_mesh()
    mesh = Mesh(mesh.vertices, mesh.faces, vertex_colors=(mesh.vertices + 0.5))  # colour = position + 0.5
    cloud = C.sample_surface(mesh, 300)
    np.testing.assert_allclose(cloud.colors, cloud.points + 0.5, atol=1e-5)


def test_filled_sphere_count_approaches_its_volume_and_surface_is_a_shell():
    sphere = C.voxels_to_mesh(ball(96, 0.7))
    filled = C.voxelize(sphere, 48, filled=True)
    surface = C.voxelize(sphere, 48)
    volume_in_voxels = 4 / 3 * np.pi * 0.7 ** 3 / filled.voxel_size ** 3
    # surface voxels are conservative (a voxel the surface touches counts), so the excess is a thin shell
    assert volume_in_voxels < filled.filled < 1.15 * volume_in_voxels
    assert surface.filled < 0.4 * filled.filled
    assert not surface.occupancy[24, 24, 24] and filled.occupancy[24, 24, 24]
    assert (filled.occupancy | ~surface.occupancy).all()  # the shell is part of the solid


def test_thin_parts_survive_voxelisation():
    # a rod 0.02 thick (a tenth of a voxel at R = 10) along x stays one connected row of voxels
    rod = Mesh(np.array([[-0.9, -0.01, 0.0], [0.9, -0.01, 0.0], [0.9, 0.01, 0.0], [-0.9, 0.01, 0.0]]),
               np.array([[0, 1, 2], [0, 2, 3]]))
    grid = C.voxelize(rod, 10)
    assert grid.occupancy.any(axis=(1, 2))[1:-1].all()


def test_sparse_point_cloud_voxelises_to_a_closed_sheet():
    # a square sheet sampled every 1.6 voxels (ModelNet10's 1,024-point spacing at 32³) leaves
    # every other voxel empty when points only mark their voxels; closing the gaps seals it
    resolution = 32
    step = 1.6 * 2 / resolution
    axis = np.arange(-0.6, 0.6, step)
    xs, ys = np.meshgrid(axis, axis)
    sheet = PointCloud(np.stack([xs.ravel(), ys.ravel(), np.full(xs.size, 0.01)], axis=1))
    grid = C.voxelize(sheet, resolution)
    layer = grid.occupancy[:, :, resolution // 2]
    inside = layer[7:25, 7:25]  # cells well within the sheet's [-0.6, 0.6) square
    assert inside.all()
    assert grid.occupancy.sum() == layer.sum()  # still one voxel thick: nothing grows off the sheet


def test_voxelize_rejects_shapes_outside_the_grid_frame():
    with pytest.raises(ShapeError, match="beyond the voxel grid"):
        C.voxelize(PointCloud(np.array([[0.0, 0.0, 1.5], [0.0, 0.0, 0.0]])), 8)


def test_marching_cubes_of_a_voxelised_sphere_has_the_sphere_area_and_outward_faces():
    radius = 0.7
    mesh = C.voxels_to_mesh(ball(64, radius))
    area = mesh.triangle_areas().sum()
    # marching cubes on binary occupancy overestimates a curved surface by its stair-steps (≈ 8 %)
    assert abs(area / (4 * np.pi * radius ** 2) - 1) < 0.12
    a, b, c = (mesh.vertices[mesh.faces[:, k]] for k in range(3))
    signed_volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6
    assert abs(signed_volume / (4 / 3 * np.pi * radius ** 3) - 1) < 0.03
    assert np.abs(np.linalg.norm(mesh.vertices, axis=1) - radius).max() < 2 * 2 / 64


def test_marching_cubes_closes_shapes_touching_the_border():
    mesh = C.voxels_to_mesh(VoxelGrid(np.ones((4, 4, 4), dtype=bool)))
    lo, hi = mesh.bounds
    # the surface of a full grid is the grid's own box, not an open sheet at the outer voxels
    np.testing.assert_allclose(lo, -1.0, atol=1e-9)
    np.testing.assert_allclose(hi, 1.0, atol=1e-9)
    with pytest.raises(ShapeError, match="empty"):
        C.voxels_to_mesh(VoxelGrid(np.zeros((4, 4, 4), dtype=bool)))


def test_splats_of_a_plane_lie_flat_with_the_thin_axis_along_the_normal():
    rng = np.random.default_rng(0)
    normal = np.array([1.0, 2.0, 2.0]) / 3.0
    u = np.cross(normal, [0, 0, 1.0]); u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    uv = rng.random((800, 2))
    splats = C.to_splats(PointCloud(uv[:, :1] * u + uv[:, 1:] * v))  # no normals: PCA of neighbours
    axes = C.rotation_matrices(splats.rotations)
    thinnest = np.argmin(splats.log_scales, axis=1)
    thin_axis = axes[np.arange(len(splats)), :, thinnest]
    assert np.abs(thin_axis @ normal).min() > 0.99
    scales = np.sort(splats.scales, axis=1)
    assert (scales[:, 0] < 0.2 * scales[:, 1]).all()
    # in-plane size follows the spacing: ~ half the mean neighbour distance of 800 points on a unit square
    assert 0.005 < np.median(scales[:, 2]) < 0.05
    np.testing.assert_allclose(splats.opacity, C.SPLAT_OPACITY, atol=1e-5)
    np.testing.assert_allclose(splats.colors, np.broadcast_to(C.NEUTRAL_COLOR, (800, 3)), atol=1e-5)


def test_mesh_splats_follow_face_normals_and_colours():
    mesh = cube_mesh()
    mesh = Mesh(mesh.vertices, mesh.faces, vertex_colors=np.full((8, 3), [0.9, 0.2, 0.1]))
    splats = C.to_splats(mesh, n=500)
    assert len(splats) == 500
    axes = C.rotation_matrices(splats.rotations)
    thin_axis = axes[np.arange(500), :, 2]
    face_axis = np.argmax(np.abs(splats.positions), axis=1)
    assert np.allclose(np.abs(thin_axis[np.arange(500), face_axis]), 1.0, atol=1e-4)
    np.testing.assert_allclose(splats.colors, np.broadcast_to([0.9, 0.2, 0.1], (500, 3)), atol=1e-4)


def test_quaternions_map_z_onto_any_direction_including_minus_z():
    directions = np.array([[0, 0, 1.0], [0, 0, -1.0], [1, 0, 0], [0.3, -0.4, 0.866]])
    rotated_z = C.rotation_matrices(C.quaternions_z_to(directions))[:, :, 2]
    np.testing.assert_allclose(rotated_z, directions / np.linalg.norm(directions, axis=1, keepdims=True),
                               atol=1e-6)


def test_splats_to_points_keeps_centres_colours_and_normals():
    cloud = C.sample_surface(cube_mesh(), 400)
    splats = C.to_splats(cloud)
    points = C.splats_to_points(splats)
    np.testing.assert_array_equal(points.points, splats.positions)
    np.testing.assert_allclose(np.abs(np.einsum("ij,ij->i", points.normals, cloud.normals)), 1.0, atol=1e-5)
    np.testing.assert_allclose(points.colors, splats.colors)


@pytest.mark.parametrize("target, kind", [("points", PointCloud), ("voxels", VoxelGrid), ("splats", GaussianSplats),
                                          ("mesh", Mesh)])
def test_convert_reaches_every_representation_from_every_other(target, kind):
    mesh = cube_mesh()
    sources = [mesh, C.sample_surface(mesh, 2000), C.voxelize(mesh, 16, filled=True), C.to_splats(mesh, 2000)]
    for source in sources:
        result = C.convert(source, target, points=512, resolution=16)
        assert isinstance(result, kind)
        if kind is PointCloud:
            assert len(result) == 512
        if kind is VoxelGrid:
            assert result.resolution == 16 and result.filled > 0
        # every result still looks like the cube: its box is centred and roughly cubic
        lo, hi = result.bounds if kind is not VoxelGrid else (result.centers().min(0), result.centers().max(0))
        extent = hi - lo
        assert extent.min() > 0.8 * extent.max()
        np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=0.1 * extent.max())


def test_convert_chain_round_trip_keeps_the_shape():
    sphere = C.voxels_to_mesh(ball(32, 0.8))
    points = C.convert(sphere, "points", points=3000)
    chained = C.convert(C.convert(C.convert(points, "splats"), "points"), "voxels", resolution=24, filled=True)
    direct = C.convert(sphere, "voxels", resolution=24, filled=True)
    iou = (chained.occupancy & direct.occupancy).sum() / (chained.occupancy | direct.occupancy).sum()
    assert iou > 0.85  # the gaps between 3,000 scattered points do not let the fill leak out


def test_splats_to_splats_is_the_same_object_so_writes_stay_bit_exact():
    splats = C.to_splats(cube_mesh(), 100)
    assert C.convert(splats, "splats") is splats


def test_fitted_voxels_fill_the_grid_less_a_margin():
    grid = C.convert(cube_mesh(half=3.0), "voxels", resolution=16)
    occupied = np.argwhere(grid.occupancy)
    assert occupied.min() == 1 and occupied.max() == 14


def test_bad_arguments_raise_shape_errors():
    with pytest.raises(ShapeError, match="unknown target"):
        C.convert(cube_mesh(), "pixels")
    with pytest.raises(ShapeError, match="positive"):
        C.sample_surface(cube_mesh(), 0)
    flat = Mesh(np.zeros((3, 3)), np.array([[0, 1, 2]]))
    with pytest.raises(ShapeError, match="zero surface area"):
        C.sample_surface(flat, 10)


def test_points_drawn_on_splats_follow_opacity_and_each_gaussians_spread():
    splats = GaussianSplats.from_colors(
        positions=np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]]), colors=np.full((2, 3), 0.5),
        scales=np.array([[0.1, 0.2, 0.05], [0.1, 0.1, 0.1]]), rotations=np.array([[1.0, 0, 0, 0]] * 2),
        opacity=np.array([0.9, 0.1]))
    points = C.sample_splats(splats, 20000, seed=3).points
    near_first = np.linalg.norm(points, axis=1) < 2.5
    assert near_first.mean() == pytest.approx(0.9, abs=0.01)  # chosen in proportion to opacity
    assert points[near_first].std(axis=0) == pytest.approx([0.1, 0.2, 0.05], rel=0.05)  # the Gaussian's own axes
    assert np.array_equal(points, C.sample_splats(splats, 20000, seed=3).points)  # seeded
