"""The 26-connected pieces of an occupancy grid, and the opt-in clean-up that keeps a sample's largest one.

``core.metrics.fragmentation`` counts the pieces to score samples; ``sample --keep-largest-piece`` drops
every occupied cell outside the largest piece before the files are written. That step hides exactly
what the fragmentation metrics measure, so it is off by default, recorded in ``samples.json``, and no
figure of the README is measured with it.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from core.data.splat_grid import OCCUPANCY, OCCUPANCY_THRESHOLD
from core.errors import InputError

#: 26-connectivity: cells touching by a face, an edge or a corner are one piece (a thin diagonal
#: chair leg voxelised at 32³ is corner-connected only).
NEIGHBOURHOOD = ndimage.generate_binary_structure(3, 3)
#: the representations whose samples are grids with pieces (point clouds have no cells to connect)
GRID_REPRESENTATIONS = ("voxels", "splats")


def piece_sizes(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label per cell, 0 where empty; cell count of pieces 1..K) of one occupancy grid."""
    labels, count = ndimage.label(np.asarray(grid, dtype=bool), structure=NEIGHBOURHOOD)
    return labels, np.bincount(labels.ravel(), minlength=count + 1)[1:]


def largest_piece(grid: np.ndarray) -> np.ndarray:
    """Boolean mask of the largest 26-connected piece of ``grid`` (the first of equal ones; all False if empty)."""
    labels, sizes = piece_sizes(grid)
    if len(sizes) == 0:
        return np.zeros(np.shape(grid), dtype=bool)
    return labels == int(np.argmax(sizes)) + 1


def require_grid(representation: str) -> None:
    """An InputError unless ``representation``'s samples are grids whose pieces can be kept or dropped."""
    if representation not in GRID_REPRESENTATIONS:
        raise InputError("--keep-largest-piece", f"applies to voxel and splat samples; {representation} have no "
                                                 "grid cells to join into pieces")


def keep_largest_piece(array: np.ndarray, representation: str) -> np.ndarray:
    """A copy of exported samples with every occupied cell outside each sample's largest piece emptied.

    ``array`` is what sampling exports: voxels (N, R, R, R), splat grids (N, C, R, R, R) whose occupancy
    channel holds probabilities (an occupied cell outside loses its Gaussian: all its channels become 0;
    cells under the occupancy threshold hold no Gaussian and are left as they are).
    """
    require_grid(representation)
    kept = np.array(array, copy=True)
    for sample in kept:
        occupied = sample > 0 if representation == "voxels" else sample[OCCUPANCY] >= OCCUPANCY_THRESHOLD
        outside = occupied & ~largest_piece(occupied)
        sample[..., outside] = 0
    return kept
