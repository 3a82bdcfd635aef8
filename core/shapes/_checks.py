"""Array checks shared by the shape containers."""
from __future__ import annotations

import numpy as np

from core.errors import ShapeError


def as_float_array(name: str, value: object, columns: int | None, dtype=np.float32,
                   allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a finite float array of shape (N, columns) or (N,) if columns is None."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ShapeError(f"{name} is not a numeric array ({exc})") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ShapeError(f"{name} has non-numeric dtype {array.dtype}")
    expected = (-1,) if columns is None else (-1, columns)
    if array.ndim != len(expected) or (columns is not None and array.shape[1] != columns):
        want = "(N,)" if columns is None else f"(N, {columns})"
        raise ShapeError(f"{name} must have shape {want}, got {array.shape}")
    if not allow_empty and array.shape[0] == 0:
        raise ShapeError(f"{name} is empty")
    array = array.astype(dtype, copy=False)
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=tuple(range(1, array.ndim))).sum())
        raise ShapeError(f"{name} has NaN or Inf values in {bad} rows")
    return array


def check_rows(name: str, array: np.ndarray | None, rows: int) -> None:
    """Raise if an optional per-element array does not have one row per element."""
    if array is not None and array.shape[0] != rows:
        raise ShapeError(f"{name} has {array.shape[0]} rows for {rows} elements")
