"""Per-shape normalisation applied to both sets before point metrics, so scale never decides a score."""
from __future__ import annotations

import numpy as np

from core.data.representations import unit_sphere

#: ``bbox``: LION's choice (Zeng et al., NeurIPS 2022): bounding-box centre to 0, longest side spans
#: [-0.5, 0.5] (:meth:`core.shapes.Normalization.unit_cube`), which also fits Achlioptas' JSD grid.
#: ``sphere``: bounding-box centre to 0, farthest point at radius 1 (PointFlow's data frame).
NORMALISATIONS = ("bbox", "sphere", "none")


def normalise_clouds(points: np.ndarray, mode: str = "bbox") -> np.ndarray:
    """Normalise every cloud of (N, P, 3) on its own by ``mode`` (one of :data:`NORMALISATIONS`)."""
    if mode not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {mode!r}; use one of {', '.join(NORMALISATIONS)}")
    if mode == "none":
        return points.astype(np.float32)
    if mode == "sphere":
        return unit_sphere(points).astype(np.float32)
    lo, hi = points.min(axis=1, keepdims=True), points.max(axis=1, keepdims=True)
    extent = (hi - lo).max(axis=2, keepdims=True)
    return ((points - (lo + hi) / 2) / np.where(extent > 0, extent, 1.0)).astype(np.float32)
