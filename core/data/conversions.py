"""Conversions between the four shape kinds: meshes, point clouds, voxel grids and Gaussian splats.

Every conversion is a vectorised numpy function of validated containers (``core.shapes``). Open3D is
used only for Poisson-disk sampling, and only on arrays that ``Mesh`` has already checked, because
its own readers and some of its routines misbehave on bad input (``shared/notes/stack.md``).

Voxel grids live in the :class:`~core.shapes.VoxelGrid` default frame, the cube [-1, 1]³;
:func:`convert` first fits the shape's bounding box into it the way datasets do
(:func:`core.data.grid_frame.grid_fit`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from core.choices import SHAPE_REPRESENTATIONS as REPRESENTATIONS
from core.data.grid_frame import grid_fit
from core.errors import ShapeError
from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

# scipy (~0.7 s to import) is imported in the functions that use it, so this module stays light: the data
# layer, the jobs and the render code import it at their top and pay for scipy only when a shape needs it

#: Surface samples per voxel edge when rasterising triangles: a lattice at half the voxel size puts
#: at least one sample in every voxel a triangle crosses by more than a corner (the usual
#: "supersample the surface" voxeliser, cf. binvox's conservative test at a fraction of the cost).
SAMPLES_PER_VOXEL = 2
#: Lattice points processed at once while rasterising, to bound memory on huge triangles.
RASTER_CHUNK = 2_000_000
#: Neighbours for the splat spacing estimate and for PCA normals of bare point clouds
#: (k = 8–16 is the common choice for normal estimation, e.g. Hoppe et al. 1992; Open3D's default 30).
SPACING_NEIGHBOURS = 6
NORMAL_NEIGHBOURS = 12
#: In-plane standard deviation of a splat as a fraction of the mean neighbour distance: σ ≈ d/2
#: lets neighbouring Gaussians overlap at about one σ, enough to close the surface without blur.
SPLAT_SIGMA_PER_SPACING = 0.5
#: Thin-axis / in-plane scale ratio: flat discs on the surface, as 2DGS / SuGaR regularise towards.
SPLAT_FLATNESS = 0.1
#: Opacity of splats made from geometry (trained 3DGS scenes are mostly near-opaque on surfaces).
SPLAT_OPACITY = 0.9
#: Colour of splats when the source has none: a neutral light grey.
NEUTRAL_COLOR = (0.72, 0.72, 0.72)
#: Splats made from a mesh when no count is given.
DEFAULT_SPLAT_COUNT = 4096


# ---------------------------------------------------------------- mesh -> points

def sample_surface(mesh: Mesh, n: int, method: Literal["area", "poisson"] = "area", seed: int = 0) -> PointCloud:
    """Sample ``n`` points on a mesh surface, with the faces' unit normals (and vertex colours).

    ``"area"`` draws triangles with probability proportional to area and uniform barycentric
    coordinates (Osada et al. 2002), the standard way to turn meshes into training point clouds;
    ``"poisson"`` uses Open3D's Poisson-disk elimination (Yuksel 2015), which spaces points evenly,
    as the ModelNet10 clouds in ``shared/data`` were made.
    """
    if n < 1:
        raise ShapeError(f"number of points must be positive, got {n}")
    areas = mesh.triangle_areas()
    if not areas.sum() > 0:
        raise ShapeError("mesh has zero surface area")
    if method == "area":
        return _sample_area(mesh, areas, n, np.random.default_rng(seed))
    if method == "poisson":
        return _sample_poisson(mesh, n, seed)
    raise ShapeError(f"unknown sampling method {method!r} (use 'area' or 'poisson')")


def _face_normals(mesh: Mesh) -> np.ndarray:
    """Unit normals of the triangles (zero for degenerate ones)."""
    a, b, c = (mesh.vertices[mesh.faces[:, k]] for k in range(3))
    normals = np.cross(b - a, c - a)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)


def _sample_area(mesh: Mesh, areas: np.ndarray, n: int, rng: np.random.Generator) -> PointCloud:
    """Area-weighted uniform sampling (the square-root trick keeps barycentrics uniform)."""
    faces = rng.choice(len(areas), size=n, p=areas / areas.sum())
    r1, r2 = np.sqrt(rng.random(n)), rng.random(n)
    bary = np.stack([1.0 - r1, r1 * (1.0 - r2), r1 * r2], axis=1)
    corners = mesh.faces[faces]
    points = np.einsum("nk,nkd->nd", bary, mesh.vertices[corners])
    colors = None
    if mesh.vertex_colors is not None:
        colors = np.einsum("nk,nkd->nd", bary, mesh.vertex_colors[corners])
    return PointCloud(points.astype(np.float32), normals=_face_normals(mesh)[faces].astype(np.float32),
                      colors=colors)


def _sample_poisson(mesh: Mesh, n: int, seed: int) -> PointCloud:
    """Open3D's Poisson-disk sampling on a mesh built from our validated arrays."""
    import open3d as o3d

    o3d.utility.random.seed(seed)
    o3d_mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices),
                                         o3d.utility.Vector3iVector(mesh.faces.astype(np.int32)))
    if mesh.vertex_colors is not None:
        o3d_mesh.vertex_colors = o3d.utility.Vector3dVector(mesh.vertex_colors.astype(np.float64))
    o3d_mesh.compute_triangle_normals()
    cloud = o3d_mesh.sample_points_poisson_disk(n, use_triangle_normal=True)
    points = np.asarray(cloud.points, dtype=np.float32)
    if len(points) == 0:
        raise ShapeError("Poisson-disk sampling returned no points")
    normals = np.asarray(cloud.normals, dtype=np.float32)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    colors = np.asarray(cloud.colors, dtype=np.float32) if cloud.has_colors() else None
    return PointCloud(points, normals=normals, colors=colors)


