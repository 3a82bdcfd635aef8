"""``ExportJob``: write sampled shapes as files other tools open, in the samples' own frame.

A sample set is the array a :class:`~core.jobs.sample.SampleJob` returns plus its shapes. NPY holds
shapes as that array (the layout :mod:`core.io.array_layout` reads back); PLY, OBJ and GLB hold one
shape per file, and exporting several writes one file per shape into a folder. Every file keeps the
frame the shape was sampled in (points in the unit sphere, voxels and splats in their grid's
[-1, 1]³), so a PLY and an OBJ of one sample overlay. :data:`EXPORTS` says what each format holds for
each representation: the app shows it beside its export buttons.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.data.meshing import to_mesh
from core.data.sources.files import REPRESENTATION_OF
from core.data.splat_grid import OCCUPANCY, kept_cells
from core.errors import InputError, ShapeError
from core.io import write_array, write_mesh, write_point_cloud, write_splats
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Progress
from core.shapes import GaussianSplats, PointCloud

#: the formats a sample set exports to
EXPORT_FORMATS = ("ply", "npy", "obj", "glb")
#: formats that hold a whole set in one file (the others hold one shape per file)
ARRAY_FORMATS = ("npy",)
#: formats that hold surfaces: points and splats are meshed first (:func:`core.data.meshing.to_mesh`)
MESH_FORMATS = ("obj", "glb")
#: per (representation, format): what the file holds
EXPORTS = {
    ("points", "ply"): "the points as a PLY point cloud",
    ("points", "npy"): "float32 (N, P, 3) points",
    ("points", "obj"): "a surface reconstructed from the points (screened Poisson)",
    ("points", "glb"): "a surface reconstructed from the points (screened Poisson)",
    ("voxels", "ply"): "the grid's marching-cubes surface as a PLY mesh",
    ("voxels", "npy"): "uint8 (N, R, R, R) occupancy grids",
    ("voxels", "obj"): "the grid's marching-cubes surface",
    ("voxels", "glb"): "the grid's marching-cubes surface",
    ("splats", "ply"): "standard 3DGS Gaussians (SH degree 0) that splat viewers open",
    ("splats", "npy"): ("float32 (N, 15, R, R, R) splat grids, the model's own layout: per cell occupancy, "
                        "offset ×3, log-scale ×3, rotation ×4, opacity, colour DC ×3 (core/data/splat_grid.py); "
                        "eval and datasets read it"),
    ("splats", "obj"): "a surface reconstructed from the Gaussians' centres and normals (screened Poisson)",
    ("splats", "glb"): "a surface reconstructed from the Gaussians' centres and normals (screened Poisson)",
}


def sample_representation(shape) -> str:
    """"points", "voxels" or "splats": the kind of a sampled shape, as :data:`EXPORTS` is keyed."""
    kind = REPRESENTATION_OF.get(type(shape))
    if kind not in ("points", "voxels", "splats"):
        raise TypeError(f"not a sampled shape: {type(shape).__name__}")
    return kind


def describe_export(shapes: list, fmt: str, rows: list[int]) -> str:
    """One line saying which of ``shapes`` a press of "Export ``fmt``" writes, into what, holding what."""
    what, total = EXPORTS[(sample_representation(shapes[0]), fmt)], len(shapes)
    if fmt in ARRAY_FORMATS:
        which = f"all {total} shapes" if len(rows) == total > 1 else (
            f"shape #{rows[0]}" if len(rows) == 1 else f"{len(rows)} shapes")
        return f"{fmt.upper()}: {which} in one file, {what} with N = {len(rows)}"
    if len(rows) == 1:
        return f"{fmt.upper()}: shape #{rows[0]} in one file, {what}"
    return f"{fmt.upper()}: {len(rows)} files sample_NNN.{fmt} in a folder, {what}"


class ExportJob(Job):
    """Write shapes ``rows`` of a sample set (``array`` and its ``shapes``) as ``fmt`` to ``path``.

    NPY: one file holding ``array[rows]``. Other formats: ``path`` is the file for one row, the folder
    for several (``sample_NNN.<fmt>`` each, NNN the row). The result is the list of files written.
    """

    name = "export"

    def __init__(self, array: np.ndarray, shapes: list, rows: list[int], path: str | Path, fmt: str) -> None:
        self.array, self.shapes, self.rows = array, shapes, list(rows)
        self.path, self.fmt = Path(path), fmt

    def execute(self, emit: EventHandler, cancel: CancelToken) -> list[Path]:
        """Check the request, then write (meshing a sample takes up to a second, so it reports progress)."""
        if self.fmt not in EXPORT_FORMATS:
            raise InputError(self.path, f"unknown export format {self.fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
        if not self.rows or not all(0 <= row < len(self.shapes) for row in self.rows):
            raise InputError(self.path, f"no such shapes {self.rows} in a set of {len(self.shapes)}")
        if self.fmt in ARRAY_FORMATS:
            write_array(self.array[self.rows], self.path)
            return [self.path]
        if len(self.rows) == 1:
            targets = [self.path]
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            targets = [self.path / f"sample_{row:03d}.{self.fmt}" for row in self.rows]
        for done, (row, target) in enumerate(zip(self.rows, targets)):
            cancel.raise_if_cancelled()
            emit(Progress(done, len(targets), f"{target.name}"))
            try:
                write_sample(self.shapes[row], self.array[row], target)
            except ShapeError as exc:
                raise InputError(target, f"sample #{row} cannot be written: {exc.problem}") from None
        return targets


def write_sample(shape, array: np.ndarray, path: Path) -> None:
    """One sample's file by ``path``'s suffix. PLY holds each kind as it is (points, 3DGS splats; voxels as
    their marching-cubes mesh); OBJ and GLB hold surfaces (:func:`core.data.meshing.to_mesh`: marching cubes
    for voxels, surface reconstruction for points and splats). An empty sample is a ShapeError (a splat ``shape`` of a grid without kept cells holds only a preview's stand-in)."""
    if isinstance(shape, GaussianSplats) and not kept_cells(array[OCCUPANCY]).size:
        raise ShapeError("splat grid has no occupied cell: nothing to decode")
    if path.suffix[1:].lower() in MESH_FORMATS or not isinstance(shape, (PointCloud, GaussianSplats)):
        write_mesh(to_mesh(shape), path)
    elif isinstance(shape, PointCloud):
        write_point_cloud(shape, path)
    else:
        write_splats(shape, path)
