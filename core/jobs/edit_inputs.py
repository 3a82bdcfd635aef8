"""Shapes handed to the editing jobs: read, turned into the model's input, and the frame to map results back.

A model sees shapes normalised as it was trained (points in the unit sphere, grids fitted into [-1, 1]³).
Every input here carries the similarity transform ``frame`` from its own coordinates into the model's,
so outputs go back into the input's coordinates: a completion lines up with its partial input as it is.
Everything here is numpy (no torch), so the app's edit page reads and previews inputs with it on the GUI
thread; :mod:`core.jobs.edit` turns :attr:`Framed.array` into a tensor.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data import splat_grid
from core.data.conversions import convert, splats_to_points, voxelize
from core.data.grid_frame import grid_fit
from core.data.meshing import to_mesh
from core.data.representations import resample_index, shape_splats
from core.errors import InputError, ShapeError
from core.io import read_shape
from core.shapes import GaussianSplats, Mesh, Normalization, PointCloud, Shape, VoxelGrid


@dataclass(frozen=True)
class Framed:
    """One shape as the autoencoder's input (batch of one) and the transform input frame → model frame."""

    array: np.ndarray  # float32, a batch of one: (1, P, 3) points, (1, C, R, R, R) grids
    frame: Normalization
    points: np.ndarray  # the shape's surface points in the input frame (what completion must keep)


#: an input: a shape file, or a shape already in memory (the app's dataset browser and sample gallery)
Source = str | Path | Shape
AXES = "xyz"


@dataclass(frozen=True)
class Cut:
    """The plane a partial shape was cut with: the part where coordinate ``axis`` lies above ``offset`` was
    removed (``removed_above=False``: the part below). Written ``x>0`` / ``z<-0.1`` (:meth:`parse`)."""

    axis: int
    offset: float
    removed_above: bool = True

    @classmethod
    def parse(cls, text: str) -> "Cut":
        """``AXIS>OFFSET`` or ``AXIS<OFFSET``: the removed side, e.g. ``x>0``."""
        text = text.replace(" ", "")
        if len(text) < 3 or text[0] not in AXES or text[1] not in "<>":
            raise InputError("--cut", f"expected AXIS>OFFSET or AXIS<OFFSET such as x>0, got {text!r}")
        try:
            offset = float(text[2:])
        except ValueError:
            raise InputError("--cut", f"the offset of {text!r} is not a number") from None
        return cls(AXES.index(text[0]), offset, text[1] == ">")

    def __str__(self) -> str:
        return f"{AXES[self.axis]}{'>' if self.removed_above else '<'}{self.offset:g}"

    def kept(self, coords, margin: float = 0.0):
        """Whether each point of ``coords`` (numpy, or torch: the completion loss) lies on the kept side, at least
        ``margin`` from the plane."""
        along = coords[..., self.axis] - self.offset
        return along <= -margin if self.removed_above else along >= margin

    def mirrored(self, points: np.ndarray) -> np.ndarray:
        """``points`` reflected in the plane."""
        reflected = points.copy()
        reflected[:, self.axis] = 2 * self.offset - reflected[:, self.axis]
        return reflected

    def in_frame(self, frame: Normalization) -> "Cut":
        """The same plane after ``frame`` (a similarity with positive scale) is applied."""
        return Cut(self.axis, (self.offset - frame.center[self.axis]) * frame.scale, self.removed_above)

    def kept_cells(self, resolution: int, margin_cells: float = 0.0) -> np.ndarray:
        """(R, R, R) bool: the cells of an R³ grid over [-1, 1]³ whose extent, grown by ``margin_cells``
        cells, lies on the kept side."""
        size = 2.0 / resolution
        centres = (np.arange(resolution, dtype=np.float64) + 0.5) * size - 1.0
        column = self.kept(np.repeat(centres[:, None], 3, axis=1), (0.5 + margin_cells) * size)
        shape = [1, 1, 1]
        shape[self.axis] = resolution
        return np.broadcast_to(column.reshape(shape), (resolution,) * 3).copy()


def mirrored_whole(points: np.ndarray, cut: Cut) -> np.ndarray:
    """The kept points and their mirror image in the cut: the whole shape's extent if the cut went through
    its middle, the frame a whole shape was normalised in (the issue's "half removed after centring")."""
    return np.concatenate([points, cut.mirrored(points)])


def read_input(source: Source) -> Shape:
    """A shape file in any format the project reads (a point-cloud .npy (P, 3) included), or a shape as is."""
    if not isinstance(source, (str, Path)):
        return source
    path = Path(source)
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


