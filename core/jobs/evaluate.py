"""``EvalJob``: score generated shapes against a reference dataset with the field's metrics.

Points: MMD/COV/1-NNA by Chamfer and EMD, JSD (PointFlow's ``compute_all_metrics`` and
``jsd_between_point_cloud_sets``), after per-shape normalisation. Voxels: the KAIST evaluation (JSD of
summed grids, MMD/COV by Chamfer of occupied-voxel centres) plus 1-NNA and IoU-based MMD/COV/1-NNA.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Metric, Progress

DEFAULT_POINT_METRICS = ("cd", "emd", "jsd")
DEFAULT_VOXEL_METRICS = ("cd", "iou", "jsd")
KNOWN_METRICS = ("cd", "emd", "jsd", "iou")
#: points per oracle cloud when the reference data has no native count (meshes): PointFlow's 2,048
DEFAULT_POINTS = 2048
#: Reference shapes used at most (``--n-ref``): every test class of ModelNet10 (<= 100) and of ShapeNet's
#: usual evaluation splits fits whole, while a 1,000 x 1,000 Chamfer matrix stays ~1 min on 2 cores;
#: larger reference sets (e.g. all 889 binvox chairs are fine, all of ModelNet10 test is 908) are a
#: fixed random choice by seed, recorded in the JSON.
DEFAULT_N_REF = 1000


class EvalJob(Job):
    """Evaluate ``samples`` (an .npy/.npz array, a folder of PLY clouds, or a run folder) against ``ref``.

    ``ref`` is a dataset path; its ``split`` and ``class_name`` select the reference shapes. With
    ``oracle`` the samples are ``n`` random train shapes of the class: the score no generator can
    beat. ``n`` caps the number of samples, ``n_ref`` the number of reference shapes (a fixed random
    choice by ``seed``; ``None`` keeps them all). The result is the JSON object the CLI writes:
    ``metrics`` (the papers' keys), ``n_samples``, ``n_ref``, ``n_ref_cap``, ``points``,
    ``normalisation``, ``seed``, ``seconds``, and ``nearest``: for each distance computed (``CD``,
    ``EMD``; for voxels ``CD`` and ``IoU``, the latter as 1 - IoU), a list with every sample's distance
    to its nearest reference, in sample order (the GUI's histogram).
    """

    name = "eval"

    def __init__(self, samples: str | Path | None, ref: str | Path, split: str = "test", class_name: str | None = None,
                 n: int | None = None, metrics: tuple[str, ...] | None = None, points: int | None = None,
                 normalisation: str = "bbox", oracle: bool = False, seed: int = 0,
                 classifier: str | Path | None = None, resolution: int | None = None,
                 n_ref: int | None = DEFAULT_N_REF) -> None:
        self.samples, self.ref, self.split, self.class_name = samples, ref, split, class_name
        self.n, self.metrics, self.points, self.normalisation = n, metrics, points, normalisation
        self.oracle, self.seed, self.classifier, self.resolution = oracle, seed, classifier, resolution
        self.n_ref = n_ref

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Check the request, load both sets, compute the metrics (with progress), return the JSON object."""
        start = time.perf_counter()
        self._check_request()
        ref_set = self._reference()  # before sampling a run: a bad --ref/--class fails fast
        samples, source = self._samples(emit)
        samples = _check_array(samples, source)
        if self.n is not None:
            samples = samples[:self.n]

        def progress(stage: str, done: int, total: int) -> None:
            cancel.raise_if_cancelled()
            emit(Progress(done, total, stage))

        result: dict[str, Any] = {"samples": source, "ref": str(self.ref), "split": self.split,
                                  "class": self.class_name, "oracle": self.oracle}
        nearest: dict[str, list[float]] = {}
        if samples.ndim == 3:
            samples, refs, metrics = self._point_metrics(samples, ref_set, source, emit, progress, nearest)
            result.update(representation="points", points=samples.shape[1], normalisation=self.normalisation)
            if self.classifier is not None:
                metrics["class-accuracy"] = self._class_accuracy(samples)
        else:
            refs, metrics = self._voxel_metrics(samples, ref_set, source, progress, nearest)
            result.update(representation="voxels", points=None, resolution=samples.shape[1],
                          normalisation="grid (occupied-voxel centres / (R-1))")
        emit(Metric("eval", 0, dict(metrics)))
        result.update(metrics=metrics, n_samples=int(len(samples)), n_ref=int(len(refs)), n_ref_cap=self.n_ref,
                      seed=self.seed, seconds=round(time.perf_counter() - start, 2), nearest=nearest)
        return result

    def _check_request(self) -> None:
        """Option errors, found before any loading or sampling."""
        from core.metrics.normalisation import NORMALISATIONS

        if self.normalisation not in NORMALISATIONS:
            raise InputError("--normalisation",
                             f"unknown {self.normalisation!r}; use one of {', '.join(NORMALISATIONS)}")
        unknown = set(self.metrics or ()) - set(KNOWN_METRICS)
        if unknown:
            raise InputError("--metrics",
                             f"unknown metric(s) {', '.join(sorted(unknown))}; use {', '.join(KNOWN_METRICS)}")
        if self.classifier is not None and self.class_name is None:
            raise InputError("--classifier", "class accuracy needs --class (the class the samples were drawn for)")
        if self.n is not None and self.n < 1:
            raise InputError("--n", f"need at least one sample, got {self.n}")
        if self.n_ref is not None and self.n_ref < 1:
            raise InputError("--n-ref", f"need at least one reference shape, got {self.n_ref}")

    def _capped(self, refs: np.ndarray) -> np.ndarray:
        """At most ``n_ref`` reference shapes, a seeded random choice kept in dataset order."""
        if self.n_ref is None or len(refs) <= self.n_ref:
            return refs
        return _seeded_subset(refs, self.n_ref, [self.seed, 1])

    def _point_metrics(self, samples: np.ndarray, ref_set, source: str, emit: EventHandler, progress, nearest):
        """Resample to a common count, normalise each shape, then MMD/COV/1-NNA (CD, EMD) and JSD."""
        import torch

        from core.metrics.evaluation import point_set_metrics
        from core.metrics.normalisation import normalise_clouds

        chosen = tuple(self.metrics or DEFAULT_POINT_METRICS)
        if "iou" in chosen:
            raise InputError("--metrics", "iou needs voxel samples; point samples take cd, emd, jsd")
        n_points = self.points or samples.shape[1]
        if samples.shape[1] != n_points:
            emit(Log(f"{source}: resampled {samples.shape[1]} to {n_points} points per cloud", "warning"))
            samples = _resample(samples, n_points, self.seed)
        refs = self._capped(ref_set.points(n_points=n_points, seed=self.seed))
        x = torch.from_numpy(normalise_clouds(samples, self.normalisation))
        y = torch.from_numpy(normalise_clouds(refs, self.normalisation))
        return samples, refs, point_set_metrics(x, y, chosen, progress, _matrix_cache(y), nearest)

    def _voxel_metrics(self, samples: np.ndarray, ref_set, source: str, progress, nearest):
        """The reference grids at the samples' resolution, then the KAIST metrics plus 1-NNA and IoU ones."""
        import torch

        from core.metrics.evaluation import empty_grids, voxel_set_metrics

        chosen = tuple(self.metrics or DEFAULT_VOXEL_METRICS)
        if "emd" in chosen:
            raise InputError("--metrics", "emd needs point samples; voxel samples take cd, iou, jsd")
        x = torch.from_numpy(samples.astype(bool))
        empty = empty_grids(x)
        if "cd" in chosen and len(empty):
            raise InputError(source, f"{len(empty)} empty voxel grid(s) (first: index {int(empty[0])}); "
                                     "Chamfer between voxel centres needs occupied voxels")
        refs = self._capped(ref_set.voxels(resolution=samples.shape[1]))
        y = torch.from_numpy(np.asarray(refs, dtype=bool))
        return refs, voxel_set_metrics(x, y, chosen, progress, _matrix_cache(y), nearest)

    def _reference(self):
        from core.data import open_dataset

        classes = None if self.class_name is None else [self.class_name]
        return open_dataset(self.ref).subset(classes=classes, split=self.split)

    def _samples(self, emit: EventHandler) -> tuple[np.ndarray, str]:
        """The sample array and a name for it (for messages and the JSON)."""
        if self.oracle:
            return self._oracle_samples(), f"oracle: {self.n or 'all'} random train shapes of {self.ref}"
        if self.samples is None:
            raise InputError("SAMPLES", "give a samples file/folder or --oracle")
        from core.training.pretrained import is_builtin, resolve_run

        if is_builtin(self.samples):  # a built-in model's folder is not ours to write: samples go to a temp folder
            with tempfile.TemporaryDirectory() as scratch:
                return self._sample_run(resolve_run(self.samples), emit, Path(scratch)), str(self.samples)
        path = Path(self.samples)
        if not path.exists():
            raise InputError(path, "no such file or folder")
        if path.is_dir() and (path / "config.json").is_file():
            return self._sample_run(path, emit), str(path)
        if path.is_dir():
            return _read_ply_folder(path, self.points, self.seed, emit), str(path)
        from core.io import read_array

        return read_array(path), str(path)

    def _oracle_samples(self) -> np.ndarray:
        """``n`` random train shapes of the class, as points (or voxels when the data is voxels)."""
        from core.data import open_dataset

        classes = None if self.class_name is None else [self.class_name]
        train = open_dataset(self.ref).subset(classes=classes, split="train")
        if train.representation == "voxels":
            data = train.voxels(resolution=self.resolution or 32)
        else:  # the data's own point count unless asked otherwise: no duplicated points, 4x less work at 1,024
            native = len(train.load(0).points) if train.representation == "points" else DEFAULT_POINTS
            data = train.points(n_points=self.points or native, seed=self.seed + 1)
        count = len(train) if self.n is None else min(self.n, len(train))
        return _seeded_subset(data, count, self.seed)

    def _sample_run(self, run_dir: Path, emit: EventHandler, out: Path | None = None) -> np.ndarray:
        """Sample ``n`` shapes (of the class, if given) from a trained run into ``out`` (``RUN/eval/samples-SEED``)."""
        from core.jobs.sample import SampleJob

        if self.n is None:
            raise InputError("--n", "say how many shapes to sample from the run")
        job = SampleJob(run_dir, self.n, out or run_dir / "eval" / f"samples-{self.seed}", class_name=self.class_name,
                        seed=self.seed, fmt="npy")
        return job.execute(emit, CancelToken())["array"]

    def _class_accuracy(self, samples: np.ndarray) -> float:
        """Share of samples the classifier puts in ``class_name`` (conditional sampling check)."""
        from core.models.classifier import load_classifier

        model, classes = load_classifier(self.classifier)
        if self.class_name not in classes:
            raise InputError(self.classifier, f"classifier does not know class {self.class_name!r}")
        predicted = model.predict(samples)
        return float(np.mean(predicted == classes.index(self.class_name)))


def _seeded_subset(data: np.ndarray, count: int, seed) -> np.ndarray:
    """``count`` rows of ``data`` chosen at random (without replacement) by ``seed``, kept in dataset order."""
    return data[np.sort(np.random.default_rng(seed).choice(len(data), size=count, replace=False))]


def _matrix_cache(refs):
    """Keeps ref x ref distance matrices in the data cache, keyed by the (normalised) reference tensor,
    so evaluating several generators against one reference set pays for that matrix once."""
    import hashlib

    import torch

    from core.data.cache import cache_key, cached_arrays

    digest = hashlib.sha256(refs.contiguous().numpy().tobytes()).hexdigest()

    def cache(name: str, compute):
        key = cache_key(f"{digest}|{tuple(refs.shape)}", f"eval-{name}", {})
        return torch.from_numpy(cached_arrays(key, lambda: {"distances": compute().numpy()})["distances"])

    return cache


def _check_array(array: np.ndarray, source: str) -> np.ndarray:
    """Points (N,P,3) float or voxels (N,R,R,R); finite, non-empty. Anything else is an InputError."""
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputError(source, f"expected a numeric array, got dtype {array.dtype}")
    is_points = array.ndim == 3 and array.shape[2] == 3
    is_voxels = array.ndim == 4 and array.shape[1] == array.shape[2] == array.shape[3]
    if not (is_points or is_voxels):
        raise InputError(source, f"expected points (N,P,3) or voxels (N,R,R,R), got shape {array.shape}")
    if array.size == 0 or array.shape[0] == 0:
        raise InputError(source, f"empty sample set (shape {array.shape})")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array).reshape(len(array), -1).all(1))[0])
        raise InputError(source, f"non-finite values (NaN/Inf), first in sample {bad}")
    return array.astype(np.float32) if is_points else array


def _resample(clouds, n_points: int, seed: int) -> np.ndarray:
    """Each cloud (of any size) resampled to ``n_points`` with the datasets' even resampling, stacked.

    One seed for all clouds: copies of a shape stay copies, so a collapsed set is still seen as one.
    """
    from core.data.representations import resample_index

    return np.stack([cloud[resample_index(len(cloud), n_points, seed)] for cloud in clouds])


def _read_ply_folder(folder: Path, n_points: int | None, seed: int, emit: EventHandler) -> np.ndarray:
    """Every ``*.ply`` cloud in ``folder`` (sorted), resampled to a common count when they differ."""
    from core.io import read_point_cloud

    files = sorted(folder.glob("*.ply"))
    if not files:
        raise InputError(folder, "no .ply files in the folder")
    clouds = [read_point_cloud(f).points for f in files]
    counts = {len(c) for c in clouds}
    target = n_points or max(counts)
    if counts != {target}:
        emit(Log(f"{folder}: clouds with {sorted(counts)} points resampled to {target}", "warning"))
        return _resample(clouds, target, seed)
    return np.stack(clouds)
