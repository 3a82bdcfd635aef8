"""Triangle meshes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import ShapeError
from core.shapes._checks import as_float_array, check_rows
from core.shapes.normalization import Normalization


@dataclass
class Mesh:
    """V×3 float64 vertices and F×3 int64 triangle indices (polygons are triangulated on read)."""

    vertices: np.ndarray
    faces: np.ndarray
    vertex_colors: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.vertices = as_float_array("vertices", self.vertices, 3, dtype=np.float64)
        faces = np.asarray(self.faces)
        if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
            raise ShapeError(f"faces must be integer triangles of shape (F, 3), got {faces.shape} {faces.dtype}")
        if len(faces) == 0:
            raise ShapeError("mesh has no faces")
        if faces.min() < 0 or faces.max() >= len(self.vertices):
            raise ShapeError(f"face indices must lie in [0, {len(self.vertices) - 1}], "
                             f"found {int(faces.min())}..{int(faces.max())}")
        self.faces = faces.astype(np.int64, copy=False)
        if self.vertex_colors is not None:
            self.vertex_colors = as_float_array("vertex_colors", self.vertex_colors, 3)
            check_rows("vertex_colors", self.vertex_colors, len(self.vertices))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners of the referenced vertices."""
        used = self.vertices[np.unique(self.faces)]
        return used.min(axis=0), used.max(axis=0)

    def triangle_areas(self) -> np.ndarray:
        """Area of each triangle (F,)."""
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)

    def normalized(self) -> tuple["Mesh", Normalization]:
        """Centre and scale into the unit sphere (see :class:`Normalization`)."""
        norm = Normalization.unit_sphere(self.vertices[np.unique(self.faces)])
        return Mesh(norm.apply(self.vertices), self.faces, self.vertex_colors), norm
