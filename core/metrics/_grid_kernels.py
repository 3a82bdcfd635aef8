"""numba kernels of :mod:`core.metrics.grid_chamfer` (kept apart so importing the module stays cheap)."""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _survivors(cand, begin, end, cx, cy, cz, half, slack, distances, out, ptr):
    """Append to ``out[:, ptr:]`` the points of ``cand[:, begin:end]`` (coordinate rows) that can be nearest
    to some point of the cell of centre (cx, cy, cz) and sizes ``half`` * 2; return the new end.

    A point ``p`` is dropped when the cell's nearest point ``p*`` (to its centre ``c``) is nearer than
    ``p`` to every location ``c + e`` of the cell (``|e_k| <= half_k``): ``|c-p|^2 - |c-p*|^2 >
    2 sum_k half_k |p_k - p*_k|``, the minimum over the box of the bisector's linear function. Such a
    ``p`` is nobody's nearest point in the cell, so the minimum over the survivors is exact.
    """
    hx, hy, hz = (0.5 + slack) * half[0], (0.5 + slack) * half[1], (0.5 + slack) * half[2]
    tolerance = slack * (hx * hx + hy * hy + hz * hz)
    n = end - begin
    for u in range(n):
        distances[u] = ((cand[0, begin + u] - cx) ** 2 + (cand[1, begin + u] - cy) ** 2
                        + (cand[2, begin + u] - cz) ** 2)
    best = np.argmin(distances[:n])
    nearest = distances[best]
    bx, by, bz = cand[0, begin + best], cand[1, begin + best], cand[2, begin + best]
    for u in range(n):
        x, y, z = cand[0, begin + u], cand[1, begin + u], cand[2, begin + u]
        reach = 2.0 * (hx * abs(x - bx) + hy * abs(y - by) + hz * abs(z - bz))
        if distances[u] - nearest <= reach * (1.0 + slack) + tolerance:
            out[0, ptr], out[1, ptr], out[2, ptr] = x, y, z
            ptr += 1
    return ptr


@numba.njit(cache=True)
def _refine(cand, offsets, cells, parents, first, count, lo, cell_size, slack, distances):
    """Candidate lists of ``count`` cells of one level from their parents' lists (CSR in, CSR out)."""
    capacity = 0
    for t in range(count):
        p = parents[first + t]
        capacity += offsets[p + 1] - offsets[p]
    out = np.empty((3, capacity), dtype=np.float32)
    out_offsets = np.empty(count + 1, dtype=np.int64)
    ptr = 0
    for t in range(count):
        cx = lo[0] + (cells[first + t, 0] + 0.5) * cell_size[0]
        cy = lo[1] + (cells[first + t, 1] + 0.5) * cell_size[1]
        cz = lo[2] + (cells[first + t, 2] + 0.5) * cell_size[2]
        p = parents[first + t]
        out_offsets[t] = ptr
        ptr = _survivors(cand, offsets[p], offsets[p + 1], cx, cy, cz, cell_size, slack, distances, out, ptr)
    out_offsets[count] = ptr
    return out, out_offsets


#: A leaf cell with fewer queries than this sweeps its parent's list instead of refining it (refining
#: scans the parent's list twice; measured break-even on ModelNet10 chairs at 3-4 queries).
MIN_LEAF_QUERIES = 4


@numba.njit(cache=True)
def _sweep(cand, offsets, cells, parents, first, lo, cell_size, slack, distances, queries, owner, starts, n_clouds,
           max_cell):
    """Sum over each query cloud of its points' squared nearest distances to one site cloud.

    Each leaf cell's candidates come from its parent's list (refined here, not stored), then are swept
    over the cell's queries in float32, vectorised over the queries.
    """
    acc = np.zeros(n_clouds)
    best = np.empty(max_cell, dtype=np.float32)
    leaf = np.empty((3, len(distances)), dtype=np.float32)
    for t in range(len(starts) - 1):
        qs, k = starts[t], starts[t + 1] - starts[t]
        p = parents[first + t]
        if k >= MIN_LEAF_QUERIES:
            cx = lo[0] + (cells[first + t, 0] + 0.5) * cell_size[0]
            cy = lo[1] + (cells[first + t, 1] + 0.5) * cell_size[1]
            cz = lo[2] + (cells[first + t, 2] + 0.5) * cell_size[2]
            n_leaf = _survivors(cand, offsets[p], offsets[p + 1], cx, cy, cz, cell_size, slack, distances, leaf, 0)
            source, begin = leaf, 0
        else:
            n_leaf = offsets[p + 1] - offsets[p]
            source, begin = cand, offsets[p]
        best[:k] = np.inf
        for u in range(begin, begin + n_leaf):
            sx, sy, sz = source[0, u], source[1, u], source[2, u]
            for q in range(k):
                dx = queries[0, qs + q] - sx
                dy = queries[1, qs + q] - sy
                dz = queries[2, qs + q] - sz
                best[q] = min(best[q], dx * dx + dy * dy + dz * dz)
        for q in range(k):
            acc[owner[qs + q]] += best[q]
    return acc


@numba.njit(parallel=True, cache=True)
def nearest_means_block(sites_t, queries, owner, starts, cells, parents, level_starts, lo, size, n_clouds,
                        max_cell, slack):
    """(m, n_clouds) sums of squared nearest distances from every query cloud to each site cloud (m,3,Q)."""
    m, n_points = sites_t.shape[0], sites_t.shape[2]
    leaf_level = len(level_starts) - 2
    out = np.zeros((m, n_clouds))
    for b in numba.prange(m):
        cand = sites_t[b].copy()
        distances = np.empty(n_points)
        offsets = np.array([0, n_points], dtype=np.int64)
        for level in range(1, leaf_level):
            first, count = level_starts[level], level_starts[level + 1] - level_starts[level]
            cand, offsets = _refine(cand, offsets, cells, parents, first, count, lo, size / (1 << level), slack,
                                    distances)
        out[b] = _sweep(cand, offsets, cells, parents, level_starts[leaf_level], lo, size / (1 << leaf_level), slack,
                        distances, queries, owner, starts, n_clouds, max_cell)
    return out
