"""Triangle-mesh primitives the built-in procedural dataset assembles its objects from.

Everything is y-up (the convention of ShapeNet, Open3D and glTF) and in metres. Round parts are
surfaces of revolution (:func:`lathe`) so one function makes cylinders, cones, lamp shades, domes
and the double wall of a mug; bent parts (mug handles, stool foot rings) are swept circles
(:func:`torus`). Meshes need not be watertight: they are sampled on the surface, voxelised and
rendered, never used for volume computations.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.shapes import Mesh

#: segments around round parts; 24 keeps a 1 m cylinder within 0.9 % of its true radius on average
ROUND_SEGMENTS = 24

# The 12 triangles of a unit cube [0, 1]^3, outward-facing (counter-clockwise seen from outside).
_CUBE_CORNERS = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=np.float64)
_CUBE_FACES = np.array([
    [0, 1, 3], [0, 3, 2],  # x = 0
    [4, 6, 7], [4, 7, 5],  # x = 1
    [0, 4, 5], [0, 5, 1],  # y = 0
    [2, 3, 7], [2, 7, 6],  # y = 1
    [0, 2, 6], [0, 6, 4],  # z = 0
    [1, 5, 7], [1, 7, 3],  # z = 1
], dtype=np.int64)


def merge(parts: Sequence[Mesh]) -> Mesh:
    """One mesh holding every part (faces re-indexed), so an object is a single shape."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    return Mesh(np.concatenate([p.vertices for p in parts]),
                np.concatenate([p.faces + off for p, off in zip(parts, offsets)]))


def box(center: Sequence[float], size: Sequence[float]) -> Mesh:
    """An axis-aligned box: seats, table tops, boards, mattresses, square legs."""
    size = np.asarray(size, dtype=np.float64)
    return Mesh(np.asarray(center) - size / 2 + _CUBE_CORNERS * size, _CUBE_FACES.copy())


def lathe(radii: Sequence[float], heights: Sequence[float], segments: int = ROUND_SEGMENTS,
          center: Sequence[float] = (0.0, 0.0, 0.0)) -> Mesh:
    """Revolve the profile polyline (radius, height) about the vertical axis through ``center``.

    A profile that starts or ends at radius 0 closes that end (the ring collapses to a point).
    """
    radii = np.asarray(radii, dtype=np.float64)
    heights = np.asarray(heights, dtype=np.float64)
    angles = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    ring_x, ring_z = np.cos(angles), np.sin(angles)
    vertices = np.stack([np.outer(radii, ring_x), np.repeat(heights[:, None], segments, 1),
                         np.outer(radii, ring_z)], axis=-1).reshape(-1, 3) + np.asarray(center)
    row = np.arange(len(radii) - 1)[:, None] * segments
    col = np.arange(segments)[None, :]
    a, b = row + col, row + (col + 1) % segments
    c, d = a + segments, b + segments
    faces = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)], axis=1).reshape(-1, 3)
    return Mesh(vertices, faces)


def cylinder(center_bottom: Sequence[float], radius: float, height: float, radius_top: float | None = None,
             segments: int = ROUND_SEGMENTS) -> Mesh:
    """A closed vertical cylinder (or frustum/cone when ``radius_top`` differs) standing on ``center_bottom``."""
    top = radius if radius_top is None else radius_top
    return lathe([0.0, radius, top, 0.0], [0.0, 0.0, height, height], segments, center_bottom)


def rod(start: Sequence[float], end: Sequence[float], radius: float, segments: int = 12) -> Mesh:
    """A closed cylinder from ``start`` to ``end``: splayed legs, lamp arms, stretchers."""
    start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    axis = end - start
    length = float(np.linalg.norm(axis))
    straight = cylinder((0.0, 0.0, 0.0), radius, length, segments=segments)
    return Mesh(straight.vertices @ _rotation_from_y(axis / length).T + start, straight.faces)


def torus(center: Sequence[float], major: float, minor: float, arc: float = 2 * np.pi,
          start_angle: float = 0.0, plane: str = "xz", segments: int = ROUND_SEGMENTS,
          tube_segments: int = 10) -> Mesh:
    """A tube of radius ``minor`` swept along a circular arc of radius ``major`` (handles, foot rings).

    ``plane`` is the plane of the arc: "xz" (horizontal ring) or "xy" (vertical, e.g. a mug handle).
    A partial arc is left open at its ends; the handle's ends are buried in the mug wall.
    """
    closed = np.isclose(arc, 2 * np.pi)
    steps = segments if closed else segments + 1
    u = start_angle + np.linspace(0.0, arc, steps, endpoint=not closed)
    v = np.linspace(0.0, 2 * np.pi, tube_segments, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    ring = major + minor * np.cos(vv)
    across, out_of_plane = ring * np.cos(uu), minor * np.sin(vv)
    along = ring * np.sin(uu)
    if plane == "xz":
        local = np.stack([across, out_of_plane, along], -1)
    elif plane == "xy":
        local = np.stack([across, along, out_of_plane], -1)
    else:
        raise ValueError(f"plane must be 'xz' or 'xy', got {plane!r}")
    vertices = local.reshape(-1, 3) + np.asarray(center)
    i = np.arange(steps if closed else steps - 1)[:, None]
    j = np.arange(tube_segments)[None, :]
    a = i * tube_segments + j
    b = ((i + 1) % steps) * tube_segments + j
    c = i * tube_segments + (j + 1) % tube_segments
    d = ((i + 1) % steps) * tube_segments + (j + 1) % tube_segments
    faces = np.concatenate([np.stack([a, b, c], -1), np.stack([c, b, d], -1)], axis=1).reshape(-1, 3)
    return Mesh(vertices, faces)


def _rotation_from_y(direction: np.ndarray) -> np.ndarray:
    """The rotation matrix taking +y onto the unit vector ``direction`` (Rodrigues' formula)."""
    y = np.array([0.0, 1.0, 0.0])
    axis = np.cross(y, direction)
    sin, cos = float(np.linalg.norm(axis)), float(direction @ y)
    if sin < 1e-12:
        return np.eye(3) if cos > 0 else np.diag([1.0, -1.0, -1.0])
    k = axis / sin
    skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + sin * skew + (1 - cos) * skew @ skew
