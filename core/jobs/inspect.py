"""``InspectJob``: what a dataset holds (counts per class and split, sizes, bounds, dropped rows, skipped files)."""
from __future__ import annotations

import os
from typing import Any

from core.data import open_dataset
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Progress


class InspectJob(Job):
    """Open the dataset at ``path`` (or "builtin") and return its :meth:`ShapeDataset.summary` dict.

    Every shape is loaded once to measure sizes and bounds, so this reports Progress per shape and
    honours cancel between shapes; rows dropped while opening are reported as a warning Log, and so are
    files skipped because they do not load (an InputError instead with ``strict``). ``key`` names the
    shapes' array of ``.npz`` files.
    """

    name = "inspect"

    def __init__(self, path: str | os.PathLike[str], strict: bool = False, key: str | None = None) -> None:
        self.path, self.strict, self.key = path, strict, key

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Open, then summarise shape by shape."""
        dataset = open_dataset(self.path, strict=self.strict, key=self.key)
        if dataset.source.dropped:
            emit(Log(f"{len(dataset.source.dropped)} rows dropped (see 'dropped')", level="warning"))

        def progress(done: int, total: int) -> None:
            cancel.raise_if_cancelled()
            emit(Progress(done, total, "inspect"))

        return dataset.summary(on_progress=progress)
