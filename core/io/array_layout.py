"""What a NumPy array of shapes holds, told from its shape alone (never from the file name).

Users hand us arrays as their tools wrote them, so any real dtype, byte order and memory order is
accepted. The layouts (README, "Data", lists the same rules):

* **points**: ``(N, P, C)`` clouds or one cloud ``(P, C)``, where ``C`` is 3 (``x y z``) or 6
  (``x y z nx ny nz``); numbers of any integer or float type, returned as float32.
* **voxels**: ``(N, R, R, R)``, ``(N, 1, R, R, R)`` or one grid ``(R, R, R)`` with ``R >= 8``; bool,
  integer or float values in [0, 1], a cell occupied where its value is > 0.5 (probabilities are
  thresholded; 255-masks or signed distances are refused, never guessed at).

* **splat grids**: ``(N, 15, R, R, R)`` float, Gaussian splats in a grid as ``sample`` writes splat
  samples (channel 0 occupancy, then offset, log-scale, rotation, opacity, colour; the layout is
  :mod:`core.data.splat_grid`'s, which also decodes them: ``core.io`` only tells them apart).

A 3-D array whose three sizes are equal is a grid; such a cube smaller than 8 is ambiguous (a tiny
grid, or a few clouds of as many points) and refused with one line. An ``.npz`` archive gives the array
its caller names (``--key``), else its only array besides the labels, else the first of :data:`NPZ_KEYS`
it holds; its labels are the first of :data:`LABEL_KEYS` (class indices or names, one per shape).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.arrays import array_names, array_suffix, read_array
from core.shapes import PointCloud, VoxelGrid

#: columns of a point array: their count -> what they hold
POINT_COLUMNS = {3: "x y z", 6: "x y z nx ny nz"}
#: smallest grid side read as voxels: below it a cube is as likely a few tiny point clouds
MIN_RESOLUTION = 8
#: a voxel is occupied where its value exceeds this (values must lie in [0, 1])
OCCUPIED_ABOVE = 0.5
#: channels of one cell of a splat grid (N, C, R, R, R): occupancy, offset ×3, log-scale ×3, rotation ×4,
#: opacity, colour ×3
SPLAT_GRID_CHANNELS = 15
#: members of an .npz read as shapes when it holds more than one array, in this order
NPZ_KEYS = ("points", "voxels", "data")
#: members of an .npz read as the shapes' labels (PointNet's HDF5 calls them ``label``)
LABEL_KEYS = ("labels", "label")
_ACCEPTED = (f"points (N, P, 3|6) or (P, 3|6), voxels (N, R, R, R), (N, 1, R, R, R) or (R, R, R) "
             f"with R >= {MIN_RESOLUTION}, splat grids (N, {SPLAT_GRID_CHANNELS}, R, R, R)")


@dataclass(frozen=True)
class ShapeArray:
    """The shapes of one array: points float32 (N, P, C), voxel occupancy bool (N, R, R, R) or splat grids
    float32 (N, SPLAT_GRID_CHANNELS, R, R, R) (representation "splats").

    ``single`` is True when the file held one shape without a batch axis; ``thresholded`` when voxel
    values strictly between 0 and 1 were thresholded at :data:`OCCUPIED_ABOVE`.
    """

    representation: str
    shapes: np.ndarray
    single: bool
    thresholded: bool = False

    def __len__(self) -> int:
        return len(self.shapes)

    def shape(self, row: int) -> PointCloud | VoxelGrid:
        """Shape ``row`` as a container (see :func:`shape_of_row`)."""
        return shape_of_row(self.representation, self.shapes[row])


def shape_of_row(representation: str, row: np.ndarray) -> PointCloud | VoxelGrid:
    """One row of a shape array: a cloud (normals from 6 columns) or a grid in the default [-1, 1]^3 frame.

    Splat grids are decoded by ``core.data.splat_grid`` (core.io stays below core.data), so they are refused here.
    """
    if representation == "voxels":
        return VoxelGrid(row)
    if representation == "points":
        return PointCloud(row[:, :3], row[:, 3:6] if row.shape[1] == 6 else None)
    raise ValueError(f"a row of {representation} is decoded by core.data, not core.io")


def read_shape_array(path: str | os.PathLike[str], key: str | None = None) -> ShapeArray:
    """Read an ``.npy``, ``.npy.gz`` or ``.npz`` file and interpret it by its shape; ``key`` names the
    shapes' member of an ``.npz`` (other files have one array and ignore it)."""
    path = Path(path)
    return shape_array(path, read_array(path, _npz_key(path, key)))


