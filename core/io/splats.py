"""3D Gaussian-splat PLY in the Inria layout (Kerbl et al. 2023, ``GaussianModel.save_ply``).

One ``vertex`` element, float32 properties ``x y z [nx ny nz] f_dc_0..2 [f_rest_0..3K-1] opacity
scale_0..2 rot_0..3``: opacity as a logit, scales as logs, unnormalised (w, x, y, z) quaternions,
``f_rest`` channel-major. Reading records the property names and dtypes in ``GaussianSplats.layout``
and keeps unknown properties in ``extra``, so writing what was read reproduces every property
bit for bit (for the float32 properties the layout uses; a float64 standard property would pass
through the float32 container).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import plyfile

from core.errors import InputError
from core.io._checks import build
from core.io.ply import columns, read_ply, read_ply_header, structured, vertex_table, write_ply
from core.shapes import GaussianSplats

POSITION = ("x", "y", "z")
NORMALS = ("nx", "ny", "nz")
SH_DC = ("f_dc_0", "f_dc_1", "f_dc_2")
OPACITY = "opacity"
SCALES = ("scale_0", "scale_1", "scale_2")
ROTATIONS = ("rot_0", "rot_1", "rot_2", "rot_3")
REQUIRED = POSITION + SH_DC + (OPACITY,) + SCALES + ROTATIONS
#: properties only 3DGS files have, by group: a vertex element with members of two groups (or any
#: ``f_rest_*``) is a splat file, so a missing required property is named instead of the file being
#: read as plain points
SPLAT_GROUPS = (SH_DC, (OPACITY,), SCALES, ROTATIONS)
_REST = re.compile(r"f_rest_(\d+)$")
#: f_rest_* counts of SH degrees 1-4: 3 colour channels x ((d + 1)^2 - 1) coefficients beyond the DC term
SH_REST_COUNTS = tuple(3 * ((degree + 1) ** 2 - 1) for degree in range(1, 5))


def looks_like_splats(names: Iterable[str]) -> bool:
    """True when property ``names`` hold members of two 3DGS groups, or any ``f_rest_*``."""
    names = set(names)
    groups = sum(any(name in names for name in group) for group in SPLAT_GROUPS)
    return groups >= 2 or any(_REST.match(name) for name in names)


def is_splat_ply(path: str | os.PathLike[str]) -> bool:
    """True when a PLY's vertex element looks like 3DGS (reads the header only); :func:`read_splats`
    then names any required property it lacks."""
    vertex = read_ply_header(path).element("vertex")
    return vertex is not None and looks_like_splats(vertex.names)


def _rest_names(path: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """The ``f_rest_k`` names in k order: f_rest_0..f_rest_{K-1}, none missing, K one of :data:`SH_REST_COUNTS`."""
    indices = sorted(int(m.group(1)) for m in map(_REST.match, names) if m)
    if indices != list(range(len(indices))):
        raise InputError(path, f"3DGS PLY has f_rest_* properties {indices[:3]}..{indices[-3:]} "
                               "that are not f_rest_0..f_rest_{K-1}")
    if indices and len(indices) not in SH_REST_COUNTS:
        raise InputError(path, f"3DGS PLY has {len(indices)} f_rest_* properties; spherical harmonics of degree d "
                               f"have 3*((d+1)^2-1): {', '.join(map(str, SH_REST_COUNTS))} for degrees 1-4")
    return tuple(f"f_rest_{k}" for k in indices)


def read_splats(path: str | os.PathLike[str]) -> GaussianSplats:
    """Read a 3DGS PLY; missing properties, NaN/Inf or zero quaternions raise InputError."""
    header, data = read_ply(path)
    path = Path(path)
    table = vertex_table(path, header, data)
    names = table.dtype.names
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputError(path, f"3D Gaussian-splat PLY lacks {', '.join(missing)} (3DGS needs "
                               "x y z f_dc_0..2 opacity scale_0..2 rot_0..3)")
    lists = [name for name in names if table.dtype[name].shape != () or table.dtype[name] == object]
    if lists:
        raise InputError(path, f"3DGS PLY has list properties {', '.join(lists)} on its vertices")
    rest = _rest_names(path, names)
    normals = NORMALS if set(NORMALS).issubset(names) else ()
    known = set(REQUIRED) | set(rest) | set(normals)

    return build(path, GaussianSplats,
                 positions=columns(table, POSITION), sh_dc=columns(table, SH_DC),
                 opacity_logit=table[OPACITY].astype(np.float32), log_scales=columns(table, SCALES),
                 rotations=columns(table, ROTATIONS), sh_rest=columns(table, rest) if rest else None,
                 normals=columns(table, normals) if normals else None,
                 extra={name: table[name].copy() for name in names if name not in known},
                 layout=tuple((name, table.dtype[name].str[1:]) for name in names))


def splat_properties(splats: GaussianSplats) -> dict[str, np.ndarray]:
    """Every per-splat property as name -> 1-D array, in the standard 3DGS order, then ``extra``."""
    def named(names: Iterable[str], values: np.ndarray) -> dict[str, np.ndarray]:
        return {name: values[:, k] for k, name in enumerate(names)}

    properties = named(POSITION, splats.positions)
    if splats.normals is not None:
        properties |= named(NORMALS, splats.normals)
    properties |= named(SH_DC, splats.sh_dc)
    if splats.sh_rest is not None:
        properties |= named([f"f_rest_{k}" for k in range(splats.sh_rest.shape[1])], splats.sh_rest)
    properties[OPACITY] = splats.opacity_logit
    properties |= named(SCALES, splats.log_scales) | named(ROTATIONS, splats.rotations)
    return properties | {name: np.asarray(values) for name, values in splats.extra.items()}


def write_splats(splats: GaussianSplats, path: str | os.PathLike[str]) -> None:
    """Write binary little-endian 3DGS PLY that 3DGS viewers read.

    Uses ``splats.layout`` (order and dtypes as read) when it names exactly the properties the
    splats hold, else the standard order in float32; ``extra`` properties keep their dtype.
    """
    properties = splat_properties(splats)
    layout = splats.layout
    if not layout or sorted(name for name, _ in layout) != sorted(properties):
        layout = tuple((name, values.dtype.str[1:]) for name, values in properties.items())
    table = structured([(name, properties[name].astype(dtype, copy=False)) for name, dtype in layout])
    write_ply(path, [plyfile.PlyElement.describe(table, "vertex")])
