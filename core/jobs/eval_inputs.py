"""What ``eval`` scores, made from whatever it is given: arrays, folders of shape files, train shapes.

Every input becomes an :class:`EvalSet`: the shapes as the distribution metrics take them (point
clouds (N, P, 3) or voxel grids (N, R, R, R)) plus, for shapes with a volume (voxels, splats,
meshes), the occupancy grids whose pieces :mod:`core.metrics.fragmentation` counts. Splats are
scored as geometry: points drawn on their Gaussians (weighted by opacity) for the metrics, their
centres binned at :data:`FRAGMENT_RESOLUTION`³ for the pieces.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.data.conversions import convert, sample_splats, sample_surface
from core.data.representations import resample_index, shape_seed
from core.data.splat_grid import CHANNELS, OCCUPANCY, cell_index, decode, fit_to_grid, kept_cells, unpack
from core.errors import InputError, ShapeError
from core.io import read_shape
from core.jobs.events import Log
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

#: grid at which splat centres and meshes are binned to count their pieces (the splat models' own grid)
FRAGMENT_RESOLUTION = 32
#: points drawn on a voxel grid's surface to classify it (the shipped classifier's ModelNet10 clouds have 1,024)
DEFAULT_SURFACE_POINTS = 1024
#: file suffixes a samples folder is read from (each file one shape)
SHAPE_SUFFIXES = (".ply", ".pcd", ".obj", ".off", ".stl", ".glb", ".gltf")


@dataclass(frozen=True)
class EvalSet:
    """Shapes to score: ``array`` points (N, P, 3) float32 or voxels (N, R, R, R); ``occupancy`` bool grids
    (N, R, R, R) whose pieces are counted (None for point clouds, which have no volume to break)."""

    source: str
    representation: str
    array: np.ndarray
    occupancy: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.array)

    @property
    def is_points(self) -> bool:
        """Scored with the point metrics (CD, EMD), else with the voxel ones (CD, IoU)."""
        return self.array.ndim == 3

    def head(self, n: int | None) -> "EvalSet":
        """The first ``n`` shapes (all when ``n`` is None)."""
        if n is None:
            return self
        return replace(self, array=self.array[:n], occupancy=None if self.occupancy is None else self.occupancy[:n])


def from_array(array: np.ndarray, source: str, n_points: int, seed: int) -> EvalSet:
    """An array file's shapes: points (N, P, 3), voxels (N, R, R, R) or splat grids (N, 15, R, R, R) as
    ``sample`` writes them; anything else (or empty, or non-finite) is an InputError naming ``source``."""
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputError(source, f"expected a numeric array, got dtype {array.dtype}")
    is_points = array.ndim == 3 and array.shape[2] == 3
    is_voxels = array.ndim == 4 and array.shape[1] == array.shape[2] == array.shape[3]
    is_splats = array.ndim == 5 and array.shape[1] == CHANNELS and array.shape[2] == array.shape[3] == array.shape[4]
    if not (is_points or is_voxels or is_splats):
        raise InputError(source, f"expected points (N,P,3), voxels (N,R,R,R) or splat grids (N,{CHANNELS},R,R,R), "
                                 f"got shape {array.shape}")
    if array.size == 0 or array.shape[0] == 0:
        raise InputError(source, f"empty sample set (shape {array.shape})")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array).reshape(len(array), -1).all(1))[0])
        raise InputError(source, f"non-finite values (NaN/Inf), first in sample {bad}")
    if is_points:
        return EvalSet(source, "points", array.astype(np.float32))
    if is_voxels:
        return EvalSet(source, "voxels", array, array.astype(bool))
    return _splat_grids(array, source, n_points, seed)


def _splat_grids(grids: np.ndarray, source: str, n_points: int, seed: int) -> EvalSet:
    """Decoded splat grids; one without an occupied cell is an InputError (it holds no shape to score)."""
    empty = [i for i, grid in enumerate(grids) if not kept_cells(grid[OCCUPANCY]).size]
    if empty:
        raise InputError(source, f"{len(empty)} splat grid(s) without an occupied cell (first: index {empty[0]})")
    return from_splats([decode(grid) for grid in grids], source, n_points, seed, grids.shape[2])


def from_splats(splats: list, source: str, n_points: int, seed: int,
                resolution: int = FRAGMENT_RESOLUTION) -> EvalSet:
    """Gaussian splats: ``n_points`` opacity-weighted draws on each shape's Gaussians, and its centres'
    occupancy at ``resolution``³ after fitting them into the grid as splat datasets are (a splat model's
    samples at their own grid's resolution, where one cell holds one Gaussian)."""
    points = np.stack([sample_splats(s, n_points, shape_seed(seed, i)).points for i, s in enumerate(splats)])
    occupancy = np.stack([splat_occupancy(s, resolution) for s in splats])
    return EvalSet(source, "splats", points, occupancy)


def splat_occupancy(splats, resolution: int) -> np.ndarray:
    """Bool (R, R, R): the cells holding a Gaussian centre once the centres are fitted into the grid."""
    grid = np.zeros((resolution,) * 3, dtype=bool)
    grid[tuple(cell_index(fit_to_grid(splats, resolution).positions, resolution).T)] = True
    return grid


def from_meshes(meshes: list, source: str, n_points: int, seed: int) -> EvalSet:
    """Meshes: ``n_points`` area-weighted surface points each, and their surface voxels at
    :data:`FRAGMENT_RESOLUTION`³ (fitted into the grid as voxel datasets are)."""
    points = np.stack([sample_surface(m, n_points, "area", shape_seed(seed, i)).points for i, m in enumerate(meshes)])
    occupancy = np.stack([convert(m, "voxels", resolution=FRAGMENT_RESOLUTION).occupancy for m in meshes])
    return EvalSet(source, "mesh", points.astype(np.float32), occupancy)


def read_folder(folder: Path, n_points: int | None, default_points: int, seed: int, emit) -> EvalSet:
    """Every shape file in ``folder`` (sorted by name), all of one kind: point clouds, splats or meshes."""
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in SHAPE_SUFFIXES)
    if not files:
        raise InputError(folder, f"no shape files ({', '.join(SHAPE_SUFFIXES)}) in the folder")
    shapes = [read_shape(f) for f in files]
    kinds = {type(s) for s in shapes}
    if len(kinds) > 1:
        raise InputError(folder, f"mixed kinds of shape ({', '.join(sorted(k.__name__ for k in kinds))}); "
                                 "evaluate one kind at a time")
    kind, source = kinds.pop(), str(folder)
    if kind is GaussianSplats:
        return from_splats(shapes, source, n_points or default_points, seed)
    if kind is Mesh:
        return from_meshes(shapes, source, n_points or default_points, seed)
    if kind is not PointCloud:
        raise InputError(folder, f"cannot evaluate {kind.__name__} files")
    clouds = [s.points for s in shapes]
    counts = {len(c) for c in clouds}
    target = n_points or max(counts)
    if counts != {target}:
        emit(Log(f"{folder}: clouds with {sorted(counts)} points resampled to {target}", "warning"))
        return EvalSet(source, "points", resample(clouds, target, seed))
    return EvalSet(source, "points", np.stack(clouds).astype(np.float32))


