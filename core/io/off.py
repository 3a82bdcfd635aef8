"""Object File Format meshes (Geomview OFF), as ModelNet ships them.

Accepts ``OFF`` on its own line or ModelNet's defective one-line header ``OFF3514 3546 0`` (3 of the
8 ModelNet10 files in ../shared/data), ``#`` comments and blank lines, and polygon faces of any
size, triangulated as fans. Optional per-face colours after the indices are ignored.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io._checks import INTEGER, build, reading, require_count, require_size
from core.io._polygons import check_indices, fan_triangulate
from core.io._text import read_text
from core.io.atomic import atomic_write
from core.shapes import Mesh

# Shortest possible lines: "0 0 0\n" for a vertex and "3 0 1 2\n" for a face.
_MIN_VERTEX_BYTES = 6
_MIN_FACE_BYTES = 8


def _data_lines(text: str) -> list[str]:
    """Non-empty lines with ``#`` comments removed."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _counts(path: Path, lines: list[str]) -> tuple[int, int, int]:
    """Parse the header; returns (vertex count, face count, index of the first vertex line)."""
    first = lines[0]
    if not first.startswith("OFF"):
        raise InputError(path, f"not an OFF file: first line is {first[:40]!r}, expected 'OFF'")
    if first == "OFF":
        if len(lines) < 2:
            raise InputError(path, "OFF header has no counts line")
        counts, start = lines[1].split(), 2
    else:  # ModelNet's "OFF3514 3546 0"
        counts, start = first[3:].split(), 1
    if len(counts) not in (2, 3) or not all(INTEGER.fullmatch(c) for c in counts):
        raise InputError(path, f"OFF counts line must be 'VERTICES FACES EDGES', got {' '.join(counts)[:60]!r}")
    n_vertices = require_count(path, "vertex", int(counts[0]))
    n_faces = require_count(path, "face", int(counts[1]))
    return n_vertices, n_faces, start


def read_off(path: str | os.PathLike[str]) -> Mesh:
    """Read an OFF mesh; counts are checked against the file size before any parsing."""
    path, text = read_text(path, "OFF file")
    lines = _data_lines(text)
    n_vertices, n_faces, start = _counts(path, lines)
    if n_vertices == 0 or n_faces == 0:
        raise InputError(path, f"OFF declares {n_vertices} vertices and {n_faces} faces; a mesh needs both")
    require_size(path, n_vertices * _MIN_VERTEX_BYTES + n_faces * _MIN_FACE_BYTES, len(text),
                 f"{n_vertices:,} vertices and {n_faces:,} faces")
    if len(lines) < start + n_vertices + n_faces:
        raise InputError(path, f"truncated: header declares {n_vertices:,} vertices and {n_faces:,} faces "
                               f"but only {len(lines) - start:,} data lines follow")
    with reading(path, "OFF file"):
        values = " ".join(lines[start:start + n_vertices]).split()
        if len(values) != 3 * n_vertices:
            raise InputError(path, f"vertex lines hold {len(values):,} numbers, expected 3 per vertex "
                                   f"({3 * n_vertices:,})")
        vertices = np.asarray(values, dtype=np.float64).reshape(n_vertices, 3)
        rows = [line.split() for line in lines[start + n_vertices:start + n_vertices + n_faces]]
        sizes = np.fromiter((int(row[0]) for row in rows), dtype=np.int64, count=n_faces)
        short = [k for k, (row, size) in enumerate(zip(rows, sizes)) if len(row) < 1 + size]
        if short:
            raise InputError(path, f"face {short[0]} lists fewer indices than its size {int(sizes[short[0]])}")
        indices = np.fromiter((int(i) for row, size in zip(rows, sizes) for i in row[1:1 + size]),
                              dtype=np.int64)
    check_indices(path, indices, n_vertices)
    return build(path, Mesh, vertices, fan_triangulate(path, indices, sizes))


def write_off(mesh: Mesh, path: str | os.PathLike[str]) -> None:
    """Write OFF with full float64 precision ('%.17g' round-trips exactly)."""
    with atomic_write(path) as temporary, open(temporary, "w", encoding="ascii") as stream:
        stream.write(f"OFF\n{len(mesh.vertices)} {len(mesh.faces)} 0\n")
        np.savetxt(stream, mesh.vertices, fmt="%.17g")
        np.savetxt(stream, np.column_stack([np.full(len(mesh.faces), 3), mesh.faces]), fmt="%d")
