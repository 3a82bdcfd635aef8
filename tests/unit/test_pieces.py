"""``core.data.pieces``: the largest 26-connected piece of a grid, and the opt-in clean-up that keeps only it."""
from __future__ import annotations

import numpy as np
import pytest

from core.data.pieces import keep_largest_piece, largest_piece
from core.data.splat_grid import CHANNELS, OCCUPANCY
from core.errors import InputError
from core.metrics.fragmentation import fragments


def _two_blocks() -> np.ndarray:
    """An 8³ grid: a 3x3x3 block and, apart from it, a 2x2x2 block."""
    grid = np.zeros((8, 8, 8), dtype=np.uint8)
    grid[0:3, 0:3, 0:3] = 1
    grid[5:7, 5:7, 5:7] = 1
    return grid


def test_the_largest_piece_is_the_bigger_block_and_corner_contact_joins():
    grid = _two_blocks()
    mask = largest_piece(grid > 0)
    assert mask.sum() == 27 and mask[0:3, 0:3, 0:3].all()
    grid[3, 3, 3] = grid[4, 4, 4] = 1  # a diagonal chain touching both blocks by their corners
    assert largest_piece(grid > 0).sum() == 27 + 8 + 2
    assert not largest_piece(np.zeros((4, 4, 4), dtype=bool)).any()


def test_voxel_samples_keep_only_their_largest_piece():
    samples = np.stack([_two_blocks(), _two_blocks()])
    samples[1, 0:3, 0:3, 0:3] = 0  # the second sample: only the small block, already one piece
    kept = keep_largest_piece(samples, "voxels")
    assert kept.dtype == samples.dtype and kept[0].sum() == 27 and kept[1].sum() == 8
    assert fragments(kept > 0).summary() == {"floaters": 0.0, "one_piece": 1.0}
    assert fragments(samples > 0).summary()["one_piece"] == 0.5  # the input is left as it was


def test_splat_cells_outside_the_largest_piece_lose_every_channel():
    grid = np.zeros((1, CHANNELS, 8, 8, 8), dtype=np.float32)
    occupied = _two_blocks() > 0
    grid[0][:, occupied] = 0.7  # occupancy 0.7 (>= 0.5) and some attribute value in every channel
    grid[0, OCCUPANCY, 7, 0, 0] = 0.3  # below the threshold: not a Gaussian, not a piece, left alone
    kept = keep_largest_piece(grid, "splats")[0]
    assert (kept[:, 5:7, 5:7, 5:7] == 0).all()  # the small block is gone, channels and all
    assert np.allclose(kept[:, 0:3, 0:3, 0:3], 0.7) and kept[OCCUPANCY, 7, 0, 0] == pytest.approx(0.3)


def test_point_clouds_are_refused_with_the_option_named():
    with pytest.raises(InputError, match="--keep-largest-piece.*voxel and splat"):
        keep_largest_piece(np.zeros((1, 16, 3), dtype=np.float32), "points")