# ---------------------------------------------------------------- -> voxels

def voxelize(shape: Mesh | PointCloud, resolution: int, filled: bool = False) -> VoxelGrid:
    """Occupancy of ``shape`` on an R³ grid over [-1, 1]³ (the shape must already lie in that cube).

    Meshes are rasterised by sampling every triangle on a lattice finer than a voxel, so thin parts
    (chair legs, lamp stems) stay connected; point clouds mark the voxels their points fall in, and
    the gaps between their points are then closed (:func:`close_point_gaps`). ``filled`` adds the
    inside: the outside is flood-filled from the grid's border and everything it cannot reach is
    solid, which is right for closed surfaces and harmless for open ones.
    """
    if resolution < 2:
        raise ShapeError(f"voxel resolution must be at least 2, got {resolution}")
    grid = VoxelGrid(np.zeros((resolution,) * 3, dtype=bool))
    if isinstance(shape, Mesh):
        chunks = _surface_lattice(shape, grid.voxel_size / SAMPLES_PER_VOXEL)
    elif isinstance(shape, PointCloud):
        chunks = iter([shape.points.astype(np.float64)])
    else:
        raise ShapeError(f"cannot voxelise a {type(shape).__name__}; give a Mesh or PointCloud")
    for points in chunks:
        grid.occupancy[tuple(_voxel_indices(points, grid).T)] = True
    if isinstance(shape, PointCloud):
        grid.occupancy = close_point_gaps(grid.occupancy)
    if filled:
        grid.occupancy = fill_inside(grid.occupancy, close_gaps=isinstance(shape, PointCloud))
    return grid


def close_point_gaps(occupancy: np.ndarray) -> np.ndarray:
    """Seal the holes a sparse point cloud leaves in its voxel shell: a morphological closing.

    ModelNet10's 1,024-point clouds land ~1.6 voxels apart at 32³, so their marked voxels form a
    sieve (a chair's seat is half holes; such training grids reconstruct at IoU 0.49). One dilation
    by the 26-neighbourhood then one erosion fills every gap up to two voxels wide and never removes
    a marked voxel; the grid is padded first so shapes at the border close like any other.
    """
    from scipy import ndimage

    structure = ndimage.generate_binary_structure(3, 3)
    closed = ndimage.binary_closing(np.pad(occupancy, 2), structure=structure)[2:-2, 2:-2, 2:-2]
    return closed | occupancy


