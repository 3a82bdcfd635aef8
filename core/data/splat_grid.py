"""Gaussian splats as a dense (C, R, R, R) grid and back: L3DG's "splats in a grid" (DESIGN.md).

Each cell of an R³ grid over [-1, 1]³ (the voxel frame) holds at most one Gaussian as
:data:`CHANNELS` channels, each scaled to roughly [-1, 1] so a conv autoencoder sees well-scaled
inputs without per-dataset statistics:

====  ==========  ======================================================================
  0   occupancy   1 where a Gaussian is, else 0 (a probability in decoded grids)
 1-3  offset      centre - cell centre, in half cells: [-1, 1]
 4-6  log-scale   (ln(σ / cell) - LOG_SCALE_CENTER) / LOG_SCALE_SPREAD, σ clamped (below)
 7-10 rotation    unit quaternion (w, x, y, z) with w ≥ 0 (q and -q are the same rotation)
  11  opacity     2 α - 1
12-14 colour DC   2 · SH_C0 · f_dc = 2 (rgb - 0.5): view-independent colour, SH degree 0
====  ==========  ======================================================================

Several Gaussians falling into one cell are merged into one with opacity weights wᵢ = αᵢ / Σα:
centre, colour and opacity are the weighted means, and the covariance is moment-matched,
Σ = Σᵢ wᵢ (Σᵢ + (μᵢ - μ)(μᵢ - μ)ᵀ), the merge hierarchical 3DGS uses for its interior nodes
(Kerbl et al. 2024, eq. 4), so the merged Gaussian covers the region its parts covered. Its scales
are the square roots of Σ's eigenvalues in descending order (the thin axis last, as splats made by
:mod:`core.data.conversions` have it) and its rotation the eigenvector frame. A cell with a single
Gaussian keeps that Gaussian's own scales and rotation, so a one-per-cell set round-trips up to
float32 rounding (and quaternion normalisation and sign). Higher SH bands are dropped.
"""
from __future__ import annotations

import numpy as np

from core.data.conversions import rotation_matrices, splats_to_points
from core.data.grid_frame import grid_fit
from core.errors import ShapeError
from core.io.array_layout import SPLAT_GRID_CHANNELS
from core.shapes import SH_C0, GaussianSplats

#: occupancy, offset ×3, log-scale ×3, rotation ×4, opacity, colour DC ×3 (core.io tells arrays of such grids apart)
CHANNELS = SPLAT_GRID_CHANNELS
OCCUPANCY = 0
OFFSET = slice(1, 4)
LOG_SCALE = slice(4, 7)
ROTATION = slice(7, 11)
OPACITY = 11
COLOR = slice(12, 15)
#: decoded cells at or above this occupancy hold a Gaussian (logit 0)
OCCUPANCY_THRESHOLD = 0.5
#: ln(σ / cell) is clamped to this range before scaling: e^-8 of a cell is far below a pixel at any
#: grid size used here, and e^2 ≈ 7 cells is already a blob over a fifth of a 32³ grid.
LOG_SCALE_MIN, LOG_SCALE_MAX = -8.0, 2.0
#: centre and spread of ln(σ / cell): measured medians are about -1 (splats made from 1,024-point
#: ModelNet10 clouds at 32³, the in-plane axes) to -3 (their thin axis, the real donut scene).
LOG_SCALE_CENTER, LOG_SCALE_SPREAD = -1.5, 2.0
#: opacity kept inside (0, 1) when turned back into a logit
OPACITY_EPS = 1e-4
#: added to the opacity weights so cells of fully transparent Gaussians still have a centre
WEIGHT_EPS = 1e-12
#: column of the flat cell index in packed rows (:func:`pack_cells`); -1 marks padding
PACKED_INDEX = 0


def cell_size(resolution: int) -> float:
    """Edge length of one cell of the R³ grid over [-1, 1]³."""
    return 2.0 / resolution


def cell_index(positions: np.ndarray, resolution: int) -> np.ndarray:
    """The (i, j, k) cell of each position in [-1, 1]³, int64 (N, 3); the far faces belong to the last cell."""
    return np.clip(np.floor((positions + 1.0) / cell_size(resolution)).astype(np.int64), 0, resolution - 1)


def fit_to_grid(splats: GaussianSplats, resolution: int) -> GaussianSplats:
    """The splats moved and scaled so their centres' bounding box sits centred in the grid, as voxels do."""
    return splats.transformed(grid_fit(splats.positions.astype(np.float64), resolution))