def _npz_key(path: Path, key: str | None) -> str | None:
    """The member of an .npz to read (None for other files): ``key``, its only array besides the labels, or a
    known name."""
    if array_suffix(path) != ".npz":
        return None
    if key is not None:
        return key  # read_array names the arrays there are when it is not one of them
    names = array_names(path)
    shapes = [name for name in names if name not in LABEL_KEYS] or names
    if len(shapes) == 1:
        return shapes[0]
    key = next((k for k in NPZ_KEYS if k in names), None)
    if key is None:
        raise InputError(path, f"npz holds {len(names)} arrays ({', '.join(sorted(names)) or 'none'}) and none is "
                               f"called {', '.join(NPZ_KEYS)}: name the shapes array with --key")
    return key


def read_labels(path: str | os.PathLike[str], count: int) -> np.ndarray | None:
    """The labels of the ``count`` shapes of an ``.npz`` (its first member of :data:`LABEL_KEYS`): int64
    class indices or str class names, one per shape; None for other files and archives without labels."""
    path = Path(path)
    if array_suffix(path) != ".npz":
        return None
    key = next((k for k in LABEL_KEYS if k in array_names(path)), None)
    if key is None:
        return None
    labels = read_array(path, key)
    if labels.size != count or any(size != 1 for size in labels.shape[1:]):  # (N,), (N, 1), (N, 1, 1)
        raise InputError(path, f"{key!r} has shape {labels.shape}; it needs one label per shape ({count},)")
    labels = labels.reshape(count)
    if labels.dtype.kind in "US":
        return labels.astype(str)
    if labels.dtype.kind in "iu" or (labels.dtype.kind == "f" and np.array_equal(labels, np.round(labels))):
        return labels.astype(np.int64)
    raise InputError(path, f"{key!r} holds {labels.dtype} values; labels are class indices (integers) or names")


def shape_array(path: Path, array: np.ndarray) -> ShapeArray:
    """Interpret ``array`` (read from ``path``) as points or voxels by its shape; anything else is one line."""
    shape = array.shape
    if array.size == 0:
        raise InputError(path, f"array is empty (shape {shape}): it holds no shapes")
    if array.dtype.kind not in "biuf":
        raise InputError(path, f"array has dtype {array.dtype}; shapes are numbers")
    if len(shape) == 3 and len(set(shape)) == 1 and shape[0] < MIN_RESOLUTION:
        raise InputError(path, f"shape {shape} is ambiguous: a cube reads as one voxel grid, and grids need "
                               f"R >= {MIN_RESOLUTION}; store point clouds as (N, P, 3) with P != N")
    if len(shape) in (2, 3) and shape[-1] in POINT_COLUMNS:  # never a cube: 3 and 6 are below MIN_RESOLUTION
        return ShapeArray("points", _points(path, array), single=len(shape) == 2)
    if len(shape) == 5 and shape[1] == SPLAT_GRID_CHANNELS and len(set(shape[2:])) == 1:
        return ShapeArray("splats", np.ascontiguousarray(array, dtype=np.float32), single=False)
    grids = {3: shape, 4: shape[1:], 5: shape[2:] if shape[1] == 1 else ()}.get(len(shape), ())
    if len(grids) == 3 and len(set(grids)) == 1:
        if grids[0] < MIN_RESOLUTION:
            raise InputError(path, f"voxel grids of shape {shape} are {grids[0]}^3; grids need R >= {MIN_RESOLUTION}")
        occupied, thresholded = occupancy(path, array)
        return ShapeArray("voxels", occupied.reshape(-1, *grids), single=len(shape) == 3, thresholded=thresholded)
    raise InputError(path, f"array of shape {shape} holds no shapes we know; accepted: {_ACCEPTED}")


def _points(path: Path, array: np.ndarray) -> np.ndarray:
    """Float32 (N, P, C) clouds, native byte order and C order."""
    if array.dtype.kind == "b":
        raise InputError(path, "point coordinates are booleans; points need numbers")
    clouds = np.ascontiguousarray(array, dtype=np.float32)
    return clouds[None] if clouds.ndim == 2 else clouds


def occupancy(path: str | os.PathLike[str], values: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(values > 0.5, any value strictly between 0 and 1)``; values outside [0, 1] are an InputError.

    Occupancy is 0/1 or a probability; 255 masks, -1/1 labels or signed distances would each need a
    different rule, so they are refused rather than thresholded into a wrong shape.
    """
    if values.dtype == bool:
        return values, False
    low, high = values.min(), values.max()
    if low < 0 or high > 1:
        raise InputError(path, f"voxel values must lie in [0, 1] (occupancy or probability), found {low:g} to "
                               f"{high:g}; scale or threshold them first")
    return values > OCCUPIED_ABOVE, bool(np.any((values > 0) & (values < 1)))
