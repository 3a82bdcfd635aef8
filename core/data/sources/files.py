"""Folders of one-shape files: ModelNet-style meshes, any folder of meshes, point clouds, 3DGS ``.ply`` files or
one-shape arrays (a grid ``(R, R, R)`` or a cloud ``(P, 3)`` per ``.npy``, as ``convert --to voxels`` writes them).

Labels come from the folder layout. ``<class>/<split>/<file>`` (ModelNet's ``bathtub/train/bathtub_0001.off``,
at any depth: ``ModelNet10/bathtub/train/…`` works too) gives class and split; otherwise the file's
folder is its class (files directly in the root are "unlabelled") and the split is "all".

Every file is read once when the folder is opened, so a file that does not load is skipped and
reported (its path and reason) instead of failing the whole folder later, halfway through a training
run; what each file holds is cached (:mod:`core.data.cache`), so later opens read nothing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.cache import cache_key, cached_arrays, file_identity
from core.data.sources.arrays import array_stem, is_array_file
from core.data.sources.base import NO_CLASS, NO_SPLIT, SPLIT_NAMES, ShapeRecord, ShapeSource, read_each
from core.io import read_shape
from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

MESH_SUFFIXES = (".off", ".obj", ".stl", ".glb", ".gltf")
POINT_SUFFIXES = (".pcd",)
SHAPE_SUFFIXES = MESH_SUFFIXES + POINT_SUFFIXES + (".ply",)
REPRESENTATION_OF = {PointCloud: "points", Mesh: "mesh", GaussianSplats: "splats", VoxelGrid: "voxels"}


@dataclass
class FileSource(ShapeSource):
    """Shapes read from their files on demand through core.io (nothing kept in memory)."""

    def load(self, record: ShapeRecord) -> Shape:
        """Read the record's file."""
        return _read(Path(record.source))


def is_shape_file(path: Path) -> bool:
    """True for visible files with a suffix core.io reads as one shape (arrays below a folder's top hold one each)."""
    return (path.is_file() and not path.name.startswith(".")
            and (path.suffix.lower() in SHAPE_SUFFIXES or is_array_file(path)))


def open_files(root: Path, files: list[Path]) -> FileSource:
    """Label the ``files`` that load (all under ``root``, or ``root`` itself) from their paths; the
    commonest representation among them is the dataset's native one."""
    files = sorted(files)
    kinds, skipped = read_each(root, files, _representation)
    records = [_record(root, path) for path in kinds]
    native = Counter(kinds.values()).most_common(1)[0][0]
    classes = sorted({r.class_name for r in records})
    return FileSource(str(root), native, classes, records, skipped=skipped, file_count=len(files))


def _record(root: Path, path: Path) -> ShapeRecord:
    """Class and split of one file from the folders between ``root`` and it."""
    folders = path.relative_to(root).parts[:-1] if path != root else ()
    split = NO_SPLIT
    if folders and folders[-1].lower() in SPLIT_NAMES:
        split, folders = folders[-1].lower(), folders[:-1]
    name = array_stem(path) if is_array_file(path) else path.stem
    return ShapeRecord(name, folders[-1] if folders else NO_CLASS, split, str(path))


def _representation(path: Path) -> str:
    """What the file holds ("mesh", "points", "splats", "voxels"), read once and then cached per file version."""
    def read() -> dict[str, np.ndarray]:
        return {"representation": np.array(REPRESENTATION_OF[type(_read(path))])}

    return str(cached_arrays(cache_key(file_identity(path), "file-representation", {}), read)["representation"])


def _read(path: Path) -> Shape:
    """One shape file through core.io."""
    return read_shape(path)
