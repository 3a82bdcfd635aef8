"""The typed results jobs return (``Done.result``), so the CLI, the app and tests read named fields.

:class:`~core.training.result.TrainResult` is defined beside ``train_run``, which makes it; it is
re-exported here so every job result has one import path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.shapes import PointCloud, Shape, VoxelGrid
from core.training.result import TrainResult

__all__ = ["EvalResult", "SampleResult", "ScoredShapes", "TrainResult"]


@dataclass(frozen=True)
class SampleResult:
    """Sampled shapes: the raw array (``samples.npy``), one ``core.shapes`` object per row, written files."""

    array: np.ndarray
    shapes: list[Shape]
    paths: list[str]
    out_dir: str


@dataclass(frozen=True)
class ScoredShapes:
    """What an evaluation scored, as the metrics took them: ``samples`` and ``refs`` as points (N, P, 3) or
    grids (N, R, R, R), the references' names, and the per-shape ``normalisation`` of clouds. Kept in memory
    (not in the JSON) so the app can show any sample beside its nearest reference."""

    samples: np.ndarray
    refs: np.ndarray
    ref_names: list[str]
    normalisation: str

    def shape(self, array: np.ndarray) -> Shape:
        """One row of ``samples`` or ``refs`` as a shape to draw."""
        return VoxelGrid(np.asarray(array, dtype=bool)) if array.ndim == 3 else PointCloud(array)


@dataclass(frozen=True)
class EvalResult:
    """One evaluation. :meth:`to_json` is the object ``eval --json`` writes (the papers' metric keys).

    ``nearest`` maps each distance computed (``CD``, ``EMD``; for grids ``CD`` and ``IoU`` as 1 − IoU)
    to every sample's distance to its nearest reference, in sample order (the app's histogram);
    ``fragments`` (voxels, splats, meshes) holds per sample the share of occupied cells off the largest
    piece and the piece count. ``points`` is None for grids, which give their ``resolution`` instead.
    """

    samples: str
    ref: str
    split: str
    class_name: str | None
    oracle: bool
    representation: str
    points: int | None
    normalisation: str
    metrics: dict[str, float]
    n_samples: int
    n_ref: int
    n_ref_cap: int | None
    seed: int
    seconds: float
    nearest: dict[str, list[float]] = field(default_factory=dict)
    resolution: int | None = None
    fragments: dict[str, Any] | None = None
    #: the shapes scored (not in the JSON): the app's sample-beside-its-nearest-reference view
    scored: ScoredShapes | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the CLI, keys in the order earlier releases wrote them."""
        out: dict[str, Any] = {"samples": self.samples, "ref": self.ref, "split": self.split,
                               "class": self.class_name, "oracle": self.oracle,
                               "representation": self.representation, "points": self.points}
        if self.resolution is not None:
            out["resolution"] = self.resolution
        out["normalisation"] = self.normalisation
        if self.fragments is not None:
            out["fragments"] = self.fragments
        out.update(metrics=self.metrics, n_samples=self.n_samples, n_ref=self.n_ref, n_ref_cap=self.n_ref_cap,
                   seed=self.seed, seconds=self.seconds, nearest=self.nearest)
        return out
