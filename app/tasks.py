"""Small jobs the app runs for its own views (opening a dataset, loading shapes); the heavy ones live in core.jobs."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.data import open_dataset
from core.jobs import CancelToken, EventHandler, Job, Preview, Progress


class OpenDatasetJob(Job):
    """Open a dataset (file, folder or "builtin") and return ``(dataset, counts)`` for the browser.

    The counts come from the records alone, so even ModelNet's 4,899 shapes (HDF5) open in about a second; a
    folder of shape files is read once on its first open to leave out the files that do not load (their
    verdicts are cached); ``core.jobs.inspect.InspectJob`` measures sizes and bounds when those are wanted.
    """

    name = "open dataset"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path

    def execute(self, emit: EventHandler, cancel: CancelToken) -> tuple[Any, dict[str, dict[str, int]]]:
        """Open, then count shapes per (class, split)."""
        emit(Progress(0, 0, f"opening {self.path}"))
        dataset = open_dataset(self.path)
        counts: dict[str, dict[str, int]] = {name: {} for name in dataset.classes}
        for record in dataset.records:
            per_split = counts.setdefault(record.class_name, {})
            per_split[record.split] = per_split.get(record.split, 0) + 1
        return dataset, counts


class FindRunsJob(Job):
    """Which of ``candidates`` (the recent list) are still run folders, i.e. hold a ``config.json``: the list
    may name folders on a slow or vanished disk, so the Sample page asks off the GUI thread."""

    name = "find runs"

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = [str(c) for c in candidates]

    def execute(self, emit: EventHandler, cancel: CancelToken) -> list[str]:
        """The candidates that hold a config.json, in the order given."""
        return [c for c in self.candidates if (Path(c) / "config.json").is_file()]


class LoadShapesJob(Job):
    """Load shapes ``indices`` of a dataset in ``representation``, one ``Preview`` event per shape.

    Shapes are normalised as training data is (files come in any units, and one far larger than the next
    would leave the renderer's clipping planes wrong for it); a cloud of a point dataset keeps its own point
    count, so a 1,024-point file is shown (and captioned) with 1,024 points, not resampled to 2,048.

    ``Preview.step`` is the dataset index and ``Preview.shapes`` the one shape, so a view can show
    each as soon as it is converted (conversions are cached on disk by core.data).
    """

    name = "load shapes"

    def __init__(self, dataset: Any, indices: list[int], representation: str) -> None:
        self.dataset, self.indices, self.representation = dataset, list(indices), representation

    def execute(self, emit: EventHandler, cancel: CancelToken) -> int:
        """Convert and report each shape; returns how many were loaded."""
        for done, index in enumerate(self.indices, start=1):
            cancel.raise_if_cancelled()
            native = self.representation == "points" == self.dataset.representation
            params = {"n_points": len(self.dataset.load(index))} if native else {}
            shape = self.dataset.get(index, self.representation, **params)
            emit(Preview(index, len(self.indices), [shape]))
            emit(Progress(done, len(self.indices), f"{self.representation}"))
        return len(self.indices)
