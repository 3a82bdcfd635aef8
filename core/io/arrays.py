"""NumPy arrays: ``.npy``, ``.npz`` and gzip-compressed ``.npy.gz``, never unpickled.

The ``.npy`` header is read with numpy's own header parser, but the payload is read here in
bounded chunks: numpy allocates the declared shape up front when the source is not a plain file
(gzip, zip members), so a lying header could otherwise demand any amount of memory. Arrays of
Python objects are refused before a byte of payload is read.
"""
from __future__ import annotations

import gzip
import os
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.errors import InputError
from core.io._checks import checked_file, reading, require_finite, require_size
from core.io.atomic import atomic_write

_CHUNK_BYTES = 1024 * 1024  # also the most a lying header can make us allocate up front
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
# numpy parses the header dict with ast.literal_eval after tokenising it; zipfile raises
# NotImplementedError for a compression method it lacks
_DECODE_ERRORS = (zipfile.BadZipFile, zlib.error, SyntaxError, tokenize.TokenError, NotImplementedError)


def array_suffix(path: str | os.PathLike[str]) -> str:
    """The format-deciding suffix, lower case: ``.npy.gz`` counts as one suffix."""
    name = Path(path).name.lower()
    return ".npy.gz" if name.endswith(".npy.gz") else Path(name).suffix


def _read_npy(path: Path, stream: BinaryIO, available: int | None) -> np.ndarray:
    """Parse one ``.npy`` stream; ``available`` bytes (when known) bound the declared payload."""
    start = stream.tell() if available is not None else 0
    version = np.lib.format.read_magic(stream)
    if version not in _HEADER_READERS:
        raise InputError(path, f".npy format version {version[0]}.{version[1]} is not supported (1.0 and 2.0 are)")
    shape, fortran_order, dtype = _HEADER_READERS[version](stream)
    if dtype.hasobject:
        raise InputError(path, f"array holds Python objects (dtype {dtype}); they would have to be "
                               "unpickled, which is never done")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if available is not None:
        require_size(path, nbytes, available - (stream.tell() - start), f"a {dtype} array of shape {shape}")
    payload = bytearray()
    while len(payload) < nbytes:
        chunk = stream.read(min(_CHUNK_BYTES, nbytes - len(payload)))
        if not chunk:
            raise InputError(path, f"truncated: the .npy header declares {nbytes:,} bytes of {dtype} "
                                   f"{shape} but only {len(payload):,} follow")
        payload += chunk
    array = np.frombuffer(payload, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return require_finite(path, "array", array)


def read_array(path: str | os.PathLike[str], key: str | None = None) -> np.ndarray:
    """Read an array from ``.npy``, ``.npy.gz`` or ``.npz`` (``key`` picks the member of an npz).

    Without ``key`` an npz must hold exactly one array. NaN/Inf, object arrays, truncation and
    lying headers raise InputError.
    """
    path, size = checked_file(path)
    suffix = array_suffix(path)
    with reading(path, f"{suffix} file", also=_DECODE_ERRORS):
        if suffix == ".npy":
            with open(path, "rb") as stream:
                return _read_npy(path, stream, size)
        if suffix == ".npy.gz":
            with gzip.open(path, "rb") as stream:
                return _read_npy(path, stream, None)
        if suffix == ".npz":
            return _read_npz_member(path, key)
    raise InputError(path, f"unsupported array file type {suffix!r} (use .npy, .npz or .npy.gz)")


def array_names(path: str | os.PathLike[str]) -> list[str]:
    """The names of the arrays in an ``.npz`` archive, from its directory (no payload is read)."""
    path, _ = checked_file(path)
    with reading(path, ".npz file", also=_DECODE_ERRORS), zipfile.ZipFile(path) as archive:
        return [name.removesuffix(".npy") for name in archive.namelist()]


def _read_npz_member(path: Path, key: str | None) -> np.ndarray:
    """One member of an npz archive, chosen by ``key`` or being the only one."""
    with zipfile.ZipFile(path) as archive:
        members = {name.removesuffix(".npy"): name for name in archive.namelist()}
        if not members:
            raise InputError(path, "npz archive holds no arrays")
        if key is None:
            if len(members) != 1:
                raise InputError(path, f"npz holds {len(members)} arrays ({', '.join(sorted(members))}); "
                                       "name the one to read")
            key = next(iter(members))
        if key not in members:
            raise InputError(path, f"npz has no array {key!r} (arrays: {', '.join(sorted(members))})")
        info = archive.getinfo(members[key])
        with archive.open(info) as stream:
            return _read_npy(path, stream, None if info.compress_type else info.file_size)


def write_array(array: np.ndarray, path: str | os.PathLike[str], key: str = "arr_0") -> None:
    """Write ``.npy``, ``.npy.gz`` or compressed ``.npz`` (one array under ``key``), atomically."""
    array = np.asarray(array)
    suffix = array_suffix(path)
    if suffix not in (".npy", ".npy.gz", ".npz"):
        raise InputError(path, f"cannot write an array as {suffix or 'a file without suffix'!r} "
                               "(use .npy, .npz or .npy.gz)")
    with atomic_write(path) as temporary:
        if suffix == ".npz":
            np.savez_compressed(temporary, **{key: array})
        else:
            opener = gzip.open if suffix == ".npy.gz" else open
            with opener(temporary, "wb") as stream:
                np.save(stream, array, allow_pickle=False)