def fill_inside(surface: np.ndarray, close_gaps: bool = False) -> np.ndarray:
    """Solid occupancy from a surface shell: all that the 6-connected outside cannot reach.

    The grid is padded so a shape touching the border is still surrounded. A shell made from
    scattered points has gaps the outside would leak through; ``close_gaps`` thickens the shell by
    one voxel before the fill and takes that voxel back off the solid afterwards (a morphological
    closing of the fill), which seals gaps up to two voxels wide.
    """
    from scipy import ndimage

    pad = 2 if close_gaps else 1
    shell = np.pad(surface, pad)
    if close_gaps:
        shell = ndimage.binary_dilation(shell)
    solid = ndimage.binary_fill_holes(shell)
    if close_gaps:
        solid = ndimage.binary_erosion(solid) | np.pad(surface, pad)
    inner = (slice(pad, -pad),) * 3
    return solid[inner]


def _voxel_indices(points: np.ndarray, grid: VoxelGrid) -> np.ndarray:
    """Integer voxel indices of points; points on the far faces of the cube belong to the last cell."""
    lo, hi = grid.bounds
    tolerance = 1e-6 * grid.resolution * grid.voxel_size
    if points.min() < lo.min() - tolerance or points.max() > hi.max() + tolerance:
        raise ShapeError(f"shape extends beyond the voxel grid's frame [{lo.min():g}, {hi.max():g}]³ "
                         f"(coordinates {points.min():.3g}..{points.max():.3g}); normalise it first")
    index = np.floor((points - lo) / grid.voxel_size).astype(np.int64)
    return np.clip(index, 0, grid.resolution - 1)


