"""Folders of one-shape files: ModelNet-style meshes, any folder of meshes, 3DGS splat ``.ply`` files.

Labels come from the folder layout. ``<class>/<split>/<file>`` (ModelNet's ``bathtub/train/bathtub_0001.off``,
at any depth: ``ModelNet10/bathtub/train/…`` works too) gives class and split; otherwise the file's
folder is its class (files directly in the root are "unlabelled") and the split is "all".
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.data.sources.base import NO_CLASS, NO_SPLIT, SPLIT_NAMES, ShapeRecord, ShapeSource
from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

MESH_SUFFIXES = (".off", ".obj", ".stl")
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
    """True for visible files with a suffix core.io reads as one shape."""
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in SHAPE_SUFFIXES


def open_files(root: Path, files: list[Path]) -> FileSource:
    """Label ``files`` (all under ``root``, or ``root`` itself) from their paths; the commonest kind is native."""
    records = [_record(root, path) for path in sorted(files)]
    kinds = Counter(_kind(path) for path in files)
    native = kinds.most_common(1)[0][0]
    if native == "ply":  # a PLY without splat properties holds a mesh or a point cloud: look at one
        native = REPRESENTATION_OF[type(_read(next(p for p in sorted(files) if _kind(p) == "ply")))]
    classes = sorted({r.class_name for r in records})
    return FileSource(str(root), native, classes, records)


def _record(root: Path, path: Path) -> ShapeRecord:
    """Class and split of one file from the folders between ``root`` and it."""
    folders = path.relative_to(root).parts[:-1] if path != root else ()
    split = NO_SPLIT
    if folders and folders[-1].lower() in SPLIT_NAMES:
        split, folders = folders[-1].lower(), folders[:-1]
    return ShapeRecord(path.stem, folders[-1] if folders else NO_CLASS, split, str(path))


def _kind(path: Path) -> str:
    """Native representation of a file judged from its name (and a PLY's header)."""
    from core.io import is_splat_ply

    suffix = path.suffix.lower()
    if suffix in POINT_SUFFIXES:
        return "points"
    if suffix == ".ply":
        return "splats" if is_splat_ply(path) else "ply"
    return "mesh"


def _read(path: Path) -> Shape:
    """One shape file through core.io."""
    from core.io import read_shape

    return read_shape(path)
