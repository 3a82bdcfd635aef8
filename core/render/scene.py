"""Shape → Open3D geometry, shared by offscreen pictures and the app's viewport, with the gotchas of
``shared/notes/rendering.md`` handled once.

Points, voxels and meshes are drawn by Open3D's legacy OpenGL renderer with its lighting off and the shading
baked into vertex colours (10–50 ms a frame on llvmpipe, none of Filament's stalls); only Gaussian splats need
Filament (its ``gaussianSplat`` shader), so only they carry a Filament material. Voxels become an exposed-face
cube mesh, never Open3D's ``VoxelGrid``; splats are the tensor point cloud ``o3d.t.io.read_point_cloud`` makes
of a 3DGS file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.conversions import rotation_matrices, splats_to_points
from core.render.camera import axis_index
from core.shapes import SH_C0, GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

#: point colourings: by height, by normal (estimated when missing), the shape's own colours or uniform clay
COLOR_MODES = ("height", "normal", "uniform")
#: viridis at 5 stops (matplotlib's _cm_listed.py, entries 0, 64, 128, 192, 255): perceptually uniform height map
VIRIDIS_STOPS = np.array([[0.267, 0.005, 0.329], [0.230, 0.322, 0.546], [0.128, 0.567, 0.551],
                          [0.369, 0.789, 0.383], [0.993, 0.906, 0.144]])
#: flat colour for meshes and uniform points: a neutral clay that shows shading on dark and light backgrounds
CLAY = np.array([0.78, 0.74, 0.68])
#: baked lighting: ambient + diffuse from a key light above-front and a weaker fill, both two-sided
AMBIENT, KEY, FILL = 0.35, 0.55, 0.2
KEY_DIRECTION = np.array([0.45, 0.35, 0.82]) / np.linalg.norm([0.45, 0.35, 0.82])
FILL_DIRECTION = np.array([-0.7, 0.6, -0.2]) / np.linalg.norm([-0.7, 0.6, -0.2])
#: neighbours used to estimate normals when a cloud has none (Open3D's KNN normal estimation)
NORMAL_NEIGHBOURS = 16
#: colour spread (standard deviation over the splats, mean of R, G, B) below which splats carry no colour of
#: their own: decoded samples of the ModelNet-trained built-in model measure 0.020-0.025 (noise around one
#: grey), the two trained 3DGS scenes in shared/data 0.17-0.28
COLORLESS_SPREAD = 0.05
#: how splats are drawn: Filament's Gaussian shader (true 3DGS blending) or the legacy renderer's flat discs
#: (one polygon per splat: 30-50x faster on llvmpipe, for live previews and orbiting)
SPLAT_DRAWINGS = ("gaussian", "discs")
#: sides of the polygon drawn for one splat in the disc drawing
DISC_SIDES = 6
#: disc radius along each of a splat's two widest axes, in standard deviations: at 1.5σ neighbouring discs
#: of a surface splatted at the datasets' spacing overlap without the shape looking bloated
DISC_SIGMAS = 1.5
#: screen tiles (16x16 pixels) one splat may cover before Filament culls it: Open3D's default, 256, culled the
#: broad Gaussians of trained 3DGS scenes seen from near (the donut in shared/data showed a black square in the
#: viewport); 65,536 tiles is 38x the tiles of the viewport's 768x576 buffer, so a splat is drawn however close
#: the camera comes (measured on the donut: the same picture at 4,096 and at 65,536, the hole gone from both)
MAX_TILES_PER_SPLAT = 1 << 16
#: splats fainter than this are left out of the disc drawing (they barely show under the Gaussian shader)
DISC_MIN_OPACITY = 0.05


@dataclass(frozen=True)
class Style:
    """How shapes are drawn: colouring of points, voxels and colourless splats, point size in pixels, the
    world up axis (1 = Y, 2 = Z) and the splat drawing (one of :data:`SPLAT_DRAWINGS`)."""

    color_by: str = "height"
    point_size: float = 4.0
    up: int = 2
    splats: str = "gaussian"


@dataclass
class SceneGeometry:
    """One drawable: the Open3D geometry and, for splats only, a Filament material."""

    geometry: object
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


def height_colors(points: np.ndarray, up: str | int = "z") -> np.ndarray:
    """RGB in [0, 1] ramping from the lowest to the highest point along ``up``: depth cues for unlit points."""
    return colormap(np.asarray(points, dtype=np.float64)[:, axis_index(up)])


def baked_shading(normals: np.ndarray) -> np.ndarray:
    """Two-sided Lambert intensity per normal, so unlit geometry still reads as a solid."""
    return AMBIENT + KEY * np.abs(normals @ KEY_DIRECTION) + FILL * np.abs(normals @ FILL_DIRECTION)


def framing_points(shape: Shape) -> np.ndarray:
    """The points a camera must keep in view: vertices, points, splat centres, occupied voxels' corners."""
    if isinstance(shape, VoxelGrid):
        cells = np.argwhere(shape.occupancy)
        if len(cells) == 0:
            return np.stack(shape.bounds)
        corners = np.stack(np.meshgrid(*[(0.0, 1.0)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
        return np.asarray(shape.origin) + (cells[:, None, :] + corners).reshape(-1, 3) * shape.voxel_size
    if isinstance(shape, Mesh):
        return np.asarray(shape.vertices)[np.unique(shape.faces)]
    if isinstance(shape, GaussianSplats):
        return np.asarray(shape.positions)
    return np.asarray(shape.points)


def shape_bounds(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds used to frame a shape (for voxels: the occupied cells, not the whole grid)."""
    points = np.asarray(framing_points(shape), dtype=np.float64)
    return points.min(axis=0), points.max(axis=0)


def _point_cloud(cloud: PointCloud, style: Style) -> SceneGeometry:
    """Points coloured by height, by normal (estimated when missing), by their own colours or uniformly."""
    import open3d as o3d

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
        colors = height_colors(points, style.up)
    elif cloud.colors is not None:
        colors = np.asarray(cloud.colors, dtype=np.float64)
    else:
        colors = np.tile(CLAY, (len(points), 1))
    geometry.colors = o3d.utility.Vector3dVector(np.clip(colors, 0, 1))
    return SceneGeometry(geometry)


def _triangle_soup(corners: np.ndarray, base_colors: np.ndarray):
    """A flat-shaded ``TriangleMesh`` from (F, 3, 3) triangle corners; each face gets its own three vertices."""
    import open3d as o3d

    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    shade = np.clip(base_colors * baked_shading(normals)[:, None], 0, 1)
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(corners.reshape(-1, 3)),
                                     o3d.utility.Vector3iVector(np.arange(len(corners) * 3).reshape(-1, 3)))
    mesh.vertex_colors = o3d.utility.Vector3dVector(np.repeat(shade, 3, axis=0))
    return mesh


def _mesh(shape: Mesh) -> SceneGeometry:
    """A triangle mesh, flat-shaded in clay (or its own vertex colours)."""
    vertices = np.asarray(shape.vertices, dtype=np.float64)
    faces = np.asarray(shape.faces, dtype=np.int64)
    if shape.vertex_colors is not None:
        base = np.asarray(shape.vertex_colors, dtype=np.float64)[faces].mean(axis=1)
    else:
        base = np.tile(CLAY, (len(faces), 1))
    return SceneGeometry(_triangle_soup(vertices[faces], base))


#: for each of the 6 face directions: (axis, sign, the 4 unit-cube corners of that face, counter-clockwise seen
#: from outside)
_CUBE_FACES = [
    (0, -1, [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)]), (0, 1, [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)]),
    (1, -1, [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)]), (1, 1, [(0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)]),
    (2, -1, [(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)]), (2, 1, [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]),
]


def voxel_faces(occupancy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exposed cube faces of an occupancy grid: (F, 4, 3) corner indices and (F,) face-direction ids (0..5).

    Only faces between an occupied and an empty cell are kept (≈ 6R² instead of 12R³ triangles).
    """
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
    """Occupied cells as a mesh of their exposed faces, coloured by height (or clay) and shaded per face."""
    quads, _ = voxel_faces(grid.occupancy)
    world = np.asarray(grid.origin) + quads * grid.voxel_size
    corners = np.concatenate([world[:, [0, 1, 2]], world[:, [0, 2, 3]]])
    if style.color_by == "height" and len(world):
        base = colormap(corners.mean(axis=1)[:, style.up])
    else:
        base = np.tile(CLAY, (len(corners), 1))
    return SceneGeometry(_triangle_soup(corners, base))


def splat_tensor_cloud(splats: GaussianSplats):
    """The ``o3d.t.geometry.PointCloud`` Filament's ``gaussianSplat`` shader draws.

    Same attributes as ``o3d.t.io.read_point_cloud`` gives for a 3DGS PLY: ``positions``, ``f_dc``,
    ``opacity`` (N, 1) as the logit, ``rot`` (w, x, y, z), ``scale`` **linear** (exp of the file's
    value) and, for SH degree > 0, ``f_rest`` coefficient-major (N, K, 3).
    """
    import open3d as o3d

    def tensor(array: np.ndarray):
        return o3d.core.Tensor(np.ascontiguousarray(array, dtype=np.float32))

    cloud = o3d.t.geometry.PointCloud(tensor(splats.positions))
    cloud.point.f_dc = tensor(splats.sh_dc)
    cloud.point.opacity = tensor(splats.opacity_logit[:, None])
    cloud.point.rot = tensor(splats.rotations)
    cloud.point.scale = tensor(splats.scales)
    if splats.sh_rest is not None:
        rest = splats.sh_rest.reshape(len(splats), 3, -1).transpose(0, 2, 1)
        cloud.point.f_rest = tensor(rest)
    return cloud


def has_own_colors(splats: GaussianSplats) -> bool:
    """Whether the splats' colours vary enough to be the shape's own (a trained 3DGS scene), not one grey."""
    return len(splats) > 1 and float(splats.colors.std(axis=0).mean()) >= COLORLESS_SPREAD


def splat_colors(splats: GaussianSplats, style: Style) -> np.ndarray:
    """RGB per splat before lighting: its own colours, or (colourless splats) coloured as points are."""
    if has_own_colors(splats):
        return splats.colors.astype(np.float64)
    if style.color_by == "height":
        return height_colors(splats.positions, style.up)
    if style.color_by == "normal":
        return 0.5 + 0.5 * splat_normals(splats)
    return np.tile(CLAY, (len(splats), 1))


def splat_normals(splats: GaussianSplats) -> np.ndarray:
    """Each splat's thinnest axis (its surface normal), float64 (N, 3)."""
    return np.asarray(splats_to_points(splats).normals, dtype=np.float64)


def shaded_splats(splats: GaussianSplats, style: Style) -> GaussianSplats:
    """Colourless splats coloured as points are (height, normal or clay) and lit by their thinnest axes.

    Filament's ``gaussianSplat`` shader draws a splat's colour unlit, so splats of one grey (every model
    trained on uncoloured data) read as a flat grey silhouette; baking the colouring and a two-sided
    Lambert shade into the DC term makes them read as a surface. Splats with colours of their own keep them.
    """
    if has_own_colors(splats):
        return splats
    rgb = np.clip(splat_colors(splats, style) * baked_shading(splat_normals(splats))[:, None], 0, 1)
    return GaussianSplats(positions=splats.positions, sh_dc=(rgb - 0.5) / SH_C0, opacity_logit=splats.opacity_logit,
                          log_scales=splats.log_scales, rotations=splats.rotations, normals=splats.normals)


def splat_discs(splats: GaussianSplats, style: Style) -> SceneGeometry:
    """Splats as flat discs for the legacy renderer: a :data:`DISC_SIDES`-gon per splat spanning
    :data:`DISC_SIGMAS` standard deviations along its two widest axes, coloured by :func:`splat_colors` and
    lit by its plane, so it reads as the surface the Gaussians make at the speed of a point cloud."""
    keep = np.flatnonzero(splats.opacity >= DISC_MIN_OPACITY)
    if len(keep) == 0:
        keep = np.arange(len(splats))
    axes = rotation_matrices(splats.rotations[keep].astype(np.float64))  # columns: the splat's local axes
    scales = splats.scales[keep].astype(np.float64)
    widest = np.argsort(-scales, axis=1)[:, :2]
    rows = np.arange(len(keep))[:, None]
    spans = axes.transpose(0, 2, 1)[rows, widest] * (DISC_SIGMAS * scales[rows, widest])[..., None]  # (n, 2, 3)
    angles = 2 * np.pi * np.arange(DISC_SIDES) / DISC_SIDES
    ring = (np.asarray(splats.positions[keep], dtype=np.float64)[:, None]
            + np.cos(angles)[None, :, None] * spans[:, None, 0] + np.sin(angles)[None, :, None] * spans[:, None, 1])
    centre = np.broadcast_to(splats.positions[keep][:, None], ring.shape)
    corners = np.stack([centre, ring, np.roll(ring, -1, axis=1)], axis=2).reshape(-1, 3, 3)
    base = np.repeat(splat_colors(splats, style)[keep], DISC_SIDES, axis=0)
    return SceneGeometry(_triangle_soup(corners, base))


def _splats(splats: GaussianSplats, style: Style) -> SceneGeometry:
    """3D Gaussian splats with Filament's native ``gaussianSplat`` material (colourless ones shaded)."""
    from open3d.visualization import rendering

    splats = shaded_splats(splats, style)
    material = rendering.MaterialRecord()
    material.shader = "gaussianSplat"
    material.gaussian_splat_sh_degree = splats.sh_degree
    material.gaussian_splat_max_tiles_per_splat = MAX_TILES_PER_SPLAT
    return SceneGeometry(splat_tensor_cloud(splats), material)


def build_geometry(shape: Shape, style: Style = Style()) -> SceneGeometry:
    """The drawable for any core shape."""
    if isinstance(shape, PointCloud):
        return _point_cloud(shape, style)
    if isinstance(shape, VoxelGrid):
        return _voxels(shape, style)
    if isinstance(shape, GaussianSplats):
        return splat_discs(shape, style) if style.splats == "discs" else _splats(shape, style)
    if isinstance(shape, Mesh):
        return _mesh(shape)
    raise TypeError(f"cannot draw {type(shape).__name__}")