def _surface_lattice(mesh: Mesh, spacing: float):
    """Yield chunks of points on a barycentric lattice over every triangle, at most ``spacing`` apart.

    Triangles are grouped by lattice order so each group is one batched product, not a loop over
    triangles; the number of groups is the number of distinct orders (a handful).
    """
    triangles = mesh.vertices[mesh.faces]  # (F, 3, 3)
    edges = np.linalg.norm(triangles - np.roll(triangles, 1, axis=1), axis=2).max(axis=1)
    orders = np.maximum(np.ceil(edges / spacing).astype(np.int64), 1)
    for order in np.unique(orders):
        bary = _barycentric_lattice(int(order))
        group = triangles[orders == order]
        step = max(1, RASTER_CHUNK // len(bary))
        for start in range(0, len(group), step):
            yield np.einsum("mk,fkd->fmd", bary, group[start:start + step]).reshape(-1, 3)


def _barycentric_lattice(order: int) -> np.ndarray:
    """All barycentric points (i, j, k) / order with i + j + k = order, as (M, 3)."""
    i, j = np.meshgrid(np.arange(order + 1), np.arange(order + 1), indexing="ij")
    keep = i + j <= order
    i, j = i[keep], j[keep]
    return np.stack([i, j, order - i - j], axis=1).astype(np.float64) / order


# ---------------------------------------------------------------- voxels -> mesh

def voxels_to_mesh(grid: VoxelGrid) -> Mesh:
    """Marching-cubes surface (Lorensen & Cline 1987) of the occupancy at level 0.5, in world units.

    The grid is padded by one empty voxel so shapes touching the border still come out closed.
    """
    from skimage.measure import marching_cubes

    if not grid.occupancy.any():
        raise ShapeError("voxel grid is empty; there is no surface to extract")
    volume = np.pad(grid.occupancy, 1).astype(np.float32)
    vertices, faces, _, _ = marching_cubes(volume, level=0.5, spacing=(grid.voxel_size,) * 3)
    # padded index p is voxel p - 1, whose centre sits half a voxel inside its cell
    vertices = vertices + np.asarray(grid.origin) - 0.5 * grid.voxel_size
    # skimage orders faces clockwise seen from outside; flip to the usual counter-clockwise
    return Mesh(vertices.astype(np.float64), faces[:, ::-1].astype(np.int64))


# ---------------------------------------------------------------- -> Gaussian splats

def to_splats(shape: Mesh | PointCloud, n: int | None = None, seed: int = 0) -> GaussianSplats:
    """Flat Gaussian splats on the surface of a mesh or point cloud.

    Each splat is a disc: its in-plane scale comes from the distance to its neighbours (KD-tree),
    its thin axis is the local surface normal (the mesh's face normal, or PCA of the neighbours for
    a bare point cloud), so the splats lie on the surface as in 2DGS. Colour comes from the source's
    colours or a neutral grey. ``n`` is the splat count (a mesh defaults to 4,096; a cloud keeps all
    its points unless ``n`` is smaller).
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    if isinstance(shape, Mesh):
        cloud = sample_surface(shape, n or DEFAULT_SPLAT_COUNT, "area", seed)
    elif isinstance(shape, PointCloud):
        cloud = subsample(shape, n, rng) if n else shape
    else:
        raise ShapeError(f"cannot make splats from a {type(shape).__name__}; give a Mesh or PointCloud")
    points = cloud.points.astype(np.float64)
    if len(points) < 2:
        raise ShapeError("need at least 2 points to estimate splat sizes")
    tree = cKDTree(points)
    normals = cloud.normals if cloud.normals is not None else pca_normals(points, tree)
    spacing = _neighbour_spacing(points, tree)
    sigma = SPLAT_SIGMA_PER_SPACING * spacing
    scales = np.stack([sigma, sigma, SPLAT_FLATNESS * sigma], axis=1)
    colors = cloud.colors if cloud.colors is not None else np.broadcast_to(NEUTRAL_COLOR, points.shape)
    splats = GaussianSplats.from_colors(points, colors, scales, quaternions_z_to(normals),
                                        np.full(len(points), SPLAT_OPACITY))
    splats.normals = np.asarray(normals, dtype=np.float32)
    return splats


def subsample(cloud: PointCloud, n: int, rng: np.random.Generator) -> PointCloud:
    """``n`` distinct points of a cloud chosen at random (the cloud itself if it has ≤ n points)."""
    if n < 1:
        raise ShapeError(f"number of points must be positive, got {n}")
    if len(cloud) <= n:
        return cloud
    keep = np.sort(rng.choice(len(cloud), size=n, replace=False))
    pick = lambda a: None if a is None else a[keep]  # noqa: E731
    return PointCloud(cloud.points[keep], pick(cloud.normals), pick(cloud.colors),
                      {k: np.asarray(v)[keep] for k, v in cloud.extra.items()})


def _neighbour_spacing(points: np.ndarray, tree: cKDTree) -> np.ndarray:
    """Mean distance from each point to its nearest neighbours (duplicates fall back to the median)."""
    k = min(SPACING_NEIGHBOURS, len(points) - 1)
    distances, _ = tree.query(points, k=k + 1)
    spacing = distances[:, 1:].mean(axis=1)
    positive = spacing[spacing > 0]
    floor = np.median(positive) if len(positive) else 1e-3
    return np.where(spacing > 0, spacing, floor)


def pca_normals(points: np.ndarray, tree: cKDTree | None = None) -> np.ndarray:
    """Unit normals as the least-variance direction of each point's neighbourhood (Hoppe et al. 1992).

    The sign is arbitrary (a splat's disc does not care); it is chosen to point away from the centroid.
    """
    from scipy.spatial import cKDTree

    tree = tree or cKDTree(points)
    k = min(NORMAL_NEIGHBOURS, len(points))
    _, neighbours = tree.query(points, k=k)
    local = points[neighbours.reshape(len(points), k)]
    local = local - local.mean(axis=1, keepdims=True)
    covariance = np.einsum("nki,nkj->nij", local, local)
    _, vectors = np.linalg.eigh(covariance)  # ascending eigenvalues
    normals = vectors[:, :, 0]
    outward = np.einsum("nd,nd->n", normals, points - points.mean(axis=0)) < 0
    normals[outward] *= -1
    return normals


def quaternions_z_to(directions: np.ndarray) -> np.ndarray:
    """Unit (w, x, y, z) quaternions of the shortest rotations taking +z onto each direction.

    A 3DGS covariance is R·diag(s)²·Rᵀ, so with the thin scale on the third axis this rotation lays
    the splat's thin axis along the direction (the surface normal).
    """
    d = np.asarray(directions, dtype=np.float64)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    # q = (1 + z·d, z × d) normalised; z × d = (-d_y, d_x, 0)
    q = np.stack([1.0 + d[:, 2], -d[:, 1], d[:, 0], np.zeros(len(d))], axis=1)
    opposite = q[:, 0] < 1e-9  # d ≈ -z: any half-turn about an axis in the xy-plane
    q[opposite] = (0.0, 1.0, 0.0, 0.0)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def rotation_matrices(quaternions: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation matrices of (w, x, y, z) quaternions (normalised here)."""
    q = quaternions / np.linalg.norm(quaternions, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1),
    ], axis=1)


