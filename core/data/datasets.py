"""Datasets over files, folders and the built-in set, each yielding any representation, cached on disk.

``open_dataset(path)`` recognises the kind of data at ``path`` and returns a :class:`ShapeDataset`:
a list of :class:`ShapeRecord` (name, class, split) over a source that loads native shapes. Every
representation is available from every dataset: ``get(i, "points" | "voxels" | "splats" | "mesh")``
for one shape and ``points()`` / ``voxels()`` / ``splat_grids()`` for training batches, converted by
``core.data.conversions`` and normalised as DESIGN.md prescribes (points: centred, unit sphere;
voxels and splat grids: bounding box fitted into the [-1, 1]³ grid). Conversions are cached on disk
(:mod:`core.data.cache`), so the second load of a dataset reads arrays instead of converting.
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from core.data import splat_grid
from core.data.builtin import is_builtin_name, open_builtin
from core.data.cache import cache_key, cached_arrays
from core.data.representations import (CONVERTERS, DEFAULT_SPLATS, REPRESENTATIONS, SHAPE_TYPES,
                                       points_from_stack, shape_arrays, shape_points, shape_seed, shape_splats,
                                       shape_voxels)
from core.data.sources.arrays import ARRAY_SUFFIXES, is_array_file, open_arrays
from core.data.sources.base import NO_SPLIT, ShapeRecord, ShapeSource, SkippedFile
from core.data.sources.files import SHAPE_SUFFIXES, is_shape_file, open_files
from core.data.sources.pointnet import H5_SUFFIXES, is_h5_file, open_pointnet
from core.errors import InputError, during
from core.shapes import Mesh, Shape, VoxelGrid

ProgressCallback = Callable[[int, int], None]
_log = logging.getLogger(__name__)
#: the per-shape size ``inspect`` reports, by native representation
_SIZE_KEY = {"points": "points_per_shape", "voxels": "resolution", "splats": "gaussians_per_shape",
             "mesh": "faces_per_shape"}


class ShapeDataset:
    """An ordered, labelled collection of shapes of one source, possibly a subset of it."""

    def __init__(self, source: ShapeSource, records: list[ShapeRecord] | None = None,
                 classes: list[str] | None = None) -> None:
        self.source = source
        self.records: list[ShapeRecord] = list(source.records if records is None else records)
        self.classes: list[str] = list(source.classes if classes is None else classes)

    @property
    def representation(self) -> str:
        """The native representation: "points", "voxels", "splats" or "mesh"."""
        return self.source.representation

    @property
    def root(self) -> str:
        """The path (or "builtin") the dataset was opened from."""
        return self.source.root

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"ShapeDataset({self.root!r}, {len(self)} {self.representation} shapes, {len(self.classes)} classes)"

    def subset(self, classes: Iterable[str] | str | None = None, split: str | None = None) -> "ShapeDataset":
        """The shapes of the given classes (a list or "a,b") and/or split; labels then index ``classes``.

        An unknown class or split, or a selection without shapes, is an InputError: a silently empty
        training set would only fail later and further from the cause. Data without splits serves whole
        as any split (``eval --ref clouds.npy`` asks for "test"), with a warning on this module's logger.
        """
        records, kept_classes = self.records, self.classes
        if classes is not None:
            wanted = [c.strip() for c in (classes.split(",") if isinstance(classes, str) else classes) if c.strip()]
            unknown = [c for c in wanted if c not in self.classes]
            if unknown or not wanted:
                raise InputError(self.root, f"unknown class {', '.join(map(repr, unknown)) or '(none given)'}; "
                                            f"classes are {', '.join(self.classes)}")
            kept_classes = [c for c in self.classes if c in wanted]
            records = [r for r in records if r.class_name in wanted]
        splits = sorted({r.split for r in self.records})
        if split is not None and splits == [NO_SPLIT] and split != NO_SPLIT:
            # data without splits (an array of clouds, a flat folder) serves whole as any split asked for
            _log.warning(f"{self.root} has no splits: all its shapes serve as split {split!r}")
        elif split is not None:
            if split not in splits:
                raise InputError(self.root, f"unknown split {split!r}; splits are {', '.join(splits)}")
            records = [r for r in records if r.split == split]
        if not records:
            raise InputError(self.root, f"no shapes of class {', '.join(kept_classes)} in split {split!r}")
        return ShapeDataset(self.source, records, kept_classes)

    def load(self, i: int) -> Shape:
        """Shape ``i`` in its native representation and original coordinates."""
        record = self.records[i]
        with during("reading", record.source):
            return self.source.load(record)

    def labels(self) -> np.ndarray:
        """Class index of every shape into ``self.classes``, int64 (N,)."""
        index = {name: k for k, name in enumerate(self.classes)}
        return np.array([index[r.class_name] for r in self.records], dtype=np.int64)

    def get(self, i: int, representation: str, **params) -> Shape:
        """Shape ``i`` converted to ``representation`` and normalised, cached on disk.

        Parameters: "points": ``n_points`` (2048), ``seed`` (0); "voxels": ``resolution`` (32),
        ``filled`` (False); "splats": ``n`` (4096), ``seed``; "mesh": ``resolution`` (32, for
        meshes built from points or splats through a filled grid). ``get(i, "points")`` equals
        ``points()[i]`` and ``get(i, "voxels")`` equals ``voxels()[i]``.
        """
        if representation not in REPRESENTATIONS:
            raise InputError(self.root, f"unknown representation {representation!r}; use one of "
                                        f"{', '.join(REPRESENTATIONS)}")
        convert = CONVERTERS[representation]
        defaults = convert.__kwdefaults__
        unknown = set(params) - set(defaults)
        if unknown:
            raise InputError(self.root, f"unknown parameter {', '.join(sorted(unknown))} for {representation}; "
                                        f"use {', '.join(defaults)}")
        settings = {**defaults, **params}
        record = self.records[i]
        arguments = dict(settings)
        if "seed" in arguments:
            arguments["seed"] = shape_seed(settings["seed"], record.row)
        key = cache_key(self.source.identity(record.source), f"get-{representation}",
                        {"row": record.row, **settings})
        with during(f"converting to {representation}", record.source):
            arrays = cached_arrays(key, lambda: shape_arrays(convert(self.source.load(record), **arguments)))
        return SHAPE_TYPES[representation](**arrays)

    def points(self, n_points: int = 2048, seed: int = 0, on_progress: ProgressCallback | None = None) -> np.ndarray:
        """Every shape as ``n_points`` points, centred and scaled into the unit sphere: float32 (N, n_points, 3).

        Clouds with another point count are resampled (:func:`core.data.representations.resample_index`),
        meshes and grids sampled on their surface; each shape gets its own seed derived from ``seed``.
        """
        if n_points < 1:
            raise InputError(self.root, f"number of points must be positive, got {n_points}")

        def convert(records: list[ShapeRecord]) -> np.ndarray:
            seeds = [shape_seed(seed, r.row) for r in records]
            stack = self.source.stack(records)
            if stack is not None and self.representation == "points":
                return points_from_stack(stack, seeds, n_points)  # vectorised over the whole file
            return np.stack([shape_points(self.source.load(r), n_points=n_points, seed=s).points
                             for r, s in zip(records, seeds)])

        return self._batch("points", {"n_points": n_points, "seed": seed}, convert, on_progress)

    def voxels(self, resolution: int = 32, filled: bool = False,
               on_progress: ProgressCallback | None = None) -> np.ndarray:
        """Every shape as an R³ occupancy grid, its bounding box centred and fitted in: bool (N, R, R, R)."""
        if resolution < 2:
            raise InputError(self.root, f"voxel resolution must be at least 2, got {resolution}")

        def convert(records: list[ShapeRecord]) -> np.ndarray:
            stack = self.source.stack(records)
            if stack is not None and self.representation == "voxels" and stack.shape[1] == resolution:
                return stack.copy()  # voxel-native data stays as it is (a copy: callers may write to it)
            return np.stack([shape_voxels(self.source.load(r), resolution=resolution, filled=filled).occupancy
                             for r in records])

        return self._batch("voxels", {"resolution": resolution, "filled": filled}, convert, on_progress)

    def splat_grids(self, resolution: int = 32, n: int = DEFAULT_SPLATS, seed: int = 0,
                    on_progress: ProgressCallback | None = None) -> np.ndarray:
        """Every shape as Gaussians in an R³ grid, packed: float32 (N, K, CHANNELS) (:mod:`core.data.splat_grid`).

        Each shape becomes splats (native ones kept, others made from ``n`` surface points per
        :func:`core.data.representations.shape_splats`), its centres' bounding box is fitted into
        the grid as voxels are, Gaussians sharing a cell are merged, and only the K occupied cells
        are stored (column 0 the flat cell index, -1 for padding): a dense 32³ grid of 15 channels
        would take 2 MB per shape. ``splat_grid.unpack`` gives the dense grids.
        """
        if resolution < 2:
            raise InputError(self.root, f"splat grid resolution must be at least 2, got {resolution}")

        def convert(records: list[ShapeRecord]) -> np.ndarray:
            cells = [splat_grid.encode_cells(splat_grid.fit_to_grid(
                shape_splats(self.source.load(r), n=n, seed=shape_seed(seed, r.row)), resolution), resolution)
                for r in records]
            return splat_grid.pack_cells(cells)

        return self._batch("splat_grids", {"resolution": resolution, "n": n, "seed": seed}, convert, on_progress,
                           join=splat_grid.pad_packed)

    def _batch(self, operation: str, params: dict, convert: Callable[[list[ShapeRecord]], np.ndarray],
               on_progress: ProgressCallback | None,
               join: Callable[[list[np.ndarray]], np.ndarray] = np.concatenate) -> np.ndarray:
        """Convert every shape with one cache entry per source file (an HDF5 file, a mesh file …);
        ``join`` puts the files' arrays together."""
        parts, order = [], []
        for source, positions in _by_source(self.records).items():
            records = [self.records[p] for p in positions]
            rows = np.array([r.row for r in records], dtype=np.int64)
            key = cache_key(self.source.identity(source), operation,
                            {**params, "rows": hashlib.sha256(rows.tobytes()).hexdigest()})
            with during(f"converting to {operation}", source):
                parts.append(cached_arrays(key, lambda: {operation: convert(records)})[operation])
            order += positions
            if on_progress is not None:
                on_progress(len(order), len(self))
        batch = parts[0] if len(parts) == 1 else join(parts)
        return batch if order == sorted(order) else batch[np.argsort(order)]

    def summary(self, on_progress: ProgressCallback | None = None) -> dict:
        """What ``datasets inspect`` prints: counts per class and split, shape sizes, bounds, dropped rows.

        Loads every shape once (sizes and bounds are measured, not assumed); ``on_progress(done, total)``
        is called after each.
        """
        sizes, lows, highs = [], [], []
        for i in range(len(self)):
            shape = self.load(i)
            sizes.append(_size(shape))
            low, high = _occupied_bounds(shape)
            lows.append(low)
            highs.append(high)
            if on_progress is not None:
                on_progress(i + 1, len(self))
        per_class = Counter(r.class_name for r in self.records)
        per_split = Counter(r.split for r in self.records)
        per_pair = Counter((r.class_name, r.split) for r in self.records)
        result = {
            "path": self.root,
            "representation": self.representation,
            "count": len(self),
            "classes": {name: per_class[name] for name in self.classes},
            "splits": dict(sorted(per_split.items())),
            "class_splits": {name: {s: n for (c, s), n in sorted(per_pair.items()) if c == name}
                             for name in self.classes},
            _SIZE_KEY[self.representation]: _range(sizes),
            "bounds": {"min": _rounded(np.min(lows, axis=0)), "max": _rounded(np.max(highs, axis=0))},
        }
        if self.source.dropped:
            result["dropped"] = [{"source": d.source, "row": d.row, "reason": d.reason} for d in self.source.dropped]
        if self.source.file_count:
            result["files"] = self.source.file_count
        result["skipped"] = [{"path": f.path, "reason": f.reason} for f in self.source.skipped]
        if self.source.notes:
            result["notes"] = list(self.source.notes)
        return result


