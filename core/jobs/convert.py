"""``ConvertJob``: one shape file, or every shape of a dataset, converted to another representation."""
from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from core.choices import DEFAULT_MESH_METHOD, MESH_METHODS, SHAPE_REPRESENTATIONS
from core.data import open_dataset
from core.data.conversions import convert
from core.data.meshing import to_mesh
from core.data.sources.arrays import is_array_file
from core.data.sources.base import NO_SPLIT
from core.data.sources.pointnet import is_h5_file
from core.errors import InputError, ShapeError
from core.io import read_shape, write_shape
from core.io.arrays import array_suffix
from core.io.dispatch import ARRAY_SUFFIXES, MESH_WRITERS, POINT_CLOUD_SUFFIXES
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Progress
from core.shapes import GaussianSplats, Mesh, Normalization, PointCloud, Shape

#: File type written for each target when the output is a folder (a dataset converted shape by shape).
DEFAULT_SUFFIX = {"points": ".ply", "voxels": ".npy", "splats": ".ply", "mesh": ".obj"}
#: ``--normalize`` choices: the transform fitted to a converted shape's own points (None keeps its coordinates)
NORMALIZATIONS = {"none": None, "unit_sphere": Normalization.unit_sphere, "unit_cube": Normalization.unit_cube}


class ConvertJob(Job):
    """Convert ``source`` to ``target`` ("points", "voxels", "splats" or "mesh") and write it to ``out``.

    ``source`` is a shape file (read with :func:`core.io.read_shape`; ``out`` is a file whose suffix
    picks the format) or a dataset — a folder, an HDF5 or batched array file, or "builtin" — in which
    case ``out`` is a folder that receives ``<class>/<split>/<name><suffix>`` per shape (``<class>/<name>``
    for shapes without a split), the layout :func:`core.data.open_dataset` reads back with the same
    classes, splits and counts; ``classes`` keeps only those classes of a dataset. Shapes keep their
    coordinates except when voxelised (fitted into the grid) or when ``normalize`` is "unit_sphere"
    (centred, farthest point at 1) or "unit_cube" (centred, longest side 1); converting splats to splats
    without normalising writes them back bit for bit. A mesh is made by :func:`core.data.meshing.to_mesh`
    (points and splats with ``mesh_method``), so it keeps the source's coordinates too.
    """

    name = "convert"

    def __init__(self, source: str | os.PathLike[str], target: str, out: str | os.PathLike[str],
                 points: int = 2048, resolution: int = 32, filled: bool = False, seed: int = 0,
                 normalize: str = "none", classes: str | None = None,
                 mesh_method: str = DEFAULT_MESH_METHOD) -> None:
        if target not in SHAPE_REPRESENTATIONS:
            raise InputError(None, f"unknown target {target!r}; use one of {', '.join(SHAPE_REPRESENTATIONS)}")
        if points < 1:
            raise InputError(None, f"--points must be positive, got {points}")
        if resolution < 2:
            raise InputError(None, f"--res must be at least 2, got {resolution}")
        if normalize not in NORMALIZATIONS:
            raise InputError("--normalize", f"unknown {normalize!r}; use one of {', '.join(NORMALIZATIONS)}")
        if mesh_method not in MESH_METHODS:
            raise InputError("--mesh-method", f"unknown {mesh_method!r}; use one of {', '.join(MESH_METHODS)}")
        if normalize != "none" and target == "voxels":
            raise InputError("--normalize", "voxel grids are always fitted into their grid; --normalize applies "
                                            "to points, splats and mesh")
        self.source, self.target, self.out = source, target, Path(out)
        self.normalize, self.classes, self.mesh_method = normalize, classes, mesh_method
        self.options = {"points": points, "resolution": resolution, "filled": filled, "seed": seed}

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Read, convert, write; for a dataset, shape by shape with Progress and cancel checks."""
        started = time.perf_counter()
        shape = self._single_shape()
        if shape is not None:
            if self.classes is not None:
                raise InputError(self.source, "one shape file; --classes selects classes of a dataset")
            self._check_suffix()
            self._write(shape, self.out)
            result: dict[str, Any] = {"outputs": [str(self.out)]}
        else:
            result = self._convert_dataset(emit, cancel)
        count = len(result["outputs"])
        seconds = time.perf_counter() - started
        emit(Log(f"converted {count} shape{'s' * (count != 1)} to {self.target} in {seconds:.2f} s"))
        return {**result, "count": count, "seconds": seconds}

    def _check_suffix(self) -> None:
        """Refuse an output file type the target cannot be written as, before any work is done."""
        allowed = _file_suffixes()[self.target]
        suffix = array_suffix(self.out)
        if suffix not in allowed:
            raise InputError(self.out, f"cannot write {self.target} as {suffix or 'a file without suffix'!r}; "
                                       f"use {', '.join(allowed)}")

    def _single_shape(self) -> Shape | None:
        """The source's shape if it is one shape file, None if it is a dataset."""
        path = Path(self.source)
        if not path.is_file() or is_h5_file(path):
            return None
        try:
            return read_shape(path)
        except InputError as error:
            if not is_array_file(path):
                raise
            try:  # a batch of grids, e.g. ModelNet's (N, 1, 32, 32, 32) arrays, is a dataset
                open_dataset(path)
            except InputError:
                raise error from None
            return None

    def _convert_dataset(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Every shape of the dataset into ``out/<class>[/<split>]/<name><suffix>``; the classes and splits written."""
        dataset = open_dataset(self.source)
        if self.classes is not None:
            dataset = dataset.subset(classes=self.classes)
        self._check_folder(len(dataset))
        paths = self._dataset_paths(dataset.records)
        for i, path in enumerate(paths):
            cancel.raise_if_cancelled()
            self._write(dataset.load(i), path)
            emit(Progress(i + 1, len(dataset), f"convert to {self.target}"))
        return {"outputs": [str(p) for p in paths],
                "classes": dict(Counter(r.class_name for r in dataset.records)),
                "splits": dict(Counter(r.split for r in dataset.records))}

    def _check_folder(self, count: int) -> None:
        """A dataset's output is a folder: an existing file, or a name with a shape file's suffix, is refused."""
        suffix = array_suffix(self.out)
        if self.out.is_file() or any(suffix in suffixes for suffixes in _file_suffixes().values()):
            raise InputError(self.out, f"{self.source} holds {count} shapes, so the output must be a folder, not a "
                                       f"{suffix or 'plain'} file; give a folder name")

    def _dataset_paths(self, records: list) -> list[Path]:
        """Where each shape goes: ``<class>/<split>/<name>``, or ``<class>/<name>`` for shapes without a split
        (a split folder named "all" would read back as a class); a name taken twice in one folder (a.off and
        a.obj) gets ``-2``, ``-3`` … so no shape overwrites another."""
        suffix = DEFAULT_SUFFIX[self.target]
        taken: set[Path] = set()
        paths = []
        for record in records:
            folder = self.out / record.class_name
            if record.split != NO_SPLIT:
                folder = folder / record.split
            path, copy = folder / f"{record.name}{suffix}", 1
            while path in taken:
                copy += 1
                path = folder / f"{record.name}-{copy}{suffix}"
            taken.add(path)
            paths.append(path)
        return paths

    def _write(self, shape: Shape, path: Path) -> None:
        """Convert one shape, normalise it as asked and write it where its suffix says."""
        try:
            if self.target == "mesh":
                converted = to_mesh(shape, self.mesh_method, self.options["resolution"])
            else:
                converted = convert(shape, self.target, **self.options)
        except ShapeError as error:
            raise InputError(self.source, error.problem) from None
        write_shape(normalized(converted, self.normalize), path)


def _file_suffixes() -> dict[str, tuple[str, ...]]:
    """The file types each target can be written as, by core.io's writers."""
    return {"points": POINT_CLOUD_SUFFIXES, "voxels": ARRAY_SUFFIXES, "splats": (".ply",), "mesh": tuple(MESH_WRITERS)}


def normalized(shape: Shape, mode: str) -> Shape:
    """``shape`` moved and scaled by the :data:`NORMALIZATIONS` transform fitted to its own points
    (mesh vertices in use, splat centres); unchanged for "none", so a splat file's layout survives."""
    fit = NORMALIZATIONS[mode]
    if fit is None:
        return shape
    if isinstance(shape, GaussianSplats):
        return shape.transformed(fit(shape.positions.astype(np.float64)))
    if isinstance(shape, Mesh):
        transform = fit(shape.vertices[np.unique(shape.faces)])
        return Mesh(transform.apply(shape.vertices), shape.faces, shape.vertex_colors)
    transform = fit(shape.points)
    return PointCloud(transform.apply(shape.points), shape.normals, shape.colors, dict(shape.extra))
