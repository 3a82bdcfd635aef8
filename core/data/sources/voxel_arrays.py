"""Voxel occupancy arrays: one class per file, named by the file's stem (``chair.npy.gz`` -> chair).

Accepted arrays: (N, 1, R, R, R) as ModelNet10-voxels ships them, (N, R, R, R), or one (R, R, R)
grid, in ``.npy``/``.npy.gz``/``.npz`` (via core.io, never unpickled) or the ShapeNet voxel HDF5
layout. All-empty rows are dropped and reported: they are padding, not shapes (ModelNet10-voxels'
row 0 is the ``np.zeros`` its author concatenated onto).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.sources.base import ArraySource, DroppedRow, ShapeRecord, cached_index, split_from_name
from core.errors import InputError
from core.shapes import VoxelGrid

ARRAY_SUFFIXES = (".npy", ".npy.gz", ".npz")


@dataclass
class VoxelArraySource(ArraySource):
    """Boolean (N, R, R, R) occupancy per file, held in memory (ModelNet10 chair: 29 MB as bool)."""

    def read(self, path: str) -> np.ndarray:
        """The file's grids as bool (N, R, R, R)."""
        return _read_grids(Path(path))

    def load(self, record: ShapeRecord) -> VoxelGrid:
        """The record's grid in the default [-1, 1]³ frame."""
        return VoxelGrid(self.array(record.source)[record.row])


def is_array_file(path: Path) -> bool:
    """True for the array files this source reads."""
    return path.name.lower().endswith(ARRAY_SUFFIXES)


def array_stem(path: Path) -> str:
    """The file name without its array suffix ("chair.npy.gz" -> "chair")."""
    name = path.name
    suffix = next(s for s in ARRAY_SUFFIXES + (path.suffix,) if name.lower().endswith(s))
    return name[: len(name) - len(suffix)]


def open_voxel_arrays(root: Path, files: list[Path]) -> VoxelArraySource:
    """Read each file's grids; a file that is not a stack of cubic grids is an InputError naming it."""
    arrays, records, dropped, classes = {}, [], [], []
    for path in files:
        empty = cached_index(path, "voxel-empty-rows", lambda: _empty_rows(path), arrays)["empty"]
        name = array_stem(path)
        classes.append(name)
        split = split_from_name(name)
        dropped += [DroppedRow(str(path), int(row), "all-empty grid") for row in np.flatnonzero(empty)]
        records += [ShapeRecord(f"{name}_{row:04d}", name, split, str(path), int(row))
                    for row in np.flatnonzero(~empty)]
    if not records:
        raise InputError(root, "every voxel grid is empty")
    return VoxelArraySource(str(root), "voxels", list(dict.fromkeys(classes)), records, dropped, arrays=arrays)


def _read_grids(path: Path) -> np.ndarray:
    """Boolean (N, R, R, R) grids of an array or voxel HDF5 file."""
    from core.io import read_array, read_voxel_h5

    return _as_grid_stack(path, read_array(path) if is_array_file(path) else read_voxel_h5(path))


def _empty_rows(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The file's grids, and which rows are all empty as the index kept in the cache."""
    grids = _read_grids(path)
    return grids, {"empty": ~grids.reshape(len(grids), -1).any(axis=1)}


def _as_grid_stack(path: Path, array: np.ndarray) -> np.ndarray:
    """Boolean (N, R, R, R) from (N, 1, R, R, R), (N, R, R, R) or (R, R, R) numeric input."""
    if array.ndim == 5 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or len(set(array.shape[1:])) != 1:
        raise InputError(path, f"expected voxel grids of shape (N, R, R, R) or (N, 1, R, R, R), got {array.shape}")
    if array.dtype == bool:
        return array
    if not np.issubdtype(array.dtype, np.number):
        raise InputError(path, f"voxel array has non-numeric dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InputError(path, "voxel array has NaN or Inf values")
    return array > 0.5