# ---------------------------------------------------------------- opening


def open_dataset(path: str | os.PathLike[str], strict: bool = False, key: str | None = None) -> ShapeDataset:
    """Open the dataset at ``path`` (a file, a folder, or "builtin" / "builtin:SEED"), recognising its kind.

    Files of a folder that do not load are skipped: logged as a warning on this module's logger (a
    running job reports it as a Log event) and listed in :meth:`ShapeDataset.summary`; with ``strict``
    any skipped file is an InputError instead. ``key`` names the shapes' array in ``.npz`` files (``--key``).
    """
    text = os.fspath(path)
    if key is not None and not text.lower().endswith(".npz") and not Path(text).is_dir():
        raise InputError(text, f"--key {key} names an array of an .npz file; this is not one")
    if is_builtin_name(text):
        seed = text.partition(":")[2] or "0"
        if not seed.isdigit():
            raise InputError(text, "the built-in dataset takes a non-negative integer seed: builtin:SEED")
        return ShapeDataset(open_builtin(int(seed)))
    root = Path(text).expanduser()
    if not root.exists():
        raise InputError(root, "no such file or folder")
    source = _open_file(root, key) if root.is_file() else _open_folder(root, key)
    if source.skipped:
        first = source.skipped[0]
        if strict:
            raise InputError(root, f"{len(source.skipped)} of {source.file_count} files do not load (first: "
                                   f"{first.path}: {first.reason}); --strict allows none")
        _log.warning(skipped_report(source.root, [vars(f) for f in source.skipped], source.file_count))
    return ShapeDataset(source)


