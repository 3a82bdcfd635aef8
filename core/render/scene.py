"""Scene set-up shared by every Open3D view of a shape: camera fit, materials, shape → geometry.

Kept free of any renderer state so the offscreen renderer (thumbnails, contact sheets, the demo) and
the app's interactive viewport build identical scenes. The gotchas measured in
``shared/notes/rendering.md`` are handled here once: voxels become an exposed-face cube mesh (an
Open3D ``VoxelGrid`` can deadlock Filament), and splats are handed over as the tensor point cloud
that ``o3d.t.io.read_point_cloud`` makes of a 3DGS file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

#: Vertical field of view in degrees (a mild telephoto keeps perspective distortion low).
FIELD_OF_VIEW = 30.0
#: Directions in the shape's own (right, front, up) frame. The camera looks from the front-right,
#: above (a three-quarter view); the sun shines from above, behind the camera, so visible faces are lit.
VIEW_DIRECTION = (1.0, 1.6, 0.9)
SUN_DIRECTION = (-0.4, -1.0, -1.4)
#: (right, front, up) axes of the world for each up-axis convention: z-up is ModelNet's and most
#: scanners'; y-up is the built-in set's and most modelling tools' (front = +z).
FRAMES: dict[str, np.ndarray] = {
    "z": np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]),
    "y": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
    "x": np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
}
DEFAULT_UP = "z"
#: Empty space around the shape, as a fraction of the camera distance that just fits it.
MARGIN = 0.12
#: Sun and image-based (ambient) light intensities in Filament's lux; the ambient term keeps faces
#: turned away from the sun readable.
SUN_INTENSITY = 90_000.0
AMBIENT_INTENSITY = 25_000.0
KEY_LIGHT = "key"
BACKGROUND = (1.0, 1.0, 1.0, 1.0)
#: Colour ramp for "colour by height" (low → high), a perceptually ordered blue → yellow (viridis-like).
HEIGHT_RAMP = np.array([[0.27, 0.00, 0.33], [0.23, 0.32, 0.55], [0.13, 0.57, 0.55],
                        [0.37, 0.79, 0.38], [0.99, 0.91, 0.14]])
#: Clay colour of lit meshes and voxel cubes.
SURFACE_COLOR = (0.80, 0.66, 0.50)
VOXEL_COLOR = (0.42, 0.62, 0.85)
#: Point size in pixels per 320 pixels of image height.
POINT_SIZE_PER_320 = 4.0


@dataclass(frozen=True)
class Camera:
    """A pinhole camera looking at ``center`` from ``eye`` (the arguments of ``setup_camera``)."""

    fov: float
    center: np.ndarray
    eye: np.ndarray
    up: np.ndarray


def world_direction(local: tuple[float, float, float], up: str = DEFAULT_UP) -> np.ndarray:
    """A (right, front, up) direction expressed in world axes for the given up axis ("x", "y", "z")."""
    if up not in FRAMES:
        raise ValueError(f"up axis must be one of {', '.join(FRAMES)}, got {up!r}")
    return np.asarray(local, dtype=np.float64) @ FRAMES[up]


def apply_lighting(scene, up: str = DEFAULT_UP) -> None:
    """Light a new ``Open3DScene`` once: a shadowless key light from the camera's side plus ambient light.

    Filament's built-in sun casts shadows; on llvmpipe the shadow pass made some lit frames take
    30–190 s, so the sun is off and a directional light without shadows takes its place.
    """
    direction = world_direction(SUN_DIRECTION, up).astype(np.float32)
    low_level = scene.scene
    low_level.enable_sun_light(False)
    low_level.add_directional_light(KEY_LIGHT, np.ones(3, dtype=np.float32), direction, SUN_INTENSITY, False)
    low_level.set_indirect_light_intensity(AMBIENT_INTENSITY)


def framing_points(shape: Shape) -> np.ndarray:
    """The points a camera must keep in view: vertices, points, splat centres, voxel corners."""
    if isinstance(shape, VoxelGrid):
        cells = np.argwhere(shape.occupancy)
        if len(cells) == 0:
            return np.stack(shape.bounds)
        corners = np.stack(np.meshgrid(*[(0.0, 1.0)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
        return np.asarray(shape.origin) + (cells[:, None, :] + corners).reshape(-1, 3) * shape.voxel_size
    if isinstance(shape, Mesh):
        return shape.vertices[np.unique(shape.faces)]
    if isinstance(shape, GaussianSplats):
        return shape.positions
    return shape.points


def fit_camera(points: np.ndarray, aspect: float = 1.0, up: str = DEFAULT_UP, fov: float = FIELD_OF_VIEW,
               direction: tuple[float, float, float] = VIEW_DIRECTION) -> Camera:
    """A camera looking at the centre of ``points``' box from ``direction`` that keeps all in view.

    Each point's offset from the centre, in the camera's right/up/back frame, bounds the distance at
    which it stays inside the (vertical ``fov``, ``aspect``) frustum; the largest bound wins, plus a
    small margin. Fitting the points themselves, not a bounding sphere, keeps thumbnails full.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    lo, hi = points.min(axis=0), points.max(axis=0)
    center = (lo + hi) / 2.0
    up_vector = world_direction((0, 0, 1), up)
    back = world_direction(direction, up)
    back /= np.linalg.norm(back)
    right = np.cross(up_vector, back)
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    offsets = points - center
    tan_v = np.tan(np.radians(fov) / 2.0)
    tan_h = tan_v * aspect
    # a point at height y and depth z (toward the camera) is in view when |y| <= (distance - z) * tan
    needed = np.maximum(np.abs(offsets @ right) / tan_h, np.abs(offsets @ true_up) / tan_v) + offsets @ back
    extent = max(float(np.linalg.norm(hi - lo)), 1e-6)
    distance = max(float(needed.max()) * (1.0 + MARGIN), extent)
    return Camera(fov, center, center + back * distance, up_vector)


