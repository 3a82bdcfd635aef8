"""STL meshes, binary and ASCII.

Binary STL is an 80-byte header, a uint32 triangle count and 50 bytes per triangle; a file is
taken as binary when its size matches that count exactly (binary files may also begin with
"solid", so the size decides), as ASCII when it begins with "solid", and otherwise reported as a
truncated or padded binary file. STL repeats each corner per triangle; corners are welded by
exact coordinate equality so the mesh is indexed.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io._checks import build, checked_file, reading, require_finite, require_size
from core.io._text import read_text
from core.io.atomic import atomic_write
from core.shapes import Mesh

_HEADER_BYTES = 80
_COUNT_BYTES = 4
_TRIANGLE = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
_WRITER_HEADER = b"binary STL, Latent3D Studio".ljust(_HEADER_BYTES, b" ")  # must not start with "solid"
_VERTEX = re.compile(r"^\s*vertex\s+(\S+)\s+(\S+)\s+(\S+)", re.MULTILINE)


def read_stl(path: str | os.PathLike[str]) -> Mesh:
    """Read a binary or ASCII STL file."""
    path, size = checked_file(path)
    with open(path, "rb") as stream:
        head = stream.read(_HEADER_BYTES + _COUNT_BYTES)
    count = int.from_bytes(head[_HEADER_BYTES:], "little") if len(head) == _HEADER_BYTES + _COUNT_BYTES else -1
    if count >= 0 and size == _HEADER_BYTES + _COUNT_BYTES + count * _TRIANGLE.itemsize:
        return _read_binary(path, count)
    if head.lstrip().startswith(b"solid"):
        return _read_ascii(path)
    if count < 0:
        raise InputError(path, f"not an STL file: {size} bytes is shorter than a binary STL header")
    require_size(path, count * _TRIANGLE.itemsize, size - _HEADER_BYTES - _COUNT_BYTES,
                 f"{count:,} binary STL triangles")
    raise InputError(path, f"binary STL declares {count:,} triangles but has "
                           f"{size - _HEADER_BYTES - _COUNT_BYTES - count * _TRIANGLE.itemsize:,} extra bytes")


def _weld(path: Path, corners: np.ndarray) -> Mesh:
    """Merge identical corners into shared vertices; corners is (F, 3, 3)."""
    require_finite(path, "vertices", corners)
    vertices, inverse = np.unique(corners.reshape(-1, 3), axis=0, return_inverse=True)
    return build(path, Mesh, vertices.astype(np.float64), inverse.reshape(-1, 3))


def _read_binary(path: Path, count: int) -> Mesh:
    """Binary STL body; the size was already checked against ``count``."""
    if count == 0:
        raise InputError(path, "binary STL has no triangles")
    with reading(path, "binary STL file"):
        triangles = np.fromfile(path, dtype=_TRIANGLE, count=count, offset=_HEADER_BYTES + _COUNT_BYTES)
    return _weld(path, triangles["corners"])


def _read_ascii(path: Path) -> Mesh:
    """ASCII STL: ``facet ... outer loop, 3 x vertex, endloop, endfacet`` blocks in a ``solid``."""
    path, text = read_text(path, "ASCII STL file")
    if "endsolid" not in text:
        raise InputError(path, "ASCII STL has no 'endsolid' line (truncated?)")
    facets = len(re.findall(r"^\s*endfacet\b", text, re.MULTILINE))
    with reading(path, "ASCII STL file"):
        corners = np.asarray(_VERTEX.findall(text), dtype=np.float64)
    if facets == 0:
        raise InputError(path, "ASCII STL has no facets")
    if len(corners) != 3 * facets:
        raise InputError(path, f"ASCII STL has {len(corners):,} vertex lines for {facets:,} facets; "
                               "each facet needs exactly 3")
    return _weld(path, corners.reshape(facets, 3, 3))


def write_stl(mesh: Mesh, path: str | os.PathLike[str]) -> None:
    """Write binary STL (float32 by the format's definition) with unit face normals."""
    corners = mesh.vertices[mesh.faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    triangles = np.zeros(len(mesh.faces), dtype=_TRIANGLE)
    triangles["normal"] = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    triangles["corners"] = corners
    with atomic_write(path) as temporary, open(temporary, "wb") as stream:
        stream.write(_WRITER_HEADER)
        stream.write(len(triangles).to_bytes(_COUNT_BYTES, "little"))
        stream.write(triangles.tobytes())
