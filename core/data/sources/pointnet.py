"""PointNet-layout HDF5 point clouds: one ``.h5`` file or a folder of them (e.g. ModelNet10 1,024-point).

Each file holds ``data`` (N, P, 3) and ``label`` (N,), (N, 1) or (N, 1, 1); its split comes from its name
(``…_train.h5``). Class names come from ``shape_names.txt`` beside the files, one per label index;
shape names from ``<split>_files.txt`` when it lists exactly one line per row (ModelNet's
``class/split/class_0001.pcd``), else ``<file stem>_<row>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.sources.base import CLASS_NAME, ArraySource, ShapeRecord, cached_index, read_each, split_from_name
from core.errors import InputError
from core.io import read_pointnet_h5
from core.shapes import PointCloud

H5_SUFFIXES = (".h5", ".hdf5")
CLASS_NAMES_FILE = "shape_names.txt"


@dataclass
class PointNetSource(ArraySource):
    """Point clouds, one (N, P, 3) array per file (the 4,899-shape ModelNet10 is 60 MB in memory)."""

    def read(self, path: str) -> np.ndarray:
        """The file's ``data``."""
        return read_pointnet_h5(path)[0]

    def load(self, record: ShapeRecord) -> PointCloud:
        """The record's raw points."""
        return PointCloud(self.array(record.source)[record.row])


def is_h5_file(path: Path) -> bool:
    """True for HDF5 files by suffix."""
    return path.suffix.lower() in H5_SUFFIXES


def open_pointnet(root: Path, files: list[Path]) -> PointNetSource:
    """Read ``files`` (``root`` itself, or HDF5 files in the folder ``root``) into one point-cloud source."""
    files = sorted(files)
    folder = root.parent if root.is_file() else root
    names = _read_lines(folder / CLASS_NAMES_FILE)
    arrays: dict[str, np.ndarray] = {}
    labels, skipped = read_each(
        root, files, lambda path: cached_index(path, "pointnet-labels", lambda: _split_labels(path), arrays)["label"])
    top = max((int(rows.max()) for rows in labels.values() if len(rows)), default=-1)
    classes = names + [CLASS_NAME.format(k) for k in range(len(names), top + 1)]
    records = []
    for path, rows in labels.items():
        split = split_from_name(path.stem)
        shape_names = _read_lines(folder / f"{split}_files.txt")
        if len(shape_names) != len(rows):
            shape_names = [f"{path.stem}_{row:05d}" for row in range(len(rows))]
        records += [ShapeRecord(Path(name).stem, classes[int(label)], split, str(path), row)
                    for row, (name, label) in enumerate(zip(shape_names, rows))]
    if not records:
        raise InputError(root, "HDF5 files hold no shapes")
    return PointNetSource(str(root), "points", classes, records, skipped=skipped, file_count=len(files), arrays=arrays)


def _split_labels(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The file's points, and its labels as the index kept in the cache."""
    data, labels = read_pointnet_h5(path)
    return data, {"label": labels}


def _read_lines(path: Path) -> list[str]:
    """Non-empty stripped lines of a small text file, or [] if it does not exist."""
    if not path.is_file():
        return []
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read list file ({exc})") from None
