"""The splat-grid codec: known answers for one Gaussian per cell, merged cells, empty grids, packing."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data import splat_grid
from core.data.conversions import rotation_matrices
from core.errors import ShapeError
from core.models import autoencoder_config
from core.models.losses import GRID_LOSSES
from core.shapes import GaussianSplats
from core.training.representations import representation

R = 8
CELL = 2.0 / R


def _splats(positions, opacity, colors=None, scales=None, rotations=None) -> GaussianSplats:
    n = len(positions)
    rng = np.random.default_rng(0)
    return GaussianSplats.from_colors(
        np.asarray(positions, dtype=np.float64),
        rng.random((n, 3)) if colors is None else np.asarray(colors, dtype=np.float64),
        rng.uniform(0.01, 0.1, (n, 3)) if scales is None else np.asarray(scales, dtype=np.float64),
        rng.normal(size=(n, 4)) if rotations is None else np.asarray(rotations, dtype=np.float64),
        np.asarray(opacity, dtype=np.float64))


def _one_per_cell(count: int) -> GaussianSplats:
    """``count`` Gaussians in distinct random cells, anywhere inside their cell."""
    rng = np.random.default_rng(1)
    cells = rng.choice(R**3, count, replace=False)
    corner = np.stack(np.unravel_index(cells, (R,) * 3), axis=1) * CELL - 1.0
    return _splats(corner + rng.uniform(0.01, 0.99, (count, 3)) * CELL, rng.uniform(0.05, 0.95, count))


def _covariance(splats: GaussianSplats) -> np.ndarray:
    rotation = rotation_matrices(splats.rotations.astype(np.float64))
    return np.einsum("nij,nj,nkj->nik", rotation, splats.scales.astype(np.float64) ** 2, rotation)


def _by_position(splats: GaussianSplats) -> np.ndarray:
    return np.lexsort(splats.positions.T[::-1])


def test_one_gaussian_per_cell_round_trips():
    original = _one_per_cell(40)
    grid = splat_grid.encode(original, R)
    assert grid.shape == (splat_grid.CHANNELS, R, R, R) and grid[0].sum() == 40
    decoded = splat_grid.decode(grid)
    a, b = original, decoded
    ia, ib = _by_position(a), _by_position(b)
    assert np.allclose(a.positions[ia], b.positions[ib], atol=1e-6)
    assert np.allclose(a.sh_dc[ia], b.sh_dc[ib], atol=1e-5)
    assert np.allclose(a.opacity[ia], b.opacity[ib], atol=1e-6)
    assert np.allclose(a.log_scales[ia], b.log_scales[ib], atol=1e-5)
    unit = a.unit_rotations * np.where(a.unit_rotations[:, :1] < 0, -1, 1)  # q and -q: one rotation
    assert np.allclose(unit[ia], b.rotations[ib], atol=1e-6)
    assert np.allclose(b.normals, splat_grid.thinnest_axes(b))


def test_two_gaussians_in_a_cell_merge_with_opacity_weights():
    centre = np.array([0.5, 0.5, 0.5]) * CELL - 1.0  # the middle of cell (0, 0, 0)
    positions = [centre + [-0.2 * CELL, 0, 0], centre + [0.3 * CELL, 0.1 * CELL, 0]]
    colors, opacity = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [0.2, 0.6]
    pair = _splats(positions, opacity, colors, scales=[[0.02, 0.01, 0.005], [0.01, 0.03, 0.004]])
    merged = splat_grid.decode(splat_grid.encode(pair, R))
    w = np.array(opacity) / sum(opacity)
    assert len(merged) == 1
    assert np.allclose(merged.positions[0], w @ pair.positions.astype(np.float64), atol=1e-6)
    assert np.allclose(merged.colors[0], w @ np.array(colors), atol=1e-5)  # (0.25, 0, 0.75)
    assert np.isclose(merged.opacity[0], w @ np.array(opacity), atol=1e-5)  # 0.5
    mean = w @ pair.positions.astype(np.float64)
    spread = pair.positions - mean
    expected = np.einsum("n,nij->ij", w, _covariance(pair) + spread[:, :, None] * spread[:, None, :])
    assert np.allclose(_covariance(merged)[0], expected, rtol=1e-4, atol=1e-9)
    assert np.all(np.diff(merged.log_scales[0]) <= 0)  # descending: the thin axis last


def test_empty_grid_is_a_clear_error_unless_a_stand_in_is_asked_for():
    grid = np.zeros((splat_grid.CHANNELS, R, R, R), dtype=np.float32)
    with pytest.raises(ShapeError, match="no occupied cell"):
        splat_grid.decode(grid)
    grid[0, 2, 3, 4] = 0.3  # below the threshold, but the most probable cell
    stand_in = splat_grid.decode(grid, at_least=1)
    assert len(stand_in) == 1 and np.allclose(stand_in.positions[0], (np.array([2, 3, 4]) + 0.5) * CELL - 1.0)


def test_encode_rejects_splats_outside_the_grid_and_fit_puts_them_in():
    far = _splats([[0.0, 0.0, 0.0], [5.0, 1.0, -3.0]], [0.5, 0.5])
    with pytest.raises(ShapeError, match="fit them to the grid"):
        splat_grid.encode(far, R)
    fitted = splat_grid.fit_to_grid(far, R)
    assert splat_grid.encode(fitted, R)[0].sum() == 2
    assert np.allclose(fitted.scales / far.scales, fitted.scales[0, 0] / far.scales[0, 0])  # sizes scale too


def test_pack_and_model_input_rebuild_the_dense_grids():
    shapes = [_one_per_cell(5), _one_per_cell(9)]
    cells = [splat_grid.encode_cells(s, R) for s in shapes]
    packed = splat_grid.pad_packed([splat_grid.pack_cells(cells[:1]), splat_grid.pack_cells(cells[1:])])
    assert packed.shape == (2, 9, splat_grid.CHANNELS) and (packed[0, 5:, 0] == -1).all()
    dense = [splat_grid.encode(s, R) for s in shapes]
    assert all(np.array_equal(a, b) for a, b in zip(splat_grid.unpack(packed, R), dense))
    batch = representation("splats", resolution=R).model_input(torch.from_numpy(packed))
    assert torch.equal(batch, torch.from_numpy(np.stack(dense)))


def test_splat_loss_masks_attributes_to_occupied_cells():
    target = torch.from_numpy(splat_grid.encode(_one_per_cell(6), R))[None]
    logits = torch.where(target[:, :1] > 0.5, 8.0, -8.0)
    perfect = torch.cat([logits, target[:, 1:]], dim=1)
    noisy_empty = perfect.clone()
    noisy_empty[:, 1:] += 5.0 * (target[:, :1] < 0.5)  # wrong values only where nothing is
    loss_fn = GRID_LOSSES["splat"](autoencoder_config("tiny", "splats", resolution=R, latent_resolution=4))
    exact, logs = loss_fn(perfect, target)
    assert logs["attributes"] == 0 and logs["iou"] == 1.0
    assert torch.equal(loss_fn(noisy_empty, target)[0], exact)
    wrong = perfect.clone()
    wrong[:, 1:] += 1.0
    assert loss_fn(wrong, target)[1]["attributes"] == pytest.approx(1.0)


def test_sparse_clouds_splat_from_their_closed_surface_not_one_splat_per_point():
    # 1,000 points on a sphere (ModelNet10's density) leave gaps between cells at 32³; splatting the closed surface with
    # 4,096 splats occupies (nearly) the same cells as a dense 20,000-point cloud of that sphere
    from core.data.representations import shape_splats
    from core.shapes import PointCloud

    def sphere(count: int) -> PointCloud:
        directions = np.random.default_rng(count).normal(size=(count, 3))
        return PointCloud(0.8 * directions / np.linalg.norm(directions, axis=1, keepdims=True))

    def occupied(cloud: PointCloud, n: int) -> int:
        grid = splat_grid.encode(splat_grid.fit_to_grid(shape_splats(cloud, n=n), 32), 32)
        return int((grid[splat_grid.OCCUPANCY] > splat_grid.OCCUPANCY_THRESHOLD).sum())

    sparse = shape_splats(sphere(1000), n=4096)
    assert len(sparse) == 4096
    radii = np.linalg.norm(sparse.positions, axis=1)
    assert 0.95 < radii.max() <= 1.0 + 1e-5 and radii.min() > 0.8  # a shell in the unit sphere, not a blob
    dense_cells = occupied(sphere(20_000), 4096)
    assert occupied(sphere(1000), 4096) >= 0.9 * dense_cells
    assert occupied(sphere(1000), 1000) < 0.6 * dense_cells  # what one splat per point gave
