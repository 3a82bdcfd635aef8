"""What every dataset kind provides: a list of shape records and a loader for one record."""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from core.data.cache import Arrays, cache_key, cached_arrays, file_identity
from core.errors import InputError, during
from core.shapes import Shape

T = TypeVar("T")

#: split names recognised in folder and file names (ModelNet uses train/test)
SPLIT_NAMES = ("train", "test", "val")
#: the split of shapes whose source says nothing about splits
NO_SPLIT = "all"
#: the class of shapes whose source says nothing about classes
NO_CLASS = "unlabelled"
#: the name of a class known only by its label index (PointNet files without names, .npz labels)
CLASS_NAME = "class_{}"


@dataclass(frozen=True)
class ShapeRecord:
    """One shape of a dataset: its name, class and split, and where it lives.

    ``source`` is the file holding it (or a pseudo-path such as ``builtin/chair``), ``row`` its
    index in that file when the file holds many shapes (HDF5, voxel arrays), else 0.
    """

    name: str
    class_name: str
    split: str
    source: str
    row: int = 0


@dataclass(frozen=True)
class DroppedRow:
    """A row of a source file left out of the dataset, and why (reported by ``inspect``)."""

    source: str
    row: int
    reason: str


@dataclass(frozen=True)
class SkippedFile:
    """A file of a folder dataset that did not load, and the one-line reason (reported, not fatal)."""

    path: str
    reason: str


@dataclass
class ShapeSource(ABC):
    """A dataset kind on disk: knows its records and classes and loads a record's native shape.

    ``skipped`` lists the files that did not load, out of ``file_count`` files looked at; ``notes``
    are lines ``inspect`` shows about how the data was read (e.g. voxel values thresholded).
    """

    root: str
    representation: str
    classes: list[str]
    records: list[ShapeRecord]
    dropped: list[DroppedRow] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    file_count: int = 0
    notes: list[str] = field(default_factory=list)

    @abstractmethod
    def load(self, record: ShapeRecord) -> Shape:
        """The record's shape in the source's native representation, raw (not normalised)."""

    def stack(self, records: list[ShapeRecord]) -> np.ndarray | None:
        """The native arrays of ``records`` (all of one source) stacked, where the source holds arrays."""
        return None

    def identity(self, source: str) -> str:
        """A string that changes whenever the content of ``source`` may have changed (cache keys)."""
        return file_identity(source)


def read_each(root: Path, files: list[Path], read: Callable[[Path], T]) -> tuple[dict[Path, T], list[SkippedFile]]:
    """``read`` every file; one that raises InputError is skipped with its reason, so one bad file
    never costs the rest. When nothing loads, the error is raised: of the file itself when ``root``
    is that file, else naming the folder, how many failed and the first reason."""
    results, skipped = {}, []
    for path in files:
        try:
            with during("reading", path):
                results[path] = read(path)
        except InputError as exc:
            if path == root:
                raise
            skipped.append(SkippedFile(str(path), exc.problem if exc.source == str(path) else str(exc)))
    if not results:
        first = skipped[0]
        raise InputError(root, f"none of its {len(files)} files loads (first: {first.path}: {first.reason})")
    return results, skipped


def split_from_name(name: str) -> str:
    """The split named in a file or folder name ("modelnet10_pcd1024_train.h5" -> "train")."""
    words = set(re.split(r"[^a-z0-9]+", Path(name).name.lower()))
    return next((split for split in SPLIT_NAMES if split in words), NO_SPLIT)


@dataclass
class ArraySource(ShapeSource, ABC):
    """A source whose files each hold many shapes in one array, read on first use and then kept.

    Opening needs only a small index per file (labels, kept rows), itself cached on disk by
    :func:`cached_index`, so once a dataset's conversions are cached it opens and loads without
    decompressing its arrays again.
    """

    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @abstractmethod
    def read(self, path: str) -> np.ndarray:
        """All shapes of the file ``path`` as one array."""

    def array(self, source: str) -> np.ndarray:
        """The array of ``source``, read once."""
        if source not in self.arrays:
            self.arrays[source] = self.read(source)
        return self.arrays[source]

    def stack(self, records: list[ShapeRecord]) -> np.ndarray:
        """Rows of the records' file, in the records' order."""
        array = self.array(records[0].source)
        rows = np.array([r.row for r in records])
        return array if np.array_equal(rows, np.arange(len(array))) else array[rows]


def cached_index(path: Path, kind: str, read: Callable[[], tuple[np.ndarray, Arrays]],
                 arrays: dict[str, np.ndarray]) -> Arrays:
    """The index arrays of one file from the cache; on a miss ``read()`` the file and keep its array in ``arrays``."""
    def compute() -> Arrays:
        array, index = read()
        arrays[str(path)] = array
        return index

    return cached_arrays(cache_key(file_identity(path), kind, {}), compute)
