"""Polygon faces to triangles, shared by the OBJ, OFF and PLY mesh readers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InputError


def fan_triangulate(path: Path, indices: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Split polygons into triangle fans ``(v0, vi, vi+1)``; returns int64 (F, 3).

    ``indices`` holds every polygon's vertex indices back to back, ``sizes`` the corners per polygon.
    Fans keep every polygon (Open3D's OBJ reader drops them, notes/stack.md) and are exact for the
    convex polygons CAD exporters write.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.size and sizes.min() < 3:
        face = int(np.argmax(sizes < 3))
        raise InputError(path, f"face {face} has {int(sizes[face])} corners; a face needs at least 3")
    if int(sizes.sum()) != len(indices):
        raise InputError(path, f"faces list {len(indices):,} indices but their sizes add up to {int(sizes.sum()):,}")
    starts = np.cumsum(sizes) - sizes
    triangles_per_face = sizes - 2
    first = np.repeat(starts, triangles_per_face)
    # offset of each triangle inside its own fan: 1, 2, ..., size-2
    offsets = np.arange(int(triangles_per_face.sum())) - np.repeat(np.cumsum(triangles_per_face) - triangles_per_face,
                                                                   triangles_per_face) + 1
    indices = np.asarray(indices, dtype=np.int64)
    return np.stack([indices[first], indices[first + offsets], indices[first + offsets + 1]], axis=1)


def check_indices(path: Path, indices: np.ndarray, n_vertices: int) -> np.ndarray:
    """Raise unless every face index lies in ``[0, n_vertices)``; returns ``indices`` unchanged."""
    indices = np.asarray(indices)
    bad = (indices < 0) | (indices >= n_vertices)
    if bad.any():
        value = int(indices[bad].flat[0])
        raise InputError(path, f"face index {value} is out of range: the file has {n_vertices:,} vertices "
                               f"(valid 0..{n_vertices - 1}); {int(bad.sum()):,} indices are out of range")
    return indices
