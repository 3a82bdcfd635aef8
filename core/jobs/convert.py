"""``ConvertJob``: one shape file, or every shape of a dataset, converted to another representation."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Progress

#: File type written for each target when the output is a folder (a dataset converted shape by shape).
DEFAULT_SUFFIX = {"points": ".ply", "voxels": ".npy", "splats": ".ply", "mesh": ".obj"}


class ConvertJob(Job):
    """Convert ``source`` to ``target`` ("points", "voxels", "splats" or "mesh") and write it to ``out``.

    ``source`` is a shape file (read with :func:`core.io.read_shape`; ``out`` is a file whose suffix
    picks the format) or a dataset — a folder, an HDF5 or batched array file, or "builtin" — in which
    case ``out`` is a folder that receives ``<class>/<split>/<name><suffix>`` per shape. Shapes keep
    their coordinates except when voxelised (fitted into the grid); converting splats to splats
    writes them back bit for bit.
    """

    name = "convert"

    def __init__(self, source: str | os.PathLike[str], target: str, out: str | os.PathLike[str],
                 points: int = 2048, resolution: int = 32, filled: bool = False, seed: int = 0) -> None:
        from core.data.conversions import REPRESENTATIONS

        if target not in REPRESENTATIONS:
            raise InputError(None, f"unknown target {target!r}; use one of {', '.join(REPRESENTATIONS)}")
        if points < 1:
            raise InputError(None, f"--points must be positive, got {points}")
        if resolution < 2:
            raise InputError(None, f"--res must be at least 2, got {resolution}")
        self.source, self.target, self.out = source, target, Path(out)
        self.options = {"points": points, "resolution": resolution, "filled": filled, "seed": seed}

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Read, convert, write; for a dataset, shape by shape with Progress and cancel checks."""
        started = time.perf_counter()
        shape = self._single_shape()
        if shape is not None:
            self._check_suffix()
            self._write(shape, self.out)
            outputs = [self.out]
        else:
            outputs = self._convert_dataset(emit, cancel)
        seconds = time.perf_counter() - started
        emit(Log(f"converted {len(outputs)} shape{'s' * (len(outputs) != 1)} to {self.target} "
                 f"in {seconds:.2f} s"))
        return {"outputs": [str(p) for p in outputs], "count": len(outputs), "seconds": seconds}

    def _check_suffix(self) -> None:
        """Refuse an output file type the target cannot be written as, before any work is done."""
        from core.io.arrays import array_suffix
        from core.io.dispatch import ARRAY_SUFFIXES, MESH_WRITERS, POINT_CLOUD_SUFFIXES

        allowed = {"points": POINT_CLOUD_SUFFIXES, "voxels": ARRAY_SUFFIXES, "splats": (".ply",),
                   "mesh": tuple(MESH_WRITERS)}[self.target]
        suffix = array_suffix(self.out)
        if suffix not in allowed:
            raise InputError(self.out, f"cannot write {self.target} as {suffix or 'a file without suffix'!r}; "
                                       f"use {', '.join(allowed)}")

    def _single_shape(self):
        """The source's shape if it is one shape file, None if it is a dataset."""
        from core.data.sources.pointnet import is_h5_file
        from core.data.sources.arrays import is_array_file
        from core.io import read_shape

        path = Path(self.source)
        if not path.is_file() or is_h5_file(path):
            return None
        try:
            return read_shape(path)
        except InputError as error:
            if not is_array_file(path):
                raise
            try:  # a batch of grids, e.g. ModelNet's (N, 1, 32, 32, 32) arrays, is a dataset
                from core.data import open_dataset

                open_dataset(path)
            except InputError:
                raise error from None
            return None

    def _convert_dataset(self, emit: EventHandler, cancel: CancelToken) -> list[Path]:
        """Every shape of the dataset into ``out/<class>/<split>/<name><suffix>``."""
        from core.data import open_dataset

        if self.out.exists() and not self.out.is_dir():
            raise InputError(self.out, "output for a dataset must be a folder, and this is a file")
        dataset = open_dataset(self.source)
        suffix = DEFAULT_SUFFIX[self.target]
        outputs = []
        for i, record in enumerate(dataset.records):
            cancel.raise_if_cancelled()
            path = self.out / record.class_name / record.split / f"{record.name}{suffix}"
            self._write(dataset.load(i), path)
            outputs.append(path)
            emit(Progress(i + 1, len(dataset), f"convert to {self.target}"))
        return outputs

    def _write(self, shape, path: Path) -> None:
        """Convert one shape and write it where its suffix says."""
        from core.data.conversions import convert
        from core.errors import ShapeError
        from core.io import write_shape

        try:
            converted = convert(shape, self.target, **self.options)
        except ShapeError as error:
            raise InputError(self.source, error.problem) from None
        write_shape(converted, path)
