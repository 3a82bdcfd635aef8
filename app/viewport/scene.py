"""Shape -> Open3D geometry for the viewport, with every gotcha of notes/rendering.md in one place.

Points, voxels and meshes go to Open3D's legacy OpenGL ``Visualizer`` with lighting off and shading baked into
vertex colours (≈ 10–50 ms a frame on llvmpipe, and none of Filament's stalls); only Gaussian splats need
Filament (its ``gaussianSplat`` shader), so only they carry a Filament material. Voxels become an exposed-face
cube mesh, never Open3D's ``VoxelGrid``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d

from core.render.scene import shape_material, splat_tensor_cloud
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

COLOR_MODES = ("height", "normal", "uniform")

#: viridis at 5 stops (matplotlib's _cm_listed.py, entries 0, 64, 128, 192, 255): perceptually uniform height map
VIRIDIS_STOPS = np.array([[0.267, 0.005, 0.329], [0.230, 0.322, 0.546], [0.128, 0.567, 0.551],
                          [0.369, 0.789, 0.383], [0.993, 0.906, 0.144]])
#: flat colour for meshes and uniform points: a neutral clay that shows shading well on dark backgrounds
CLAY = np.array([0.78, 0.74, 0.68])
#: baked lighting: ambient + diffuse from a key light above-front and a weaker fill, both two-sided
AMBIENT, KEY, FILL = 0.35, 0.55, 0.2
KEY_DIRECTION = np.array([0.45, 0.35, 0.82]) / np.linalg.norm([0.45, 0.35, 0.82])
FILL_DIRECTION = np.array([-0.7, 0.6, -0.2]) / np.linalg.norm([-0.7, 0.6, -0.2])
#: neighbours used to estimate normals when a cloud has none (Open3D's KNN normal estimation)
NORMAL_NEIGHBOURS = 16


@dataclass(frozen=True)
class Style:
    """How shapes are drawn: colouring of points, point size in pixels, the world up axis (1 = Y, 2 = Z)."""

    color_by: str = "height"
    point_size: float = 4.0
    up: int = 2


@dataclass
class SceneGeometry:
    """One drawable: the Open3D geometry, its axis-aligned bounds and, for splats only, a Filament material."""

    geometry: object
    lower: np.ndarray
    upper: np.ndarray
    material: object | None = None

    @property
    def needs_filament(self) -> bool:
        """Splats: drawn by Filament's ``gaussianSplat`` shader (the legacy renderer has none)."""
        return self.material is not None


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values to viridis colours after scaling them to [0, 1] (constant input -> the middle colour)."""
    values = np.asarray(values, dtype=np.float64)
    span = np.ptp(values) if values.size else 0.0
    t = (values - values.min()) / span if span > 0 else np.full(values.shape, 0.5)
    x = t * (len(VIRIDIS_STOPS) - 1)
    i = np.clip(np.floor(x).astype(int), 0, len(VIRIDIS_STOPS) - 2)
    frac = (x - i)[:, None]
    return VIRIDIS_STOPS[i] * (1 - frac) + VIRIDIS_STOPS[i + 1] * frac


def baked_shading(normals: np.ndarray) -> np.ndarray:
    """Two-sided Lambert intensity per normal, so unlit geometry still reads as a solid."""
    return AMBIENT + KEY * np.abs(normals @ KEY_DIRECTION) + FILL * np.abs(normals @ FILL_DIRECTION)


def _point_cloud(cloud: PointCloud, style: Style) -> SceneGeometry:
    """Points coloured by height, by normal (estimated when missing) or uniformly."""
    points = np.asarray(cloud.points, dtype=np.float64)
    geometry = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if style.color_by == "normal":
        if cloud.normals is not None:
            normals = np.asarray(cloud.normals, dtype=np.float64)
        else:
            geometry.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(NORMAL_NEIGHBOURS))
            normals = np.asarray(geometry.normals)
        colors = 0.5 + 0.5 * normals
    elif style.color_by == "height":
        colors = colormap(points[:, style.up])
    elif cloud.colors is not None:
        colors = np.asarray(cloud.colors, dtype=np.float64)
    else:
        colors = np.tile(CLAY, (len(points), 1))
    geometry.colors = o3d.utility.Vector3dVector(np.clip(colors, 0, 1))
    return SceneGeometry(geometry, points.min(0), points.max(0))


def _triangle_soup(corners: np.ndarray, base_colors: np.ndarray) -> o3d.geometry.TriangleMesh:
    """A flat-shaded mesh from (F, 3, 3) triangle corners; each face gets its own three vertices."""
    edges1, edges2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    normals = np.cross(edges1, edges2)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    shade = np.clip(base_colors * baked_shading(normals)[:, None], 0, 1)
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(corners.reshape(-1, 3)),
                                     o3d.utility.Vector3iVector(np.arange(len(corners) * 3).reshape(-1, 3)))
    mesh.vertex_colors = o3d.utility.Vector3dVector(np.repeat(shade, 3, axis=0))
    return mesh


def _mesh(shape: Mesh, style: Style) -> SceneGeometry:
    """A triangle mesh, flat-shaded in clay (or its own vertex colours)."""
    vertices = np.asarray(shape.vertices, dtype=np.float64)
    faces = np.asarray(shape.faces, dtype=np.int64)
    corners = vertices[faces]
    if shape.vertex_colors is not None:
        base = np.asarray(shape.vertex_colors, dtype=np.float64)[faces].mean(axis=1)
    else:
        base = np.tile(CLAY, (len(faces), 1))
    return SceneGeometry(_triangle_soup(corners, base), vertices.min(0), vertices.max(0))


#: for each of the 6 face directions: (axis, sign, the 4 unit-cube corners of that face, counter-clockwise)
_CUBE_FACES = [
    (0, -1, [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)]), (0, 1, [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)]),
    (1, -1, [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)]), (1, 1, [(0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)]),
    (2, -1, [(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)]), (2, 1, [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]),
]


def voxel_faces(occupancy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exposed cube faces of an occupancy grid: (F, 4, 3) corner indices and (F,) face-axis ids (0..5)."""
    occupied = np.asarray(occupancy, dtype=bool)
    padded = np.pad(occupied, 1)
    quads, ids = [], []
    for face_id, (axis, sign, corners) in enumerate(_CUBE_FACES):
        neighbour = np.roll(padded, -sign, axis=axis)[1:-1, 1:-1, 1:-1]
        cells = np.argwhere(occupied & ~neighbour)
        quads.append(cells[:, None, :] + np.asarray(corners)[None])
        ids.append(np.full(len(cells), face_id))
    return np.concatenate(quads), np.concatenate(ids)


