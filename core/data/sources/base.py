"""What every dataset kind provides: a list of shape records and a loader for one record."""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data.cache import file_identity
from core.shapes import Shape

#: split names recognised in folder and file names (ModelNet uses train/test)
SPLIT_NAMES = ("train", "test", "val")
#: the split of shapes whose source says nothing about splits
NO_SPLIT = "all"
#: the class of shapes whose source says nothing about classes
NO_CLASS = "unlabelled"


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


@dataclass
class ShapeSource(ABC):
    """A dataset kind on disk: knows its records and classes and loads a record's native shape."""

    root: str
    representation: str
    classes: list[str]
    records: list[ShapeRecord]
    dropped: list[DroppedRow] = field(default_factory=list)

    @abstractmethod
    def load(self, record: ShapeRecord) -> Shape:
        """The record's shape in the source's native representation, raw (not normalised)."""

    def stack(self, records: list[ShapeRecord]) -> np.ndarray | None:
        """The native arrays of ``records`` (all of one source) stacked, where the source holds arrays."""
        return None

    def identity(self, source: str) -> str:
        """A string that changes whenever the content of ``source`` may have changed (cache keys)."""
        return file_identity(source)


def split_from_name(name: str) -> str:
    """The split named in a file or folder name ("modelnet10_pcd1024_train.h5" -> "train")."""
    words = set(re.split(r"[^a-z0-9]+", Path(name).name.lower()))
    return next((split for split in SPLIT_NAMES if split in words), NO_SPLIT)


@dataclass
class ArraySource(ShapeSource, ABC):
    """A source that holds each file's shapes as one array in memory (HDF5 clouds, voxel stacks)."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def stack(self, records: list[ShapeRecord]) -> np.ndarray:
        """Rows of the records' file, in the records' order."""
        return self.arrays[records[0].source][[r.row for r in records]]