def skipped_report(root: str, skipped: list[dict[str, str]], file_count: int) -> str:
    """``ROOT: skipped K of M files`` and one indented ``path: reason`` line per skipped file."""
    return "\n".join([f"{root}: skipped {len(skipped)} of {file_count} files"]
                     + [f"  {entry['path']}: {entry['reason']}" for entry in skipped])


def _open_file(path: Path, key: str | None) -> ShapeSource:
    """A single file: a PointNet/voxel HDF5 file, an array file of shapes (``key``: an .npz's member) or one
    shape file."""
    if is_h5_file(path):
        return _open_h5(path, [path])
    if is_array_file(path):
        return open_arrays(path, [path], key)
    if is_shape_file(path):
        return open_files(path, [path])
    raise InputError(path, f"not a dataset file (expected {', '.join(H5_SUFFIXES + ARRAY_SUFFIXES + SHAPE_SUFFIXES)})")


def _open_folder(root: Path, key: str | None) -> ShapeSource:
    """HDF5 files in the folder, else array files in it (``key``: the .npz files' member), else shape files
    anywhere below it."""
    try:
        top = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise InputError(root, f"cannot list folder ({exc.strerror})") from None
    if h5 := [p for p in top if is_h5_file(p)]:
        return _with_unread(_open_h5(root, h5), "HDF5", [p for p in top if p not in h5])
    if arrays := [p for p in top if is_array_file(p)]:
        return _with_unread(open_arrays(root, arrays, key), "array", [p for p in top if p not in arrays])
    if files := [p for p in sorted(root.rglob("*")) if is_shape_file(p)]:
        return open_files(root, files)
    if not any(root.iterdir()):
        raise InputError(root, "folder is empty")
    raise InputError(root, f"no shape files in folder (looked for {', '.join(H5_SUFFIXES + ARRAY_SUFFIXES)} "
                           f"at the top and {', '.join(SHAPE_SUFFIXES + ARRAY_SUFFIXES)} anywhere below)")


