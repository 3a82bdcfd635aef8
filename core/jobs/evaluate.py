"""``EvalJob``: score generated shapes against a reference dataset with the field's metrics.

Points: MMD/COV/1-NNA by Chamfer and EMD, JSD (PointFlow's ``compute_all_metrics`` and
``jsd_between_point_cloud_sets``), after per-shape normalisation. Voxels: the KAIST evaluation (JSD of
summed grids, MMD/COV by Chamfer of occupied-voxel centres) plus 1-NNA and IoU-based MMD/COV/1-NNA.
Splats and meshes are scored as point clouds drawn on them (:mod:`core.jobs.eval_inputs`). Voxels,
splats and meshes also get ``floaters`` and ``one_piece`` (:mod:`core.metrics.fragmentation`).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from core.choices import MODEL_REPRESENTATIONS
from core.data import open_dataset
from core.data.cache import cache_key, cached_arrays
from core.data.datasets import ShapeDataset
from core.data.sources.base import NO_SPLIT
from core.errors import InputError
from core.io import read_array
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.eval_inputs import EvalSet, from_array, grid_surface_points, read_folder, resample, train_shapes
from core.jobs.events import Log, Metric, Progress
from core.jobs.results import EvalResult, ScoredShapes
from core.jobs.sample import SampleJob
from core.training.pretrained import is_builtin, resolve_run

DEFAULT_POINT_METRICS = ("cd", "emd", "jsd")
DEFAULT_VOXEL_METRICS = ("cd", "iou", "jsd")
KNOWN_METRICS = ("cd", "emd", "jsd", "iou")
#: what an oracle's train shapes can be turned into (``--repr``), as the training loaders make them
ORACLE_REPRESENTATIONS = MODEL_REPRESENTATIONS
#: points per oracle cloud when the reference data has no native count (meshes): PointFlow's 2,048
DEFAULT_POINTS = 2048
#: Reference shapes used at most (``--n-ref``): every test class of ModelNet10 (<= 100) and of ShapeNet's
#: usual evaluation splits fits whole, while a 1,000 x 1,000 Chamfer matrix stays ~1 min on 2 cores;
#: larger reference sets (e.g. all 889 binvox chairs are fine, all of ModelNet10 test is 908) are a
#: fixed random choice by seed, recorded in the JSON.
DEFAULT_N_REF = 1000
#: the reference split when none is asked for and the reference has it; otherwise all its shapes are the reference
DEFAULT_SPLIT = "test"
#: the JSON's "split" when the reference is every shape (``--split all``, or no split asked and no test split)
ALL_SHAPES = "all"
#: the JSON's "split" when an oracle halves a reference without splits (:func:`_seeded_halves`)
ORACLE_HALVES = "seeded half (no train/test split: the other half is the oracle)"
#: seed stream of that halving, apart from the streams that cap the reference and choose oracle rows
ORACLE_HALVES_STREAM = 2


class EvalJob(Job):
    """Evaluate ``samples`` (an .npy/.npz array, a folder of shape files, or a run folder) against ``ref``.

    ``ref`` is a dataset path (``key``: the shapes' array of its .npz files); its ``split`` (None:
    :data:`DEFAULT_SPLIT` where it has one, else all its shapes; the JSON says which) and ``class_name``
    select the reference shapes. With
    ``oracle`` the samples are ``n`` random train shapes of the class, in ``representation`` (default:
    the data's own; ``voxels`` and ``splats`` as the training loaders make them): the score no
    generator of that representation can beat; a reference without splits is halved by ``seed`` instead (one
    half the train shapes, the other the reference; the JSON's ``split`` and a Log line say so). ``n`` caps the
    number of samples, ``n_ref`` the number of reference shapes (a fixed random choice by ``seed``; ``None``
    keeps them all). The result is an :class:`~core.jobs.results.EvalResult`: the metrics (the papers'
    keys), the nearest-reference distance of every sample and, for voxels, splats and meshes, their pieces;
    its ``to_json()`` is the object the CLI writes.
    """

    name = "eval"

    def __init__(self, samples: str | Path | None, ref: str | Path, split: str | None = None,
                 class_name: str | None = None,
                 n: int | None = None, metrics: tuple[str, ...] | None = None, points: int | None = None,
                 normalisation: str = "bbox", oracle: bool = False, seed: int = 0,
                 classifier: str | Path | None = None, resolution: int | None = None,
                 n_ref: int | None = DEFAULT_N_REF, representation: str | None = None, key: str | None = None) -> None:
        self.samples, self.ref, self.split, self.class_name = samples, ref, split, class_name
        self.n, self.metrics, self.points, self.normalisation = n, metrics, points, normalisation
        self.oracle, self.seed, self.classifier, self.resolution = oracle, seed, classifier, resolution
        self.n_ref, self.representation, self.key = n_ref, representation, key

    def execute(self, emit: EventHandler, cancel: CancelToken) -> EvalResult:
        """Check the request, load both sets, compute the metrics (with progress); the result's ``to_json()`` is
        the CLI's JSON object."""
        start = time.perf_counter()
        self._check_request()
        ref_set, split = self._reference()  # before sampling a run: a bad --ref/--class fails fast
        if split == ORACLE_HALVES:
            emit(Log(f"{self.ref} has no train/test split: the oracle takes a seeded random half (seed {self.seed}) "
                     f"as its train shapes and the other {len(ref_set)} shapes as the reference"))
        samples = self._samples(ref_set, emit).head(self.n)
        if self.split is None and split != ORACLE_HALVES:  # said once the samples are good: bad input is one line
            emit(Log(f"reference: {len(ref_set)} shapes of split {split!r} of {self.ref} (choose with --split)"))

        def progress(stage: str, done: int, total: int) -> None:
            cancel.raise_if_cancelled()
            emit(Progress(done, total, stage))

        if samples.is_points:
            points, refs, scored = self._point_metrics(samples, ref_set, emit, progress)
            frame = {"points": points.shape[1], "normalisation": self.normalisation}
        else:
            refs, scored = self._voxel_metrics(samples, ref_set, progress)
            frame = {"points": None, "resolution": samples.array.shape[1],
                     "normalisation": "grid (occupied-voxel centres / (R-1))"}
            points = None
        metrics = scored.scores
        if self.classifier is not None:  # voxels: classified as points on their marching-cubes surface
            metrics["class-accuracy"] = self._class_accuracy(grid_surface_points(samples.array, self.seed)
                                                             if points is None else points)
        fragments_found = None
        if samples.occupancy is not None:
            pieces = _scoring().fragmentation.fragments(samples.occupancy)
            metrics.update(pieces.summary())
            fragments_found = {"resolution": samples.occupancy.shape[1], "floaters": pieces.floaters.tolist(),
                               "components": pieces.components.tolist()}
        emit(Metric("eval", 0, dict(metrics)))
        names = self._capped(np.array([record.name for record in ref_set.records])).tolist()
        kept = ScoredShapes(samples.array if points is None else points, refs, names, self.normalisation)
        return EvalResult(samples=samples.source, ref=str(self.ref), split=split, class_name=self.class_name,
                          oracle=self.oracle, representation=samples.representation, metrics=metrics,
                          n_samples=len(samples), n_ref=int(len(refs)), n_ref_cap=self.n_ref, seed=self.seed,
                          seconds=round(time.perf_counter() - start, 2), nearest=scored.nearest,
                          fragments=fragments_found, scored=kept, **frame)

    def _check_request(self) -> None:
        """Option errors, found before any loading or sampling."""
        known = _scoring().normalisation.NORMALISATIONS
        if self.normalisation not in known:
            raise InputError("--normalisation", f"unknown {self.normalisation!r}; use one of {', '.join(known)}")
        unknown = set(self.metrics or ()) - set(KNOWN_METRICS)
        if unknown:
            raise InputError("--metrics",
                             f"unknown metric(s) {', '.join(sorted(unknown))}; use {', '.join(KNOWN_METRICS)}")
        if self.classifier is not None and self.class_name is None:
            raise InputError("--classifier", "class accuracy needs --class (the class the samples were drawn for)")
        if self.n is not None and self.n < 1:
            raise InputError("--n", f"need at least one sample, got {self.n}")
        if self.representation is not None and not self.oracle:
            raise InputError("--repr", "the oracle's representation goes with --oracle (samples have their own)")
        if self.representation not in (None, *ORACLE_REPRESENTATIONS):
            raise InputError("--repr", f"unknown {self.representation!r}; use one of {', '.join(ORACLE_REPRESENTATIONS)}")
        if self.n_ref is not None and self.n_ref < 1:
            raise InputError("--n-ref", f"need at least one reference shape, got {self.n_ref}")

    def _capped(self, refs: np.ndarray) -> np.ndarray:
        """At most ``n_ref`` reference shapes, a seeded random choice kept in dataset order."""
        if self.n_ref is None or len(refs) <= self.n_ref:
            return refs
        return _seeded_subset(refs, self.n_ref, [self.seed, 1])

    def _point_metrics(self, samples: EvalSet, ref_set, emit: EventHandler, progress):
        """Resample to a common count, normalise each shape, then MMD/COV/1-NNA (CD, EMD) and JSD."""
        import torch

        scoring = _scoring()
        chosen = tuple(self.metrics or DEFAULT_POINT_METRICS)
        if "iou" in chosen:
            raise InputError("--metrics", f"iou needs voxel samples; {samples.representation} samples take "
                                          "cd, emd, jsd")
        points = samples.array
        n_points = self.points or points.shape[1]
        if points.shape[1] != n_points:
            emit(Log(f"{samples.source}: resampled {points.shape[1]} to {n_points} points per cloud", "warning"))
            points = resample(points, n_points, self.seed)
        refs = self._capped(ref_set.points(n_points=n_points, seed=self.seed))
        x = torch.from_numpy(scoring.normalisation.normalise_clouds(points, self.normalisation))
        y = torch.from_numpy(scoring.normalisation.normalise_clouds(refs, self.normalisation))
        return points, refs, scoring.evaluation.point_set_metrics(x, y, chosen, progress, _matrix_cache(y))

    def _voxel_metrics(self, samples: EvalSet, ref_set, progress):
        """The reference grids at the samples' resolution, then the KAIST metrics plus 1-NNA and IoU ones."""
        import torch

        evaluation = _scoring().evaluation
        chosen = tuple(self.metrics or DEFAULT_VOXEL_METRICS)
        if "emd" in chosen:
            raise InputError("--metrics", "emd needs point samples; voxel samples take cd, iou, jsd")
        x = torch.from_numpy(samples.array.astype(bool))
        empty = evaluation.empty_grids(x)
        if "cd" in chosen and len(empty):
            raise InputError(samples.source, f"{len(empty)} empty voxel grid(s) (first: index {int(empty[0])}); "
                                             "Chamfer between voxel centres needs occupied voxels")
        refs = self._capped(ref_set.voxels(resolution=samples.array.shape[1]))
        y = torch.from_numpy(np.asarray(refs, dtype=bool))
        return refs, evaluation.voxel_set_metrics(x, y, chosen, progress, _matrix_cache(y))

    def _reference(self):
        """The reference shapes of the class and the split they are: ``split``, or :data:`DEFAULT_SPLIT` where the
        data has it, else :data:`ALL_SHAPES`; for an oracle on data without splits, the seeded half
        :meth:`_oracle_samples` does not take."""
        dataset = self._ref_classes()
        if self.oracle and _without_splits(dataset):
            return _seeded_halves(dataset, self.seed)[1], ORACLE_HALVES
        split = self.split or (DEFAULT_SPLIT if DEFAULT_SPLIT in {r.split for r in dataset.records} else ALL_SHAPES)
        return dataset.subset(split=None if split == ALL_SHAPES else split), split

    def _ref_classes(self):
        """The reference dataset, of ``class_name`` only when one is given."""
        classes = None if self.class_name is None else [self.class_name]
        return open_dataset(self.ref, key=self.key).subset(classes=classes)

    def _samples(self, ref_set, emit: EventHandler) -> EvalSet:
        """The shapes to score, from a file, a folder, a run (sampled first) or the train split (oracle)."""
        n_points = self.points or _native_points(ref_set)
        if self.oracle:
            return self._oracle_samples(n_points)
        if self.samples is None:
            raise InputError("SAMPLES", "give a samples file/folder or --oracle")
        if is_builtin(self.samples):  # a built-in model's folder is not ours to write: samples go to a temp folder
            with tempfile.TemporaryDirectory() as scratch:
                array = self._sample_run(resolve_run(self.samples), emit, Path(scratch))
            return from_array(array, str(self.samples), n_points, self.seed)
        path = Path(self.samples)
        if not path.exists():
            raise InputError(path, "no such file or folder")
        if path.is_dir() and (path / "config.json").is_file():
            return from_array(self._sample_run(path, emit), str(path), n_points, self.seed)
        if path.is_dir():
            return read_folder(path, self.points, n_points, self.seed, emit)
        return from_array(read_array(path), str(path), n_points, self.seed)

    def _oracle_samples(self, n_points: int) -> EvalSet:
        """``n`` random train shapes of the class in the oracle's representation (default: the data's own);
        data without splits gives its seeded "train" half, so oracle and reference never share a shape."""
        dataset = self._ref_classes()
        train = _seeded_halves(dataset, self.seed)[0] if _without_splits(dataset) else dataset.subset(split="train")
        representation = self.representation or ("voxels" if train.representation == "voxels" else "points")
        count = len(train) if self.n is None else min(self.n, len(train))
        rows = _seeded_rows(len(train), count, self.seed)
        # the data's own point count unless asked otherwise: no duplicated points, 4x less work at 1,024
        return train_shapes(train, representation, rows, n_points, self.resolution or 32, self.seed + 1)

    def _sample_run(self, run_dir: Path, emit: EventHandler, out: Path | None = None) -> np.ndarray:
        """Sample ``n`` shapes (of the class, if given) from a trained run into ``out`` (``RUN/eval/samples-SEED``)."""
        if self.n is None:
            raise InputError("--n", "say how many shapes to sample from the run")
        job = SampleJob(run_dir, self.n, out or run_dir / "eval" / f"samples-{self.seed}", class_name=self.class_name,
                        seed=self.seed, fmt="npy")
        return job.execute(emit, CancelToken()).array

    def _class_accuracy(self, samples: np.ndarray) -> float:
        """Share of samples the classifier puts in ``class_name`` (conditional sampling check)."""
        model, classes = _scoring().classifier.load_classifier(self.classifier)
        if self.class_name not in classes:
            raise InputError(self.classifier, f"classifier does not know class {self.class_name!r}")
        predicted = model.predict(samples)
        return float(np.mean(predicted == classes.index(self.class_name)))


def _scoring() -> SimpleNamespace:
    """The torch-backed modules an evaluation scores with, imported when one runs (on the job's thread): the CLI's
    parser and the app's Evaluate page import this module, and must not import torch (issue 21's lazy point here)."""
    from core.metrics import evaluation, fragmentation, normalisation
    from core.models import classifier

    return SimpleNamespace(evaluation=evaluation, fragmentation=fragmentation, normalisation=normalisation,
                           classifier=classifier)


def _without_splits(dataset) -> bool:
    """True for data whose every shape has the "no split" split (a flat folder, an array of clouds)."""
    return {r.split for r in dataset.records} == {NO_SPLIT}


def _seeded_halves(dataset, seed: int):
    """Data without splits cut in two by ``seed``: (the oracle's "train" half, the reference half), each in
    dataset order; the reference half takes the odd shape out."""
    if len(dataset) < 2:
        raise InputError(dataset.root, f"--oracle on data without splits needs at least 2 shapes to halve, "
                                       f"found {len(dataset)}")
    train = _seeded_rows(len(dataset), len(dataset) // 2, [seed, ORACLE_HALVES_STREAM])
    rest = np.setdiff1d(np.arange(len(dataset)), train)
    return tuple(ShapeDataset(dataset.source, [dataset.records[i] for i in rows], dataset.classes)
                 for rows in (train, rest))


def _seeded_subset(data: np.ndarray, count: int, seed) -> np.ndarray:
    """``count`` rows of ``data`` chosen at random (without replacement) by ``seed``, kept in dataset order."""
    return data[_seeded_rows(len(data), count, seed)]


def _seeded_rows(total: int, count: int, seed) -> np.ndarray:
    """``count`` of ``total`` row indices chosen at random (without replacement) by ``seed``, ascending."""
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


def _native_points(dataset) -> int:
    """The reference's own points per cloud (a point dataset's first shape), else :data:`DEFAULT_POINTS`."""
    if dataset.representation == "points" and len(dataset):
        return len(dataset.load(0).points)
    return DEFAULT_POINTS


def _matrix_cache(refs):
    """Keeps ref x ref distance matrices in the data cache, keyed by the (normalised) reference tensor,
    so evaluating several generators against one reference set pays for that matrix once."""
    import hashlib

    import torch

    digest = hashlib.sha256(refs.contiguous().numpy().tobytes()).hexdigest()

    def cache(name: str, compute):
        key = cache_key(f"{digest}|{tuple(refs.shape)}", f"eval-{name}", {})
        return torch.from_numpy(cached_arrays(key, lambda: {"distances": compute().numpy()})["distances"])

    return cache
