"""Shared guards for every reader: the file is readable, sizes agree, arrays are sane.

Readers never trust a header: each declared count is multiplied by the bytes one item needs at
least and compared with the bytes actually present *before* anything is allocated, so a 200-byte
file that claims 2**31 vertices fails at once instead of exhausting memory.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np

from core.errors import InputError, ShapeError

T = TypeVar("T")

# Headers of text-headed formats (PLY, PCD) are a few hundred bytes; a header beyond this is a
# corrupt or hostile file (Open3D aborts the process on a 100 kB PLY comment line, notes/stack.md).
MAX_HEADER_BYTES = 64 * 1024
# A header count: optional minus sign (rejected later with a clear message), then ASCII digits.
INTEGER = re.compile(r"-?[0-9]+")


def checked_file(path: str | os.PathLike[str]) -> tuple[Path, int]:
    """Return ``(path, size)`` of a readable, non-empty regular file, else raise InputError."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(path, "is a directory, not a file")
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as exc:
        raise InputError(path, f"cannot open ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(path, "file is empty")
    return path, size


@contextmanager
def reading(path: str | os.PathLike[str], what: str,
            also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn any decoder failure inside the block into one InputError naming ``path``.

    Library parsers (plyfile, h5py, numpy, zipfile, gzip) raise many exception types on bad
    bytes; the user only needs to know which file is bad and why, in one line. ``also`` adds a
    library's own error types (h5py's RuntimeError, zipfile.BadZipFile...).
    """
    try:
        yield
    except ShapeError as exc:  # a container rejected the decoded arrays: NaN, wrong shape...
        raise InputError(path, exc.problem) from None
    except InputError as exc:
        if exc.source is None:
            raise InputError(path, exc.problem) from None
        raise
    except MemoryError:
        raise InputError(path, f"{what} is too large to load into memory") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except (OSError, ValueError, EOFError, KeyError, OverflowError, UnicodeError, *also) as exc:
        raise InputError(path, f"not a valid {what} ({type(exc).__name__}: {exc})") from None


def require_size(path: Path, declared: int, available: int, what: str) -> None:
    """Raise unless ``declared`` bytes (from a header) fit into the ``available`` bytes."""
    if declared > available:
        raise InputError(path, f"truncated or lying header: it declares {what}, which need at least "
                               f"{declared:,} bytes, but only {available:,} follow")


def require_count(path: Path, name: str, value: int) -> int:
    """Raise unless a header count is a non-negative integer."""
    if value < 0:
        raise InputError(path, f"header declares a negative {name} count ({value})")
    return value


def require_finite(path: Path, name: str, array: np.ndarray) -> np.ndarray:
    """Raise if a floating array holds NaN or Inf (numbers we would silently propagate)."""
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InputError(path, f"{name} has {bad:,} NaN or Inf values")
    return array


def build(path: Path, factory: Callable[..., T], *args, **kwargs) -> T:
    """Construct a shape container, reporting its validation failure against ``path``."""
    try:
        return factory(*args, **kwargs)
    except ShapeError as exc:
        raise InputError(path, exc.problem) from None