def height_colors(points: np.ndarray, up: str = DEFAULT_UP) -> np.ndarray:
    """RGB in [0, 1] ramping from the lowest to the highest point: depth cues for unlit points."""
    height = points.astype(np.float64) @ world_direction((0, 0, 1), up)
    span = height.max() - height.min()
    t = (height - height.min()) / span if span > 0 else np.full_like(height, 0.5)
    stops = np.linspace(0.0, 1.0, len(HEIGHT_RAMP))
    return np.stack([np.interp(t, stops, HEIGHT_RAMP[:, c]) for c in range(3)], axis=1)


def normal_colors(normals: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] from unit normals (the usual (n + 1) / 2 normal-map colouring)."""
    return np.clip((np.asarray(normals, dtype=np.float64) + 1.0) / 2.0, 0.0, 1.0)


def voxel_faces(grid: VoxelGrid) -> Mesh:
    """The exposed faces of the occupied voxels as a mesh with four unshared vertices per face.

    Only faces between an occupied and an empty cell are kept (≈ 6R² instead of 12R³ triangles),
    and unshared vertices give each face its own flat normal when lit.
    """
    occ = np.pad(grid.occupancy, 1)
    inner = (slice(1, -1),) * 3
    corner_sets, quads = [], []
    for axis in range(3):
        for side in (-1, 1):
            neighbour = np.roll(occ, -side, axis=axis)[inner]
            cells = np.argwhere(grid.occupancy & ~neighbour).astype(np.float64)
            if len(cells) == 0:
                continue
            u, v = [a for a in range(3) if a != axis]
            square = np.zeros((4, 3))
            square[:, axis] = 1.0 if side > 0 else 0.0
            square[:, u] = (0, 1, 1, 0)
            square[:, v] = (0, 0, 1, 1)
            if (side > 0) == (axis == 1):  # order the corners counter-clockwise seen from outside
                square = square[::-1]
            corner_sets.append((cells[:, None, :] + square[None]).reshape(-1, 3))
            quads.append(len(cells))
    vertices = np.asarray(grid.origin) + np.concatenate(corner_sets) * grid.voxel_size
    starts = np.arange(sum(quads))[:, None] * 4
    faces = np.concatenate([starts + (0, 1, 2), starts + (0, 2, 3)])
    return Mesh(vertices, faces)


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


def shape_geometry(shape: Shape, color_by: str = "height", up: str = DEFAULT_UP):
    """Open3D geometry for a shape: a coloured point cloud, a lit triangle mesh or splats."""
    import open3d as o3d

    if isinstance(shape, GaussianSplats):
        return splat_tensor_cloud(shape)
    if isinstance(shape, PointCloud):
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(shape.points.astype(np.float64)))
        if color_by == "normal" and shape.normals is not None:
            colors = normal_colors(shape.normals)
        elif color_by == "color" and shape.colors is not None:
            colors = shape.colors
        else:
            colors = height_colors(shape.points, up)
        cloud.colors = o3d.utility.Vector3dVector(np.asarray(colors, dtype=np.float64))
        return cloud
    mesh = voxel_faces(shape) if isinstance(shape, VoxelGrid) else shape
    o3d_mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices),
                                         o3d.utility.Vector3iVector(mesh.faces.astype(np.int32)))
    if mesh.vertex_colors is not None:
        o3d_mesh.vertex_colors = o3d.utility.Vector3dVector(mesh.vertex_colors.astype(np.float64))
    else:
        o3d_mesh.paint_uniform_color(VOXEL_COLOR if isinstance(shape, VoxelGrid) else SURFACE_COLOR)
    o3d_mesh.compute_vertex_normals()
    return o3d_mesh


def shape_material(shape: Shape, image_height: int = 320):
    """The material each kind is drawn with: unlit points, lit surfaces, the splat shader."""
    from open3d.visualization import rendering

    material = rendering.MaterialRecord()
    if isinstance(shape, GaussianSplats):
        material.shader = "gaussianSplat"
        material.gaussian_splat_sh_degree = shape.sh_degree
    elif isinstance(shape, PointCloud):
        material.shader = "defaultUnlit"
        material.point_size = max(1.0, POINT_SIZE_PER_320 * image_height / 320.0)
    else:
        material.shader = "defaultLit"
    return material
