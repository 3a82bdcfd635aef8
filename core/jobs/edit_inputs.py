"""Shapes handed to the editing jobs: read, turned into the model's input, and the frame to map results back.

A model sees shapes normalised as it was trained (points in the unit sphere, grids fitted into [-1, 1]³).
Every input here carries the similarity transform ``frame`` from its own coordinates into the model's,
so outputs go back into the input's coordinates: a completion lines up with its partial input as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import InputError, ShapeError
from core.shapes import GaussianSplats, Mesh, Normalization, PointCloud, Shape, VoxelGrid


@dataclass(frozen=True)
class Framed:
    """One shape as the autoencoder's input (batch of one) and the transform input frame → model frame."""

    tensor: torch.Tensor
    frame: Normalization
    points: np.ndarray  # the shape's surface points in the input frame (what completion must keep)


def read_input(path: str | Path) -> Shape:
    """A shape file in any format the project reads (a point-cloud .npy (P, 3) included)."""
    from core.io import read_shape

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such shape file")
    shape = read_shape(path)
    if isinstance(shape, Mesh) and not len(shape.faces):
        raise InputError(path, "the mesh has no faces")
    return shape


def inverse(frame: Normalization) -> Normalization:
    """The transform that undoes ``frame`` (model frame → input frame) as a Normalization."""
    return Normalization(tuple(-c * frame.scale for c in frame.center), 1.0 / frame.scale)


def surface_points(shape: Shape) -> np.ndarray:
    """Points on the shape in its own frame: cloud points, splat centres, voxel centres, used mesh vertices."""
    if isinstance(shape, PointCloud):
        return shape.points.astype(np.float64)
    if isinstance(shape, GaussianSplats):
        return shape.positions.astype(np.float64)
    if isinstance(shape, VoxelGrid):
        return shape.centers().astype(np.float64)
    return shape.vertices[np.unique(shape.faces)]


def framed_input(shape: Shape, run, source: str | Path, seed: int = 0) -> Framed:
    """``shape`` converted to ``run``'s representation and normalisation, with its frame."""
    name = run.representation.name
    try:
        if name == "points":
            return _framed_points(shape, int(run.config.data["n_points"]), seed)
        if name == "voxels":
            return _framed_voxels(shape, run.representation.resolution)
        return _framed_splats(shape, run.representation.resolution, seed)
    except ShapeError as error:
        raise InputError(source, f"cannot use it as {name}: {error.problem}") from None


def _framed_points(shape: Shape, n_points: int, seed: int) -> Framed:
    """Points as training saw them: ``n_points`` surface points, bounding box centred, in the unit sphere."""
    from core.data.conversions import convert, splats_to_points
    from core.data.representations import resample_index

    if isinstance(shape, GaussianSplats):
        shape = splats_to_points(shape)
    if isinstance(shape, PointCloud):
        points = shape.points[resample_index(len(shape), n_points, seed)].astype(np.float64)
    else:
        points = convert(shape, "points", points=n_points, seed=seed).points.astype(np.float64)
    frame = Normalization.unit_sphere(points)
    return Framed(torch.from_numpy(frame.apply(points).astype(np.float32))[None], frame, points)


def _framed_voxels(shape: Shape, resolution: int) -> Framed:
    """An occupancy grid as training saw it: a grid at the run's resolution keeps its own placement,
    anything else has its bounding box centred and fitted into [-1, 1]³ (:func:`core.data.grid_frame.grid_fit`)."""
    from core.data.conversions import splats_to_points, voxelize
    from core.data.grid_frame import grid_fit

    if isinstance(shape, VoxelGrid) and shape.resolution == resolution:
        size = shape.voxel_size * resolution
        frame = Normalization(tuple(o + size / 2 for o in shape.origin), 2.0 / size)
        grid = shape
    else:
        if isinstance(shape, VoxelGrid):
            shape = _grid_surface(shape)
        if isinstance(shape, GaussianSplats):
            shape = splats_to_points(shape)
        frame = grid_fit(surface_points(shape), resolution)
        moved = (Mesh(frame.apply(shape.vertices), shape.faces) if isinstance(shape, Mesh)
                 else PointCloud(frame.apply(shape.points.astype(np.float64))))
        grid = voxelize(moved, resolution)
    tensor = torch.from_numpy(grid.occupancy.astype(np.float32))[None, None]
    return Framed(tensor, frame, inverse(frame).apply(VoxelGrid(grid.occupancy).centers().astype(np.float64)))


def _grid_surface(grid: VoxelGrid) -> Mesh:
    """A grid at another resolution, as its marching-cubes surface (re-voxelised as convert does)."""
    from core.data.meshing import to_mesh

    return to_mesh(grid)


def _framed_splats(shape: Shape, resolution: int, seed: int) -> Framed:
    """A splat grid as training saw it: splats in the unit sphere (made from the shape as the datasets
    make them), their centres fitted into the grid. The unit-sphere step is fitted here to the shape's
    own points; the dataset's conversion refits it to what it made, which moves it by at most a cell."""
    from core.data import splat_grid
    from core.data.grid_frame import grid_fit
    from core.data.representations import shape_splats

    points = surface_points(shape)
    unit = Normalization.unit_sphere(points)
    moved = _moved(shape, unit)
    splats = shape_splats(moved, seed=seed)
    grid_frame = grid_fit(splats.positions.astype(np.float64), resolution)
    frame = Normalization(tuple(np.asarray(unit.center) + np.asarray(grid_frame.center) / unit.scale),
                          unit.scale * grid_frame.scale)
    grid = splat_grid.encode(splats.transformed(grid_frame), resolution)
    return Framed(torch.from_numpy(grid.astype(np.float32))[None], frame, points)


def _moved(shape: Shape, frame: Normalization) -> Shape:
    """``shape`` with ``frame`` applied to its coordinates."""
    if isinstance(shape, GaussianSplats):
        return shape.transformed(frame)
    if isinstance(shape, Mesh):
        return Mesh(frame.apply(shape.vertices), shape.faces, shape.vertex_colors)
    if isinstance(shape, VoxelGrid):
        return VoxelGrid(shape.occupancy, tuple(frame.apply(np.asarray([shape.origin]))[0]),
                         shape.voxel_size * frame.scale)
    return PointCloud(frame.apply(shape.points.astype(np.float64)), shape.normals, shape.colors)


def in_input_frame(shape: Shape, frame: Normalization) -> Shape:
    """A decoded shape (model frame) moved into the input frame that ``frame`` maps from."""
    return _moved(shape, inverse(frame))
