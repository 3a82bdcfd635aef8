"""Point clouds: N points with optional normals and colours."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.shapes._checks import as_float_array, check_rows
from core.shapes.normalization import Normalization


@dataclass
class PointCloud:
    """N×3 float32 points; ``normals`` (N×3) and ``colors`` (N×3, 0..1) are optional."""

    points: np.ndarray
    normals: np.ndarray | None = None
    colors: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.points = as_float_array("points", self.points, 3)
        if self.normals is not None:
            self.normals = as_float_array("normals", self.normals, 3)
        if self.colors is not None:
            self.colors = as_float_array("colors", self.colors, 3)
        check_rows("normals", self.normals, len(self.points))
        check_rows("colors", self.colors, len(self.points))
        for name, values in self.extra.items():
            check_rows(name, np.asarray(values), len(self.points))

    def __len__(self) -> int:
        return len(self.points)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners."""
        return self.points.min(axis=0), self.points.max(axis=0)

    def normalized(self) -> tuple["PointCloud", Normalization]:
        """Centre on the bounding-box centre and scale into the unit sphere; return the transform."""
        norm = Normalization.unit_sphere(self.points)
        return PointCloud(norm.apply(self.points), self.normals, self.colors, dict(self.extra)), norm

    def to_tensor(self):
        """Points as a float32 torch tensor (N, 3)."""
        import torch

        return torch.from_numpy(np.ascontiguousarray(self.points))

    @classmethod
    def from_tensor(cls, tensor) -> "PointCloud":
        """Build from a (N, 3) tensor or array."""
        return cls(np.asarray(tensor.detach().cpu() if hasattr(tensor, "detach") else tensor))
