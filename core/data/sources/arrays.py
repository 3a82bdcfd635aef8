"""Arrays of shapes, one class per file named by its stem (``chair.npy.gz`` -> chair), or per shape by the
labels an ``.npz`` holds beside them (names, or indices named ``class_K``; the file's split still comes
from its name, so ``train.npz`` + ``test.npz`` with labels are a labelled, split dataset).

NumPy files (``.npy``, ``.npy.gz``, ``.npz``) hold point clouds, voxel grids or splat grids (``sample``'s
splat ``samples.npy``, decoded by :mod:`core.data.splat_grid`), told apart by their shape alone
(:mod:`core.io.array_layout`); ShapeNet-style voxel HDF5 files hold grids (:func:`core.io.read_voxel_h5`).
All-empty grids are dropped and reported: they are padding, not shapes (ModelNet10-voxels' row 0 is the
``np.zeros`` its author concatenated onto), and a splat grid without an occupied cell has nothing to decode. The files of one
folder must hold one representation; a file that does not load, or holds the other one, is skipped
and reported.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.sources.base import (CLASS_NAME, ArraySource, DroppedRow, ShapeRecord, SkippedFile, cached_index,
                                    read_each, split_from_name)
from core.data.splat_grid import OCCUPANCY, OCCUPANCY_THRESHOLD, decode
from core.errors import InputError
from core.io import read_voxel_h5
from core.io.array_layout import OCCUPIED_ABOVE, ShapeArray, read_labels, read_shape_array, shape_of_row
from core.shapes import GaussianSplats, PointCloud, VoxelGrid

ARRAY_SUFFIXES = (".npy", ".npy.gz", ".npz")
#: the per-file index kept in the cache, so a dataset opens without reading its arrays again (the version
#: changes with the index's fields, so an older cached index is never read as a newer one)
_INDEX = "shape-array-index/2"
#: why an empty row is dropped, per representation (point clouds are never empty)
_EMPTY_REASON = {"voxels": "all-empty grid", "splats": "splat grid without an occupied cell"}


@dataclass
class ShapeArraySource(ArraySource):
    """Points float32 (N, P, C), occupancy bool (N, R, R, R) or splat grids float32 (N, 15, R, R, R) per file,
    held in memory once read; ``key`` names the shapes' member of ``.npz`` files (None: by convention)."""

    key: str | None = None

    def read(self, path: str) -> np.ndarray:
        """The file's shapes as one array."""
        return _read(Path(path), self.key).shapes

    def load(self, record: ShapeRecord) -> PointCloud | VoxelGrid | GaussianSplats:
        """The record's cloud (normals from 6 columns), grid or decoded splats, in the default [-1, 1]³ frame."""
        row = self.array(record.source)[record.row]
        if self.representation == "splats":
            return decode(row)
        return shape_of_row(self.representation, row)

    def stack(self, records: list[ShapeRecord]) -> np.ndarray:
        """The records' clouds as x y z (normals left out) or their grids."""
        stack = super().stack(records)
        return stack[..., :3] if self.representation == "points" else stack


def is_array_file(path: Path) -> bool:
    """True for the NumPy files this source reads."""
    return path.name.lower().endswith(ARRAY_SUFFIXES)


def array_stem(path: Path) -> str:
    """The file name without its array suffix ("chair.npy.gz" -> "chair")."""
    name = path.name
    suffix = next(s for s in ARRAY_SUFFIXES + (path.suffix,) if name.lower().endswith(s))
    return name[: len(name) - len(suffix)]


def open_arrays(root: Path, files: list[Path], key: str | None = None) -> ShapeArraySource:
    """Index each file (a file or a folder of them); files that fail or hold the minority representation are
    skipped. ``key`` names the shapes' member of ``.npz`` files."""
    arrays: dict[str, np.ndarray] = {}
    indexes, skipped = read_each(root, files, lambda path: cached_index(
        path, f"{_INDEX}:{key or ''}", lambda: _indexed(path, key), arrays))
    kinds = {path: str(index["representation"]) for path, index in indexes.items()}
    representation = Counter(kinds.values()).most_common(1)[0][0]
    skipped += [SkippedFile(str(path), f"holds {kind}, while the dataset's other files hold {representation}")
                for path, kind in kinds.items() if kind != representation]
    records, dropped, classes, notes = [], [], [], []
    for path, index in indexes.items():
        if kinds[path] != representation:
            continue
        name, empty = array_stem(path), index["empty"]
        names, labels = _file_classes(index, name)
        classes += [str(n) for n in names]
        dropped += [DroppedRow(str(path), int(row), _EMPTY_REASON[representation]) for row in np.flatnonzero(empty)]
        records += [ShapeRecord(f"{name}_{row:04d}", str(names[labels[row]]), split_from_name(name), str(path),
                                int(row)) for row in np.flatnonzero(~empty)]
        if index["thresholded"]:
            notes.append(f"{path}: voxel values between 0 and 1 thresholded at {OCCUPIED_ABOVE} (occupied above)")
    if not records:
        raise InputError(root, f"every {'splat' if representation == 'splats' else 'voxel'} grid is empty")
    return ShapeArraySource(str(root), representation, list(dict.fromkeys(classes)), records, dropped, skipped,
                            len(files), notes, arrays=arrays, key=key)


def _read(path: Path, key: str | None = None) -> ShapeArray:
    """The shapes of a NumPy (``key``: the member of an .npz) or voxel HDF5 file."""
    if is_array_file(path):
        return read_shape_array(path, key)
    return ShapeArray("voxels", read_voxel_h5(path), single=False)


def _indexed(path: Path, key: str | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The file's shapes, and its index: representation, empty grid rows, whether values were thresholded, and
    each shape's class from the file's labels (empty when it has none)."""
    shapes = _read(path, key)
    names, labels = _label_classes(path, len(shapes))
    return shapes.shapes, {"representation": np.array(shapes.representation), "empty": _empty_rows(shapes),
                           "thresholded": np.array(shapes.thresholded), "class_names": names, "labels": labels}


def _label_classes(path: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The classes the labels of an .npz name (str, in index order, indices named ``class_K``) and each shape's
    position among them (int64 (N,)); both empty when the file has no labels and its stem names its class."""
    labels = read_labels(path, count) if is_array_file(path) else None
    if labels is None:
        return np.array([], dtype=str), np.array([], dtype=np.int64)
    values, positions = np.unique(labels, return_inverse=True)
    names = values if labels.dtype.kind == "U" else np.array([CLASS_NAME.format(k) for k in values])
    return names.astype(str), positions.astype(np.int64)


def _file_classes(index: dict[str, np.ndarray], stem: str) -> tuple[np.ndarray, np.ndarray]:
    """A file's classes and each row's position among them: those its labels name, else its stem alone."""
    if index["class_names"].size:
        return index["class_names"], index["labels"]
    return np.array([stem]), np.zeros(len(index["empty"]), dtype=np.int64)


def _empty_rows(shapes: ShapeArray) -> np.ndarray:
    """Bool (N,): voxel grids without an occupied cell, splat grids without a cell that decodes; clouds never."""
    if shapes.representation == "points":
        return np.zeros(len(shapes), dtype=bool)
    if shapes.representation == "splats":
        occupied = shapes.shapes[:, OCCUPANCY] >= OCCUPANCY_THRESHOLD
    else:
        occupied = shapes.shapes
    return ~occupied.reshape(len(shapes), -1).any(axis=1)
