"""Pick the reader or writer for a path by its suffix (and, for PLY, by its header)."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io._checks import build
from core.io.array_layout import SPLAT_GRID_CHANNELS, read_shape_array
from core.io.arrays import array_suffix, write_array
from core.io.gltf import read_gltf, write_gltf
from core.io.obj import read_obj, write_obj
from core.io.off import read_off, write_off
from core.io.pcd import read_pcd, write_pcd
from core.io.ply import read_ply_header, read_ply_mesh, read_ply_points, write_ply_mesh, write_ply_points
from core.io.splats import is_splat_ply, read_splats, write_splats
from core.io.stl import read_stl, write_stl
from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

ARRAY_SUFFIXES = (".npy", ".npz", ".npy.gz")
MESH_READERS = {".off": read_off, ".obj": read_obj, ".stl": read_stl, ".ply": read_ply_mesh, ".glb": read_gltf,
                ".gltf": read_gltf}
MESH_WRITERS = {".obj": write_obj, ".stl": write_stl, ".ply": write_ply_mesh, ".off": write_off, ".glb": write_gltf,
                ".gltf": write_gltf}
POINT_CLOUD_SUFFIXES = (".ply", ".pcd") + ARRAY_SUFFIXES


def _unsupported(path: str | os.PathLike[str], what: str, suffixes: Iterable[str]) -> InputError:
    """The one error for a suffix no reader or writer handles."""
    suffix = array_suffix(path) or "no suffix"
    return InputError(path, f"unsupported file type {suffix!r} for {what} (use {', '.join(suffixes)})")


def _array_shape(path: str | os.PathLike[str], representation: str | None = None) -> PointCloud | VoxelGrid:
    """The one shape of an array file (:mod:`core.io.array_layout`), of ``representation`` if given."""
    shapes = read_shape_array(path)
    if representation is not None and shapes.representation != representation:
        raise InputError(path, f"array holds {shapes.representation}, not {representation}")
    if shapes.representation == "splats":
        raise InputError(path, f"array holds splat grids (N, {SPLAT_GRID_CHANNELS}, R, R, R); open it as a dataset "
                               "(datasets inspect, render, eval)")
    if len(shapes) != 1:
        raise InputError(path, f"array holds {len(shapes)} {shapes.representation} shapes; open it as a dataset "
                               "(datasets inspect, convert, train --data, eval --ref)")
    return build(Path(path), shapes.shape, 0)


def read_point_cloud(path: str | os.PathLike[str]) -> PointCloud:
    """Read points (with normals and colours where the format has them) from PLY, PCD or NumPy."""
    suffix = array_suffix(path)
    if suffix == ".ply":
        return read_ply_points(path)
    if suffix == ".pcd":
        return read_pcd(path)
    if suffix in ARRAY_SUFFIXES:
        return _array_shape(path, "points")
    raise _unsupported(path, "a point cloud", POINT_CLOUD_SUFFIXES)


def write_point_cloud(cloud: PointCloud, path: str | os.PathLike[str],
                      encoding: str = "binary_little_endian") -> None:
    """Write PLY (``encoding``: binary_little_endian, ascii, binary_big_endian), PCD or points-only NumPy."""
    suffix = array_suffix(path)
    if suffix == ".ply":
        write_ply_points(cloud, path, encoding)
    elif suffix == ".pcd":
        write_pcd(cloud, path, encoding)
    elif suffix in ARRAY_SUFFIXES:
        write_array(cloud.points, path)
    else:
        raise _unsupported(path, "a point cloud", POINT_CLOUD_SUFFIXES)


def read_mesh(path: str | os.PathLike[str]) -> Mesh:
    """Read a triangle mesh from OFF, OBJ, STL (ASCII or binary), PLY with faces or glTF (.glb, .gltf)."""
    reader = MESH_READERS.get(array_suffix(path))
    if reader is None:
        raise _unsupported(path, "a mesh", MESH_READERS)
    return reader(path)


def write_mesh(mesh: Mesh, path: str | os.PathLike[str]) -> None:
    """Write OBJ, binary STL, binary PLY, OFF or glTF (.glb, .gltf), chosen by suffix."""
    writer = MESH_WRITERS.get(array_suffix(path))
    if writer is None:
        raise _unsupported(path, "a mesh", MESH_WRITERS)
    writer(mesh, path)


def read_shape(path: str | os.PathLike[str]) -> Shape:
    """Read whatever shape a file holds.

    PLY: 3DGS properties -> GaussianSplats, a face element -> Mesh, else PointCloud. OFF/OBJ/STL/glTF ->
    Mesh, PCD -> PointCloud, NumPy arrays holding one shape (:mod:`core.io.array_layout`) -> PointCloud
    or VoxelGrid; arrays of several shapes are datasets (:func:`core.data.open_dataset`).
    """
    suffix = array_suffix(path)
    if suffix == ".ply":
        if is_splat_ply(path):
            return read_splats(path)
        face = read_ply_header(path).element("face")
        return read_ply_mesh(path) if face is not None and face.count > 0 else read_ply_points(path)
    if suffix in MESH_READERS:
        return MESH_READERS[suffix](path)
    if suffix == ".pcd":
        return read_pcd(path)
    if suffix in ARRAY_SUFFIXES:
        return _array_shape(path)
    raise _unsupported(path, "a shape", (".pcd", *MESH_READERS) + ARRAY_SUFFIXES)


def write_shape(shape: Shape, path: str | os.PathLike[str]) -> None:
    """Write any shape by suffix: splats to PLY, meshes to OBJ/STL/PLY/OFF, points to PLY/PCD/NumPy,
    voxels to NumPy as uint8 (R, R, R)."""
    if isinstance(shape, GaussianSplats):
        if array_suffix(path) != ".ply":
            raise _unsupported(path, "Gaussian splats", (".ply",))
        write_splats(shape, path)
    elif isinstance(shape, Mesh):
        write_mesh(shape, path)
    elif isinstance(shape, PointCloud):
        write_point_cloud(shape, path)
    elif isinstance(shape, VoxelGrid):
        if array_suffix(path) not in ARRAY_SUFFIXES:
            raise _unsupported(path, "a voxel grid", ARRAY_SUFFIXES)
        write_array(shape.occupancy.astype(np.uint8), path)
    else:
        raise TypeError(f"write_shape takes a PointCloud, Mesh, VoxelGrid or GaussianSplats, got {type(shape).__name__}")
