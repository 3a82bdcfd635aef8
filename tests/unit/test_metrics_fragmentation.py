"""Fragmentation: the share of occupied cells off the main 26-connected piece, and the piece count."""
from __future__ import annotations

import numpy as np
import pytest

from core.metrics.fragmentation import fragments, grid_fragments


def _grid() -> np.ndarray:
    return np.zeros((12, 12, 12), dtype=bool)


def test_a_solid_block_is_one_piece_without_floaters():
    grid = _grid()
    grid[2:6, 2:6, 2:6] = True
    assert grid_fragments(grid) == (0.0, 1)


def test_a_floating_cell_is_counted_as_its_share_of_the_occupied_cells():
    grid = _grid()
    grid[2:6, 2:6, 2:6] = True  # 64 cells
    grid[10, 10, 10] = True  # one cell away from the block
    share, count = grid_fragments(grid)
    assert count == 2 and share == pytest.approx(1 / 65)


def test_cells_touching_by_a_corner_are_one_piece():
    grid = _grid()
    grid[np.arange(8), np.arange(8), np.arange(8)] = True  # a diagonal leg: corner contacts only
    assert grid_fragments(grid) == (0.0, 1)


def test_an_empty_grid_scores_the_worst_share_and_no_piece():
    assert grid_fragments(_grid()) == (1.0, 0)


def test_set_summary_is_mean_share_and_share_in_one_piece():
    whole, broken = _grid(), _grid()
    whole[1:4, 1:4, 1:4] = True
    broken[1:4, 1:4, 1:4] = True
    broken[8:11, 8:11, 8:11] = True  # two equal pieces: half the cells off the "largest"
    pieces = fragments(np.stack([whole, broken, whole, broken]))
    assert pieces.components.tolist() == [1, 2, 1, 2]
    assert pieces.summary() == {"floaters": pytest.approx(0.25), "one_piece": 0.5}
