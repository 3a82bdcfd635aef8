"""Wavefront OBJ meshes: ``v`` and ``f`` records; materials, textures and normals are ignored.

Faces may use the ``v``, ``v/vt``, ``v//vn`` and ``v/vt/vn`` forms and negative (relative)
indices; polygons are triangulated as fans, never dropped (Open3D keeps 48 of 864 triangles of
pybullet's mug, notes/stack.md). A ``mtllib`` line is not followed, so a missing ``.mtl`` is fine.
``v x y z r g b`` vertex colours (a common extension) are kept when every vertex has them.
"""
from __future__ import annotations

import os

import numpy as np

from core.errors import InputError
from core.io._checks import build, reading
from core.io._polygons import check_indices, fan_triangulate
from core.io._text import read_text
from core.io.atomic import atomic_write
from core.shapes import Mesh

_XYZ_RGB = 6  # values on a "v" line that carries a colour


def read_obj(path: str | os.PathLike[str]) -> Mesh:
    """Read the geometry of an OBJ file as a triangle mesh."""
    path, text = read_text(path, "OBJ file")
    vertices: list[list[str]] = []
    sizes: list[int] = []
    indices: list[int] = []
    with reading(path, "OBJ file"):
        for number, line in enumerate(text.splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            if words[0] == "v":
                vertices.append(words[1:])
            elif words[0] == "f":
                corners = [int(token.split("/", 1)[0]) for token in words[1:]]
                if 0 in corners:
                    raise InputError(path, f"line {number}: face index 0 (OBJ indices start at 1)")
                # positive indices are 1-based, negative ones count back from the latest vertex
                indices.extend(c - 1 if c > 0 else len(vertices) + c for c in corners)
                sizes.append(len(corners))
        if not vertices:
            raise InputError(path, "OBJ has no vertices ('v' lines)")
        if not sizes:
            raise InputError(path, "OBJ has no faces ('f' lines)")
        widths = {len(v) for v in vertices}
        if min(widths) < 3:
            raise InputError(path, "a 'v' line has fewer than 3 coordinates")
        table = np.asarray([v[:_XYZ_RGB] for v in vertices] if widths == {_XYZ_RGB} else [v[:3] for v in vertices],
                           dtype=np.float64)
    flat = check_indices(path, np.asarray(indices, dtype=np.int64), len(table))
    colors = table[:, 3:] if table.shape[1] == _XYZ_RGB else None
    return build(path, Mesh, table[:, :3], fan_triangulate(path, flat, np.asarray(sizes)), colors)


def write_obj(mesh: Mesh, path: str | os.PathLike[str]) -> None:
    """Write ``v`` (with colours if any, full float64 precision) and 1-based ``f`` lines."""
    table = mesh.vertices if mesh.vertex_colors is None else np.hstack([mesh.vertices, mesh.vertex_colors])
    with atomic_write(path) as temporary, open(temporary, "w", encoding="ascii") as stream:
        np.savetxt(stream, table, fmt="v " + " ".join(["%.17g"] * table.shape[1]))
        np.savetxt(stream, mesh.faces + 1, fmt="f %d %d %d")
