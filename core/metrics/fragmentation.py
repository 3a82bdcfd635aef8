"""Fragmentation of occupancy grids: how much of each shape floats off its main piece.

Chamfer between voxel centres barely notices a few small floating pieces (each adds a short
nearest-neighbour distance), so a generator whose every chair is in eleven pieces can still score a
1-NNA-CD close to its oracle. These numbers expose it: per shape, the share of occupied cells outside
the largest 26-connected component (:mod:`core.data.pieces`) and the number of components; per set,
``floaters`` (the mean share) and ``one_piece`` (the share of shapes in exactly one component).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.pieces import piece_sizes


@dataclass(frozen=True)
class Fragments:
    """Per-shape fragmentation: ``floaters[i]`` in [0, 1], ``components[i]`` (0 for an empty grid)."""

    floaters: np.ndarray
    components: np.ndarray

    def summary(self) -> dict[str, float]:
        """``floaters`` (mean share off the main piece) and ``one_piece`` (share in one component)."""
        return {"floaters": float(self.floaters.mean()), "one_piece": float(np.mean(self.components == 1))}


def grid_fragments(grid: np.ndarray) -> tuple[float, int]:
    """(share of occupied cells off the largest 26-connected component, component count) of one grid.

    An empty grid has no main piece: it scores the worst share, 1, with 0 components.
    """
    _, sizes = piece_sizes(grid)
    if len(sizes) == 0:
        return 1.0, 0
    return float(1.0 - sizes.max() / sizes.sum()), len(sizes)


def fragments(grids) -> Fragments:
    """:func:`grid_fragments` of every grid in an (N, R, R, R) stack (or any iterable of grids)."""
    rows = [grid_fragments(grid) for grid in grids]
    return Fragments(np.array([r[0] for r in rows], dtype=np.float64), np.array([r[1] for r in rows], dtype=np.int64))