def _voxels(grid: VoxelGrid, style: Style) -> SceneGeometry:
    """Occupied cells as a mesh of their exposed faces, coloured by height and shaded per face."""
    quads, _ = voxel_faces(grid.occupancy)
    lower, upper = (np.asarray(b, dtype=np.float64) for b in grid.bounds)
    size = (upper - lower) / grid.resolution
    world = lower + quads * size
    corners = np.concatenate([world[:, [0, 1, 2]], world[:, [0, 2, 3]]])
    if style.color_by == "height" and len(world):
        base = colormap(corners.mean(axis=1)[:, style.up])
    else:
        base = np.tile(CLAY, (len(corners), 1))
    if len(world):  # frame the occupied cells, not the whole grid box
        lower, upper = world.reshape(-1, 3).min(0), world.reshape(-1, 3).max(0)
    return SceneGeometry(_triangle_soup(corners, base), lower, upper)


def _splats(splats: GaussianSplats) -> SceneGeometry:
    """3D Gaussian splats for Filament's native ``gaussianSplat`` shader (``core.render.scene`` builds both)."""
    lower, upper = splats.bounds
    return SceneGeometry(splat_tensor_cloud(splats), np.asarray(lower), np.asarray(upper), shape_material(splats))


def build_geometry(shape: object, style: Style) -> SceneGeometry:
    """The drawable for any core shape."""
    if isinstance(shape, PointCloud):
        return _point_cloud(shape, style)
    if isinstance(shape, VoxelGrid):
        return _voxels(shape, style)
    if isinstance(shape, GaussianSplats):
        return _splats(shape)
    if isinstance(shape, Mesh):
        return _mesh(shape, style)
    raise TypeError(f"cannot draw {type(shape).__name__}")


def shape_bounds(shape: object) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds used to frame a shape (for voxels: the occupied cells, not the whole grid)."""
    if isinstance(shape, VoxelGrid) and shape.occupancy.any():
        cells = np.argwhere(shape.occupancy)
        lower, upper = (np.asarray(b, dtype=np.float64) for b in shape.bounds)
        size = (upper - lower) / shape.resolution
        return lower + cells.min(0) * size, lower + (cells.max(0) + 1) * size
    lower, upper = shape.bounds
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def describe(shape: object) -> str:
    """A short human description such as '1,024 points' for the viewport's caption."""
    if isinstance(shape, PointCloud):
        return f"point cloud · {len(shape.points):,} points"
    if isinstance(shape, VoxelGrid):
        return f"voxels · {shape.resolution}³ · {int(shape.occupancy.sum()):,} filled"
    if isinstance(shape, GaussianSplats):
        return f"Gaussian splats · {len(shape):,}"
    if isinstance(shape, Mesh):
        return f"mesh · {len(shape.vertices):,} vertices · {len(shape.faces):,} faces"
    return type(shape).__name__
