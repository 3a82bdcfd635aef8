"""Similarity transforms used to normalise shapes before training and undo it on export."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Normalization:
    """``normalized = (x - center) * scale``; stored in runs so exports can be de-normalised."""

    center: tuple[float, float, float]
    scale: float

    @classmethod
    def unit_sphere(cls, points: np.ndarray) -> "Normalization":
        """Bounding-box centre to the origin, farthest point on the unit sphere."""
        lo, hi = points.min(axis=0), points.max(axis=0)
        center = (lo + hi) / 2.0
        radius = float(np.linalg.norm(points - center, axis=1).max())
        return cls(tuple(float(c) for c in center), 1.0 / radius if radius > 0 else 1.0)

    @classmethod
    def unit_cube(cls, points: np.ndarray) -> "Normalization":
        """Bounding-box centre to the origin, longest side spanning [-0.5, 0.5] (LION's choice)."""
        lo, hi = points.min(axis=0), points.max(axis=0)
        extent = float((hi - lo).max())
        return cls(tuple(float(c) for c in (lo + hi) / 2.0), 1.0 / extent if extent > 0 else 1.0)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map points into the normalised frame."""
        return ((points - np.asarray(self.center, dtype=points.dtype)) * self.scale).astype(points.dtype)

    def invert(self, points: np.ndarray) -> np.ndarray:
        """Map normalised points back to the original frame."""
        return (points / self.scale + np.asarray(self.center, dtype=points.dtype)).astype(points.dtype)
