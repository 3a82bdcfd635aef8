"""``NearestShapeJob``: the training shape closest to a sample, so memorisation can be checked by eye.

A generator that copies its training set scores well on most distribution metrics; the plain check is to
look at a sample beside the training shape nearest to it. Distances are those ``eval`` uses: Chamfer
between bounding-box-normalised clouds for points and splats (splats as points drawn on their Gaussians),
1 - IoU between grids of the sample's resolution for voxels.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from core.data import open_dataset
from core.data.conversions import sample_splats
from core.errors import InputError
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Progress
from core.jobs.export import sample_representation
from core.jobs.results import ScoredShapes
from core.resources import resources_dir
from core.shapes import GaussianSplats, PointCloud, Shape, VoxelGrid

#: points drawn on a splat sample to compare it with training clouds (the built-in data's own count)
SPLAT_POINTS = 1024
#: the split a run's training shapes are taken from (data without splits: all its shapes)
TRAIN_SPLIT = "train"


@dataclass(frozen=True)
class NearestMatch:
    """The nearest training shape: its dataset row and name, its distance to the sample under ``metric``, and
    the shape itself in the sample's representation (``reference``)."""

    row: int
    name: str
    class_name: str
    distance: float
    metric: str
    reference: Shape


class NearestShapeJob(Job):
    """Find the shape of ``data`` (of ``classes``, in its train split where it has one) nearest to ``sample``."""

    name = "nearest training shape"

    def __init__(self, sample: Shape, data: str | Path, classes: list[str] | None = None) -> None:
        self.sample, self.data, self.classes = sample, data, classes

    def execute(self, emit: EventHandler, cancel: CancelToken) -> NearestMatch:
        """Load the candidates (cached conversions after the first time), measure, pick the nearest."""
        import torch

        metrics = _metrics()
        emit(Progress(0, 2, f"reading {self.data}"))
        dataset = open_dataset(self.data).subset(classes=self.classes)
        if TRAIN_SPLIT in {record.split for record in dataset.records}:
            dataset = dataset.subset(split=TRAIN_SPLIT)
        cancel.raise_if_cancelled()
        emit(Progress(1, 2, f"measuring {len(dataset)} shapes"))
        if isinstance(self.sample, VoxelGrid):
            resolution = self.sample.resolution
            grids = torch.from_numpy(np.asarray(dataset.voxels(resolution=resolution), dtype=bool))
            distances = 1 - metrics.pairwise_iou(torch.from_numpy(self.sample.occupancy)[None], grids)[0]
            metric, params = "1 - IoU", {"resolution": resolution}
        else:
            points = _sample_points(self.sample)
            refs = dataset.points(n_points=len(points))
            distances = metrics.pairwise_chamfer(torch.from_numpy(metrics.normalise_clouds(points[None])),
                                                 torch.from_numpy(metrics.normalise_clouds(refs)))[0]
            metric = "CD"
            params = {"n_points": len(points)} if isinstance(self.sample, PointCloud) else {}
        row = int(torch.argmin(distances))
        cancel.raise_if_cancelled()
        representation = sample_representation(self.sample)
        record = dataset.records[row]
        emit(Progress(2, 2, record.name))
        return NearestMatch(row, record.name, record.class_name, float(distances[row]), metric,
                            dataset.get(row, representation, **params))


def _sample_points(sample: Shape) -> np.ndarray:
    """float32 (P, 3): a cloud's points, or points drawn on splats' Gaussians (as ``eval`` scores splats)."""
    if isinstance(sample, GaussianSplats):
        return sample_splats(sample, SPLAT_POINTS, 0).points.astype(np.float32)
    return np.asarray(sample.points, dtype=np.float32)


def training_data(run_folder: str | Path) -> tuple[Path, list[str] | None]:
    """The dataset a run was trained on and its classes, from its ``config.json``; a relative path is read from
    the working directory, then from the project folder (the built-in models name ``../shared/data/...``)."""
    config_path = Path(run_folder) / "config.json"
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))["data"]
        path = Path(data["path"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(config_path, f"no training data recorded ({type(exc).__name__}: {exc})") from None
    for candidate in (path, resources_dir().parent / path):
        if candidate.exists():
            return candidate, data.get("classes")
    raise InputError(config_path, f"its training data {path} is not on this machine")


class NearestReferenceJob(Job):
    """Which reference of an evaluation is nearest to its sample ``index`` under ``metric`` (a key of the result's
    ``nearest``: ``CD``, ``EMD``, or for grids ``CD`` and ``IoU`` as 1 - IoU), measured as ``eval`` measured it,
    so the distance is the one the histogram shows. The result is ``(reference row, distance)``."""

    name = "nearest reference"

    def __init__(self, scored: ScoredShapes, index: int, metric: str) -> None:
        self.scored, self.index, self.metric = scored, index, metric

    def execute(self, emit: EventHandler, cancel: CancelToken) -> tuple[int, float]:
        """One row of the sample-to-reference distances, then its smallest entry."""
        import torch

        metrics = _metrics()
        scored = self.scored
        if not 0 <= self.index < len(scored.samples):
            raise InputError("sample", f"no sample #{self.index} among {len(scored.samples)}")
        sample = scored.samples[self.index:self.index + 1]
        if sample.ndim == 4:
            x, y = torch.from_numpy(sample.astype(bool)), torch.from_numpy(np.asarray(scored.refs, dtype=bool))
            distances = {"IoU": lambda: 1.0 - metrics.pairwise_iou(x, y),
                         "CD": lambda: metrics.pairwise_voxel_chamfer(x, y)}
        else:
            x = torch.from_numpy(metrics.normalise_clouds(sample, scored.normalisation))
            y = torch.from_numpy(metrics.normalise_clouds(scored.refs, scored.normalisation))
            distances = {"CD": lambda: metrics.pairwise_chamfer(x, y), "EMD": lambda: metrics.pairwise_emd(x, y)}
        if self.metric not in distances:
            raise InputError(self.metric, f"no such distance for these shapes; use one of {', '.join(distances)}")
        emit(Progress(0, 1, f"{self.metric} of sample #{self.index}"))
        row = distances[self.metric]()[0]
        best = int(torch.argmin(row))
        return best, float(row[best])


def _metrics() -> SimpleNamespace:
    """The torch-backed distances, imported when a job measures (on the job's thread): the app's Sample and Evaluate
    pages import this module at start-up, which must not import torch (issue 21's lazy point here)."""
    from core.metrics.distances import pairwise_chamfer, pairwise_emd, pairwise_iou, pairwise_voxel_chamfer
    from core.metrics.normalisation import normalise_clouds

    return SimpleNamespace(pairwise_chamfer=pairwise_chamfer, pairwise_emd=pairwise_emd, pairwise_iou=pairwise_iou,
                           pairwise_voxel_chamfer=pairwise_voxel_chamfer, normalise_clouds=normalise_clouds)
