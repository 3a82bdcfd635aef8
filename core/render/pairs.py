"""Two shapes side by side as one shape, so the one viewport can show a sample beside its nearest reference.

A researcher checks a generator for memorisation by looking at each sample next to the training shape it is
closest to; the viewport draws one shape, so the pair becomes one shape of the same kind: the right one is
scaled to the left one's size and set beside it along x. Voxel grids of one resolution stay voxels (one larger
cubic grid holding both), so they keep their cube drawing and height colours.
"""
from __future__ import annotations

import numpy as np

from core.render.scene import shape_bounds
from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

#: space between the two shapes, as a share of the left shape's width
GAP = 0.25


def side_by_side(left: Shape, right: Shape) -> Shape:
    """``right`` beside ``left`` (to its +x side, scaled to its size) as one shape of their common kind."""
    if type(left) is not type(right):
        raise TypeError(f"cannot pair a {type(left).__name__} with a {type(right).__name__}")
    if isinstance(left, VoxelGrid):
        return _voxel_pair(left, right)
    scale, shift = _placement(left, right)
    if isinstance(left, PointCloud):
        colors = None if left.colors is None or right.colors is None else np.concatenate([left.colors, right.colors])
        return PointCloud(np.concatenate([left.points, right.points * scale + shift]).astype(np.float32),
                          colors=colors)
    if isinstance(left, Mesh):
        return Mesh(np.concatenate([left.vertices, right.vertices * scale + shift]),
                    np.concatenate([left.faces, right.faces + len(left.vertices)]))
    if isinstance(left, GaussianSplats):
        return GaussianSplats(
            positions=np.concatenate([left.positions, right.positions * scale + shift]).astype(np.float32),
            sh_dc=np.concatenate([left.sh_dc, right.sh_dc]),
            opacity_logit=np.concatenate([left.opacity_logit, right.opacity_logit]),
            log_scales=np.concatenate([left.log_scales, right.log_scales + np.log(scale)]).astype(np.float32),
            rotations=np.concatenate([left.rotations, right.rotations]))
    raise TypeError(f"cannot pair {type(left).__name__} shapes")


def _placement(left: Shape, right: Shape) -> tuple[float, np.ndarray]:
    """Scale and shift that give ``right`` the size (bounding-box diagonal) of ``left`` and put it :data:`GAP`
    widths to its right, centred on it in y and z."""
    (left_low, left_high), (right_low, right_high) = shape_bounds(left), shape_bounds(right)
    scale = float(np.linalg.norm(left_high - left_low) / max(np.linalg.norm(right_high - right_low), 1e-12))
    width = left_high[0] - left_low[0]
    shift = (left_low + left_high) / 2 - scale * (right_low + right_high) / 2
    shift[0] = left_high[0] + GAP * width - scale * right_low[0]
    return scale, shift


def _voxel_pair(left: VoxelGrid, right: VoxelGrid) -> VoxelGrid:
    """Both grids (of one resolution) in one cubic grid: ``right``'s occupied cells start :data:`GAP` of
    ``left``'s occupied width after ``left``'s last occupied column."""
    if left.resolution != right.resolution:
        raise TypeError(f"cannot pair voxel grids of {left.resolution}³ and {right.resolution}³")
    size = left.resolution
    left_columns = np.flatnonzero(left.occupancy.any(axis=(1, 2)))
    right_columns = np.flatnonzero(right.occupancy.any(axis=(1, 2)))
    left_end = int(left_columns[-1]) + 1 if len(left_columns) else size
    right_start = int(right_columns[0]) if len(right_columns) else 0
    width = left_end - (int(left_columns[0]) if len(left_columns) else 0)
    offset = left_end + max(1, round(GAP * width)) - right_start
    grid = np.zeros((offset + size,) * 3, dtype=bool)
    grid[:size, :size, :size] = left.occupancy
    grid[offset:offset + size, :size, :size] |= right.occupancy
    return VoxelGrid(grid, origin=left.origin, voxel_size=left.voxel_size)
