"""Where a shape sits in a voxel or splat grid: its bounding box centred, its longest side fitted.

Its own module because both the conversions (voxelising) and the representations (which call the
conversions) need it: kept in either, the two would import each other.
"""
from __future__ import annotations

import numpy as np

from core.shapes import Normalization

#: empty voxels kept between a shape's bounding box and the grid's faces, so the surface never
#: touches the border (marching cubes then closes it, and rounding never pushes a point outside)
GRID_MARGIN_CELLS = 1


def grid_fit(coords: np.ndarray, resolution: int) -> Normalization:
    """Centre the bounding box; scale its longest side to span the grid less ``GRID_MARGIN_CELLS`` each side.

    The box's faces land on the centres of the first cells inside the margin (not on cell borders,
    where floating-point rounding would decide the cell), so the shape fills cells
    ``GRID_MARGIN_CELLS .. R - 1 - GRID_MARGIN_CELLS`` along its longest side.
    """
    low, high = coords.min(axis=0), coords.max(axis=0)
    half = float((high - low).max()) / 2
    inner = 1.0 - (2.0 * GRID_MARGIN_CELLS + 1.0) / resolution
    return Normalization(tuple(float(c) for c in (low + high) / 2), inner / half if half > 0 else 1.0)