# ---------------------------------------------------------------- splats -> points

def splats_to_points(splats: GaussianSplats) -> PointCloud:
    """The splat centres with their colours and normals (each splat's thinnest axis)."""
    axes = rotation_matrices(splats.rotations.astype(np.float64))
    thinnest = np.argmin(splats.log_scales, axis=1)
    normals = axes[np.arange(len(splats)), :, thinnest]
    return PointCloud(splats.positions, normals=normals.astype(np.float32), colors=splats.colors)


def sample_splats(splats: GaussianSplats, n: int, seed: int = 0) -> PointCloud:
    """``n`` points drawn from the Gaussians themselves, each Gaussian chosen with probability ∝ its opacity.

    This is the geometry a splat shape shows: a large, faint Gaussian spreads few points over a wide
    region, a small opaque one many points on a tight patch, so scoring these points against a
    surface sample penalises the blotchy, streaked splats that the centres alone would hide.
    """
    rng = np.random.default_rng(seed)
    weights = splats.opacity.astype(np.float64)
    chosen = rng.choice(len(splats), size=n, p=weights / weights.sum())
    axes = rotation_matrices(splats.rotations[chosen].astype(np.float64))
    offsets = np.einsum("nij,nj->ni", axes, splats.scales[chosen] * rng.standard_normal((n, 3)))
    return PointCloud((splats.positions[chosen] + offsets).astype(np.float32))


# ---------------------------------------------------------------- dispatch

def convert(shape: Shape, target: str, points: int = 2048, resolution: int = 32,
            seed: int = 0, filled: bool = False) -> Shape:
    """Convert any shape to ``target`` ("points", "voxels", "splats" or "mesh").

    ``points`` is the point count for "points" (and the splat count for "splats"), ``resolution``
    the grid size for "voxels" (and for meshes made from points or splats, which go through a
    filled grid). Shapes are fitted into the grid (bounding box centred, longest side spanning it
    less one cell each side) before they are voxelised; other targets keep coordinates. Converting
    a shape to its own kind returns it unchanged (splats keep their file layout, so a read → convert
    → write round trip is bit-exact), except that a larger point cloud is subsampled to ``points``.
    """
    if target not in REPRESENTATIONS:
        raise ShapeError(f"unknown target representation {target!r}; use one of {', '.join(REPRESENTATIONS)}")
    rng = np.random.default_rng(seed)
    if target == "points":
        if isinstance(shape, Mesh):
            return sample_surface(shape, points, "area", seed)
        if isinstance(shape, VoxelGrid):
            return sample_surface(voxels_to_mesh(shape), points, "area", seed)
        cloud = splats_to_points(shape) if isinstance(shape, GaussianSplats) else shape
        return subsample(cloud, points, rng)
    if target == "voxels":
        if isinstance(shape, VoxelGrid):
            if shape.resolution == resolution:
                return shape
            shape = voxels_to_mesh(shape)
        if isinstance(shape, GaussianSplats):
            shape = splats_to_points(shape)
        return voxelize(_fitted_to_grid(shape, resolution), resolution, filled)
    if target == "splats":
        if isinstance(shape, GaussianSplats):
            return shape
        if isinstance(shape, VoxelGrid):
            shape = voxels_to_mesh(shape)
        return to_splats(shape, points, seed)
    if isinstance(shape, Mesh):
        return shape
    if isinstance(shape, VoxelGrid):
        return voxels_to_mesh(shape)
    return voxels_to_mesh(convert(shape, "voxels", points, resolution, seed, filled=True))


def _fitted_to_grid(shape: Mesh | PointCloud, resolution: int) -> Mesh | PointCloud:
    """The shape moved and scaled so its bounding box sits centred in the R³ grid over [-1, 1]³."""
    if isinstance(shape, Mesh):
        norm = grid_fit(shape.vertices[np.unique(shape.faces)], resolution)
        return Mesh(norm.apply(shape.vertices), shape.faces, shape.vertex_colors)
    norm = grid_fit(shape.points, resolution)
    return PointCloud(norm.apply(shape.points), shape.normals, shape.colors)
