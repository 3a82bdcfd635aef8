"""A triangle mesh from any shape: the one place that turns points, voxels and splats into surfaces.

Voxels go through marching cubes (:func:`core.data.conversions.voxels_to_mesh`, reused). Points go
through screened Poisson reconstruction (Kazhdan & Hoppe 2013, Open3D's implementation) by default:
the estimated normals are oriented by the closed marching-cubes surface of the cloud's filled grid
(Open3D's own tangent-plane orientation flips normals across the thin legs of 1,024-point chairs, and
Poisson then inflates them into blobs), and the surface Poisson invents far from any point is cut
away, so the mesh follows the points but may be open. ``method="grid"`` gives that filled grid's
marching-cubes surface itself: coarse but always closed. Splats are meshed through their surface
points (centres, with each Gaussian's thinnest axis as the normal).

It lives in :mod:`core.data` beside the conversions it builds on (a shape container does not depend on
the data layer); the method names are :data:`core.choices.MESH_METHODS`, so the CLI lists them without
importing this module.
"""
from __future__ import annotations

import numpy as np

from core.choices import DEFAULT_MESH_METHOD, MESH_METHODS
from core.data.conversions import convert, splats_to_points, voxels_to_mesh
from core.data.grid_frame import grid_fit
from core.errors import ShapeError
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

#: grid through which points are filled and closed before marching cubes (the sample job's export grid)
GRID_RESOLUTION = 32
#: octree depth of Poisson: depth 7 (128³) already resolves a 1,024-point cloud's spacing; depth 8 took
#: 1.4x longer on ModelNet10 chairs for the same triangles kept
POISSON_DEPTH = 7
#: neighbours of the PCA normal estimate (Hoppe et al. 1992), as core.data.conversions uses for splats
NORMAL_NEIGHBOURS = 12
#: Poisson vertices farther than this many median point spacings from every input point are cut away:
#: Poisson closes the surface through empty space (between chair legs) where no point supports it
TRIM_SPACINGS = 3.0


def to_mesh(shape: PointCloud | VoxelGrid | GaussianSplats | Mesh, method: str = DEFAULT_MESH_METHOD,
            resolution: int = GRID_RESOLUTION) -> Mesh:
    """The shape's surface as a triangle mesh in the shape's own coordinates (a mesh comes back as it is).

    ``method`` chooses how points and splats are meshed (:data:`MESH_METHODS`), through a filled grid of
    ``resolution`` cells a side; voxels always use marching cubes. An empty shape is a ShapeError.
    """
    if method not in MESH_METHODS:
        raise ShapeError(f"unknown meshing method {method!r}; use one of {', '.join(MESH_METHODS)}")
    if isinstance(shape, Mesh):
        return shape
    if isinstance(shape, VoxelGrid):
        return voxels_to_mesh(shape)
    if isinstance(shape, GaussianSplats):
        shape = splats_to_points(shape)
    if not isinstance(shape, PointCloud):
        raise ShapeError(f"cannot mesh a {type(shape).__name__}; give points, voxels, splats or a mesh")
    if len(shape) < 4:
        raise ShapeError(f"need at least 4 points to make a surface, got {len(shape)}")
    closed = _filled_grid_surface(shape.points.astype(np.float64), resolution)
    return closed if method == "grid" else _poisson(shape.points.astype(np.float64), closed)


def _filled_grid_surface(points: np.ndarray, resolution: int) -> Mesh:
    """Marching cubes of the points' gap-closed, filled R³ grid, moved back to the points' frame."""

    mesh = convert(PointCloud(points), "mesh", resolution=resolution)
    return Mesh(grid_fit(points, resolution).invert(mesh.vertices), mesh.faces)


def _poisson(points: np.ndarray, closed: Mesh) -> Mesh:
    """Screened Poisson over ``points`` with PCA normals pointing out of ``closed``; unsupported parts cut away."""
    import open3d as o3d
    from scipy.spatial import cKDTree

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(NORMAL_NEIGHBOURS))
    normals = np.asarray(cloud.normals)
    outward = _vertex_normals(closed)[cKDTree(closed.vertices).query(points)[1]]
    cloud.normals = o3d.utility.Vector3dVector(normals * np.sign(np.einsum("ij,ij->i", normals, outward) + 1e-12)[:, None])
    surface, _ = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(cloud, depth=POISSON_DEPTH)
    vertices, faces = np.asarray(surface.vertices), np.asarray(surface.triangles)
    tree = cKDTree(points)
    spacing = float(np.median(tree.query(points, k=2)[0][:, 1]))
    supported = tree.query(vertices)[0] <= TRIM_SPACINGS * max(spacing, 1e-12)
    faces = faces[supported[faces].all(axis=1)]
    if not len(faces):
        raise ShapeError("Poisson reconstruction left no surface near the points")
    used, faces = np.unique(faces, return_inverse=True)
    return Mesh(vertices[used], faces.reshape(-1, 3).astype(np.int64))


def _vertex_normals(mesh: Mesh) -> np.ndarray:
    """Area-weighted vertex normals of a consistently wound mesh (outward for marching-cubes surfaces)."""
    a, b, c = (mesh.vertices[mesh.faces[:, k]] for k in range(3))
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(mesh.vertices)
    for k in range(3):
        np.add.at(normals, mesh.faces[:, k], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