def encode_cells(splats: GaussianSplats, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The occupied cells: flat indices int64 (M,) ascending and channels 1.. float32 (M, CHANNELS - 1).

    The splats must already lie in [-1, 1]³ (see :func:`fit_to_grid`).
    """
    if resolution < 2:
        raise ShapeError(f"splat grid resolution must be at least 2, got {resolution}")
    positions = splats.positions.astype(np.float64)
    size = cell_size(resolution)
    if np.abs(positions).max() > 1.0 + 1e-6:
        raise ShapeError(f"splat centres extend beyond the grid's frame [-1, 1]³ "
                         f"({positions.min():.3g}..{positions.max():.3g}); fit them to the grid first")
    flat = np.ravel_multi_index(cell_index(positions, resolution).T, (resolution,) * 3)
    cells, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    alpha = splats.opacity.astype(np.float64)
    weight = alpha + WEIGHT_EPS
    weight = weight / np.bincount(inverse, weight)[inverse]

    def mean(values: np.ndarray) -> np.ndarray:
        flat_values = values.reshape(len(values), -1)
        sums = [np.bincount(inverse, weight * flat_values[:, k], len(cells)) for k in range(flat_values.shape[1])]
        return np.stack(sums, axis=1).reshape((len(cells),) + values.shape[1:])

    center = mean(positions)
    log_scales, rotations = _merged_shapes(splats, positions, center, inverse, counts, mean)
    cell_center = (np.stack(np.unravel_index(cells, (resolution,) * 3), axis=1) + 0.5) * size - 1.0
    channels = np.concatenate([
        (center - cell_center) / (size / 2),
        (np.clip(log_scales - np.log(size), LOG_SCALE_MIN, LOG_SCALE_MAX) - LOG_SCALE_CENTER) / LOG_SCALE_SPREAD,
        rotations,
        2.0 * mean(alpha)[:, None] - 1.0,
        2.0 * SH_C0 * mean(splats.sh_dc.astype(np.float64)),
    ], axis=1)
    return cells, channels.astype(np.float32)


def _merged_shapes(splats: GaussianSplats, positions: np.ndarray, center: np.ndarray, inverse: np.ndarray,
                   counts: np.ndarray, mean) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell log-scales (M, 3) and canonical quaternions (M, 4): moment-matched where cells merge."""
    from scipy.spatial.transform import Rotation

    rotation = rotation_matrices(splats.rotations.astype(np.float64))
    variances = np.exp(2.0 * splats.log_scales.astype(np.float64))
    spread = positions - center[inverse]
    second = np.einsum("nij,nj,nkj->nik", rotation, variances, rotation) + spread[:, :, None] * spread[:, None, :]
    eigenvalues, eigenvectors = np.linalg.eigh(mean(second))
    eigenvalues, eigenvectors = eigenvalues[:, ::-1], eigenvectors[:, :, ::-1].copy()  # descending
    eigenvectors[np.linalg.det(eigenvectors) < 0, :, 2] *= -1  # a proper rotation
    xyzw = Rotation.from_matrix(eigenvectors).as_quat()
    quaternions = np.concatenate([xyzw[:, 3:], xyzw[:, :3]], axis=1)
    log_scales = 0.5 * np.log(np.maximum(eigenvalues, np.finfo(np.float64).tiny))
    single = np.flatnonzero(counts == 1)
    alone = np.flatnonzero(counts[inverse] == 1)  # the splats alone in their cell
    order = np.argsort(inverse[alone])  # in the order of their cells, as ``single`` is
    log_scales[single] = splats.log_scales[alone[order]]
    quaternions[single] = splats.unit_rotations[alone[order]]
    quaternions[quaternions[:, 0] < 0] *= -1
    return log_scales, quaternions


def to_grid(cells: np.ndarray, channels: np.ndarray, resolution: int) -> np.ndarray:
    """Occupied cells as the dense float32 (CHANNELS, R, R, R) grid (zeros in empty cells)."""
    grid = np.zeros((CHANNELS, resolution**3), dtype=np.float32)
    grid[OCCUPANCY, cells] = 1.0
    grid[1:, cells] = channels.T
    return grid.reshape(CHANNELS, resolution, resolution, resolution)


def encode(splats: GaussianSplats, resolution: int) -> np.ndarray:
    """Splats in [-1, 1]³ as the dense (CHANNELS, R, R, R) grid."""
    return to_grid(*encode_cells(splats, resolution), resolution)


def kept_cells(occupancy: np.ndarray) -> np.ndarray:
    """Flat indices of the cells whose occupancy is at least :data:`OCCUPANCY_THRESHOLD` (the decoded ones)."""
    return np.flatnonzero(np.asarray(occupancy).reshape(-1) >= OCCUPANCY_THRESHOLD)


def decode(grid: np.ndarray, at_least: int = 0) -> GaussianSplats:
    """One Gaussian per cell whose occupancy is at least :data:`OCCUPANCY_THRESHOLD`, in the [-1, 1]³ frame.

    ``at_least`` keeps the most probable cells when fewer pass (a preview of an almost empty
    sample still has something to show); a grid without any kept cell is a ShapeError.
    """
    grid = np.asarray(grid)
    if grid.ndim != 4 or grid.shape[0] != CHANNELS or len(set(grid.shape[1:])) != 1:
        raise ShapeError(f"splat grid must have shape ({CHANNELS}, R, R, R), got {grid.shape}")
    resolution = grid.shape[1]
    occupancy = grid[OCCUPANCY].reshape(-1)
    cells = kept_cells(occupancy)
    if len(cells) < at_least:
        cells = np.sort(np.argsort(-occupancy, kind="stable")[:at_least])
    if len(cells) == 0:
        raise ShapeError("splat grid has no occupied cell: nothing to decode")
    values = grid[1:].reshape(CHANNELS - 1, -1)[:, cells].T.astype(np.float64)
    channel = lambda part: values[:, part.start - 1:part.stop - 1]  # noqa: E731  (grid channel -> column)
    size = cell_size(resolution)
    cell_center = (np.stack(np.unravel_index(cells, (resolution,) * 3), axis=1) + 0.5) * size - 1.0
    log_scales = np.clip(channel(LOG_SCALE) * LOG_SCALE_SPREAD + LOG_SCALE_CENTER, LOG_SCALE_MIN, LOG_SCALE_MAX)
    rotations = channel(ROTATION)
    degenerate = np.linalg.norm(rotations, axis=1) < 1e-6
    rotations[degenerate] = (1.0, 0.0, 0.0, 0.0)
    opacity = np.clip((values[:, OPACITY - 1] + 1.0) / 2.0, OPACITY_EPS, 1.0 - OPACITY_EPS)
    splats = GaussianSplats(
        positions=cell_center + np.clip(channel(OFFSET), -1.0, 1.0) * size / 2,
        sh_dc=channel(COLOR) / (2.0 * SH_C0), opacity_logit=np.log(opacity / (1.0 - opacity)),
        log_scales=log_scales + np.log(size), rotations=rotations)
    splats.normals = thinnest_axes(splats)
    return splats


def thinnest_axes(splats: GaussianSplats) -> np.ndarray:
    """Each Gaussian's shortest axis (its surface normal for flat splats), float32 (N, 3)."""
    return splats_to_points(splats).normals


def pack_cells(shapes: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Occupied cells of several shapes as float32 (N, K, CHANNELS): column 0 the flat cell index
    (exact in float32 up to 2²⁴ cells, i.e. 256³), the rest channels 1..; rows past a shape's
    cells are padding with index -1. The compact form datasets cache and training keeps."""
    rows = max([0] + [len(cells) for cells, _ in shapes])
    packed = np.zeros((len(shapes), rows, CHANNELS), dtype=np.float32)
    packed[:, :, PACKED_INDEX] = -1.0
    for row, (cells, channels) in enumerate(shapes):
        packed[row, :len(cells), PACKED_INDEX] = cells
        packed[row, :len(cells), 1:] = channels
    return packed


def pad_packed(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate packed batches with different row counts, padding each to the longest."""
    rows = max(part.shape[1] for part in parts)
    padded = []
    for part in parts:
        extra = np.zeros((len(part), rows - part.shape[1], CHANNELS), dtype=np.float32)
        extra[:, :, PACKED_INDEX] = -1.0
        padded.append(np.concatenate([part, extra], axis=1))
    return np.concatenate(padded)


def unpack(packed: np.ndarray, resolution: int) -> list[np.ndarray]:
    """Packed rows (N, K, CHANNELS) back as N dense grids (the inverse of :func:`pack_cells`)."""
    grids = []
    for rows in packed:
        rows = rows[rows[:, PACKED_INDEX] >= 0]
        grids.append(to_grid(rows[:, PACKED_INDEX].astype(np.int64), rows[:, 1:], resolution))
    return grids
