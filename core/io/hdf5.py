"""HDF5 shape collections: the PointNet point-cloud layout and ShapeNet-style voxel grids.

PointNet layout (Qi et al. 2017, ``modelnet40_ply_hdf5_2048``): ``data`` float (N, P, 3) and
``label`` integer (N,), (N, 1) or (N, 1, 1). Voxel layout: a ``voxels`` dataset as IM-NET writes it
(Chen & Zhang 2019, ``all_vox256_img_*.hdf5``: uint8 (N, R, R, R, 1)), or ``data``; accepted
shapes are (N, R, R, R), (N, R, R, R, 1) and (N, 1, R, R, R); values must lie in [0, 1] and a
cell is occupied where its value is > 0.5 (:func:`core.io.array_layout.occupancy`).

Before reading, each dataset's declared size is compared with the bytes HDF5 actually stores
for it, so a tiny file declaring a huge dataset fails before allocation.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import InputError
from core.io._checks import checked_file, reading, require_finite
from core.io.array_layout import occupancy

if TYPE_CHECKING:
    import h5py

# Deflate cannot compress better than about 1032:1 (zlib technical details, "maximum
# compression factor"); a dataset declaring more than that over its stored bytes is lying.
MAX_COMPRESSION_RATIO = 1032
_H5_ERRORS = (RuntimeError,)  # h5py reports damaged internal structures as RuntimeError
VOXEL_KEYS = ("voxels", "data")


def _dataset(path: Path, file: h5py.File, keys: tuple[str, ...]) -> h5py.Dataset:
    """The first of ``keys`` present as a numeric dataset; the error names the keys present."""
    import h5py

    key = next((k for k in keys if k in file), None)
    if key is None:
        wanted = " or ".join(repr(k) for k in keys)
        raise InputError(path, f"HDF5 has no {wanted} dataset (keys present: {', '.join(sorted(file.keys())) or 'none'})")
    dataset = file[key]
    if not isinstance(dataset, h5py.Dataset):
        raise InputError(path, f"HDF5 {key!r} is a group, not a dataset")
    if dataset.dtype.kind not in "fiub":
        raise InputError(path, f"HDF5 {key!r} has non-numeric dtype {dataset.dtype}")
    declared = int(np.prod(dataset.shape, dtype=object)) * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > MAX_COMPRESSION_RATIO * stored:
        raise InputError(path, f"HDF5 {key!r} declares shape {dataset.shape} ({declared:,} bytes) "
                               f"but stores only {stored:,} bytes")
    return dataset


def read_pointnet_h5(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read ``data`` as float32 (N, P, 3) and ``label`` as int64 (N,)."""
    import h5py  # here, not at the top: core.io is imported by every command, HDF5 is read by few

    path, _ = checked_file(path)
    with reading(path, "HDF5 file", also=_H5_ERRORS), h5py.File(path, "r") as file:
        data = _dataset(path, file, ("data",))
        label = _dataset(path, file, ("label",))
        if data.ndim != 3 or data.shape[2] != 3 or data.shape[0] == 0 or data.shape[1] == 0:
            raise InputError(path, f"HDF5 'data' has shape {data.shape}, expected (N, P, 3) with N, P > 0")
        if not label.shape or label.shape[0] != data.shape[0] or any(size != 1 for size in label.shape[1:]):
            raise InputError(path, f"HDF5 'label' has shape {label.shape}, expected one label per shape: "
                                   f"({data.shape[0]},), ({data.shape[0]}, 1) or ({data.shape[0]}, 1, 1)")
        points = require_finite(path, "'data'", data[()].astype(np.float32, copy=False))
        raw = label[()].reshape(-1)
    if raw.dtype.kind == "f" and not (np.isfinite(raw).all() and (raw == np.round(raw)).all()):
        raise InputError(path, "HDF5 'label' holds non-integer values")
    labels = raw.astype(np.int64)
    if labels.min() < 0:
        raise InputError(path, f"HDF5 'label' holds negative class indices ({int(labels.min())})")
    return points, labels


def read_voxel_h5(path: str | os.PathLike[str]) -> np.ndarray:
    """Read occupancy grids as bool (N, R, R, R) from ``voxels`` (or ``data``)."""
    import h5py

    path, _ = checked_file(path)
    with reading(path, "HDF5 file", also=_H5_ERRORS), h5py.File(path, "r") as file:
        dataset = _dataset(path, file, VOXEL_KEYS)
        shape = dataset.shape
        if len(shape) == 5 and shape[4] == 1:
            grid_shape = shape[1:4]
        elif len(shape) == 5 and shape[1] == 1:
            grid_shape = shape[2:5]
        else:
            grid_shape = shape[1:] if len(shape) == 4 else ()
        if len(grid_shape) != 3 or len(set(grid_shape)) != 1 or shape[0] == 0 or grid_shape[0] < 2:
            raise InputError(path, f"HDF5 {dataset.name.lstrip('/')!r} has shape {shape}, expected "
                                   "(N, R, R, R), (N, R, R, R, 1) or (N, 1, R, R, R) with N > 0")
        values = require_finite(path, dataset.name.lstrip("/"), dataset[()])
    return occupancy(path, values.reshape((shape[0], *grid_shape)))[0]