def describe(source: Source) -> str:
    """How samples.json names an input: its path, or the kind of shape handed over in memory."""
    return str(source) if isinstance(source, (str, Path)) else f"{type(source).__name__} (in memory)"


def framed_input(shape: Shape, run, source: Source, seed: int = 0, reference: np.ndarray | None = None) -> Framed:
    """``shape`` converted to ``run``'s representation and normalisation, with its frame; the frame is fitted
    to ``reference`` points (input frame) when given, rather than to the shape itself (completion fits it to
    the whole shape the partial one belongs to)."""
    name = run.representation.name
    try:
        if name == "points":
            return _framed_points(shape, int(run.config.data["n_points"]), seed, reference)
        if name == "voxels":
            return _framed_voxels(shape, run.representation.resolution, reference)
        return _framed_splats(shape, run.representation.resolution, seed, reference)
    except ShapeError as error:
        raise InputError(describe(source), f"cannot use it as {name}: {error.problem}") from None


def _framed_points(shape: Shape, n_points: int, seed: int, reference: np.ndarray | None) -> Framed:
    """Points as training saw them: ``n_points`` surface points, bounding box centred, in the unit sphere."""
    if isinstance(shape, GaussianSplats):
        shape = splats_to_points(shape)
    if isinstance(shape, PointCloud):
        points = shape.points[resample_index(len(shape), n_points, seed)].astype(np.float64)
    else:
        points = convert(shape, "points", points=n_points, seed=seed).points.astype(np.float64)
    frame = Normalization.unit_sphere(points if reference is None else reference)
    return Framed(frame.apply(points).astype(np.float32)[None], frame, points)


def _framed_voxels(shape: Shape, resolution: int, reference: np.ndarray | None) -> Framed:
    """An occupancy grid as training saw it: a grid at the run's resolution keeps its own placement,
    anything else has its bounding box centred and fitted into [-1, 1]³ (:func:`core.data.grid_frame.grid_fit`)."""
    if isinstance(shape, VoxelGrid) and shape.resolution == resolution and reference is None:
        size = shape.voxel_size * resolution
        frame = Normalization(tuple(o + size / 2 for o in shape.origin), 2.0 / size)
        grid = shape
    else:
        if isinstance(shape, VoxelGrid):
            shape = _grid_surface(shape)
        if isinstance(shape, GaussianSplats):
            shape = splats_to_points(shape)
        frame = grid_fit(surface_points(shape) if reference is None else reference, resolution)
        moved = (Mesh(frame.apply(shape.vertices), shape.faces) if isinstance(shape, Mesh)
                 else PointCloud(frame.apply(shape.points.astype(np.float64))))
        grid = voxelize(moved, resolution)
    points = inverse(frame).apply(VoxelGrid(grid.occupancy).centers().astype(np.float64))
    return Framed(grid.occupancy.astype(np.float32)[None, None], frame, points)


def _grid_surface(grid: VoxelGrid) -> Mesh:
    """A grid at another resolution, as its marching-cubes surface (re-voxelised as convert does)."""
    return to_mesh(grid)


def _framed_splats(shape: Shape, resolution: int, seed: int, reference: np.ndarray | None) -> Framed:
    """A splat grid as training saw it: splats in the unit sphere (made from the shape as the datasets
    make them), their centres fitted into the grid. The unit-sphere step is fitted here to the shape's
    own points (or ``reference``); the dataset's conversion refits it to what it made, which moves it by at
    most a cell."""
    points = surface_points(shape)
    unit = Normalization.unit_sphere(points if reference is None else reference)
    moved = _moved(shape, unit)
    # shape_splats puts what it makes into the moved shape's own unit sphere: undone, so a partial shape keeps
    # its place in the whole shape's frame (a whole shape's own sphere is the identity here)
    own = Normalization.unit_sphere(surface_points(moved))
    splats = shape_splats(moved, seed=seed).transformed(inverse(own))
    fitted = splats.positions.astype(np.float64) if reference is None else unit.apply(reference)
    grid_frame = grid_fit(fitted, resolution)
    frame = Normalization(tuple(np.asarray(unit.center) + np.asarray(grid_frame.center) / unit.scale),
                          unit.scale * grid_frame.scale)
    grid = splat_grid.encode(splats.transformed(grid_frame), resolution)
    return Framed(grid.astype(np.float32)[None], frame, points)


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