def _with_unread(source: ShapeSource, kind: str, others: list[Path]) -> ShapeSource:
    """``source`` with the shape and array files beside the ones it read listed as skipped: a folder is read as
    one kind, so a user's OBJ next to an .npy is named in the report (and refused by ``--strict``), not silently
    left out. Subfolders are not looked at: datasets ship example files there (ModelNet's ``pcd_samples/``)."""
    unread = [p for p in others if is_h5_file(p) or is_array_file(p) or is_shape_file(p)]
    source.skipped += [SkippedFile(str(p), f"not read: the folder's top holds {kind} files and a folder is read as "
                                           f"one kind (open this file on its own, or move it to a folder of its own)")
                       for p in unread]
    source.file_count += len(unread)
    return source


def _open_h5(root: Path, files: list[Path]) -> ShapeSource:
    """PointNet point clouds (``data``/``label``), else ShapeNet voxel grids; the PointNet error if neither."""
    try:
        return open_pointnet(root, files)
    except InputError as pointnet_error:
        try:
            return open_arrays(root, files)
        except InputError:
            raise pointnet_error from None


def _by_source(records: list[ShapeRecord]) -> dict[str, list[int]]:
    """Positions of the records of each source file, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        groups.setdefault(record.source, []).append(position)
    return groups


def _size(shape: Shape) -> int:
    """Points, grid resolution, Gaussians or triangles: the size ``inspect`` reports per shape."""
    if isinstance(shape, VoxelGrid):
        return shape.resolution
    return len(shape.faces) if isinstance(shape, Mesh) else len(shape)


def _occupied_bounds(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """Bounding box of the geometry itself (for grids: of the occupied cells, not the whole frame)."""
    if isinstance(shape, VoxelGrid):
        centers = shape.centers()
        half = shape.voxel_size / 2
        return centers.min(axis=0) - half, centers.max(axis=0) + half
    return shape.bounds


def _range(values: list[int]) -> int | dict[str, int]:
    """One number when every shape agrees, else min/max."""
    low, high = int(min(values)), int(max(values))
    return low if low == high else {"min": low, "max": high}


def _rounded(corner: np.ndarray) -> list[float]:
    """A bounds corner as JSON-friendly floats (float32 noise rounded off)."""
    return [round(float(v), 6) for v in corner]