def resample(clouds, n_points: int, seed: int) -> np.ndarray:
    """Each cloud (of any size) resampled to ``n_points`` with the datasets' even resampling, stacked.

    One seed for all clouds: copies of a shape stay copies, so a collapsed set is still seen as one.
    """
    return np.stack([cloud[resample_index(len(cloud), n_points, seed)] for cloud in clouds]).astype(np.float32)


def grid_surface_points(grids: np.ndarray, seed: int, n_points: int = DEFAULT_SURFACE_POINTS) -> np.ndarray:
    """(N, n_points, 3) area-weighted points on each voxel grid's marching-cubes surface: what a point
    classifier takes. An empty grid has no surface and is an InputError."""
    try:
        return np.stack([convert(VoxelGrid(np.asarray(grid, dtype=bool)), "points", points=n_points,
                                 seed=shape_seed(seed, i)).points for i, grid in enumerate(grids)]).astype(np.float32)
    except ShapeError as exc:
        raise InputError("SAMPLES", f"cannot classify a voxel grid as points: {exc}") from None


def train_shapes(dataset, representation: str, rows: np.ndarray, n_points: int, resolution: int,
                 seed: int) -> EvalSet:
    """The oracle's shapes: ``rows`` of ``dataset`` (train shapes) in ``representation``, converted by the
    loaders that make training data, so the oracle is what a perfect generator of that representation scores."""
    source = f"oracle: {len(rows)} random train shapes of {dataset.root} as {representation}"
    if representation == "voxels":
        grids = dataset.voxels(resolution=resolution)[rows]
        return EvalSet(source, "voxels", grids, np.asarray(grids, dtype=bool))
    if representation == "splats":
        grids = unpack(dataset.splat_grids(resolution=resolution)[rows], resolution)
        return from_splats([decode(g) for g in grids], source, n_points, seed, resolution)
    return EvalSet(source, "points", dataset.points(n_points=n_points, seed=seed)[rows])
