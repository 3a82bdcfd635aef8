"""One shape in each representation a dataset serves, normalised as DESIGN.md prescribes.

Points are centred on their bounding box and scaled into the unit sphere; voxel grids hold the
shape's bounding box centred and fitted inside the [-1, 1]³ grid (less a margin); splats and meshes
are scaled into the unit sphere. The conversions themselves are ``core.data.conversions``; this
module only decides normalisation, point counts and seeds, per shape and batched over arrays.
"""
from __future__ import annotations

import numpy as np

from core.choices import SHAPE_REPRESENTATIONS as REPRESENTATIONS
from core.data import conversions
from core.shapes import GaussianSplats, Mesh, PointCloud, Shape, VoxelGrid

#: splats made per shape from a mesh or point cloud (the conversions' own default)
DEFAULT_SPLATS = 4096
#: grid through which sparse clouds are closed before splatting: the resolution whose gap closing
#: (:func:`core.data.conversions.close_point_gaps`) seals ModelNet10's 1,024-point spacing
SPARSE_CLOUD_RESOLUTION = 32


def shape_seed(seed: int, row: int) -> int:
    """The seed of one shape: differs per row, so shapes of one file get independent samples."""
    return int(np.random.SeedSequence([seed, row]).generate_state(1)[0])


def shape_points(shape: Shape, *, n_points: int = 2048, seed: int = 0) -> PointCloud:
    """``n_points`` surface points (with normals where known), centred and scaled into the unit sphere."""
    if isinstance(shape, GaussianSplats):
        shape = conversions.splats_to_points(shape)
    if isinstance(shape, PointCloud):
        index = resample_index(len(shape), n_points, seed)
        normals = None if shape.normals is None else shape.normals[index]
        return PointCloud(unit_sphere(shape.points[index][None])[0], normals)
    cloud = conversions.convert(shape, "points", points=n_points, seed=seed)  # area-weighted surface samples
    return PointCloud(unit_sphere(cloud.points[None])[0], cloud.normals)


def points_from_stack(stack: np.ndarray, seeds: list[int], n_points: int) -> np.ndarray:
    """:func:`shape_points` for a (B, P, 3) array of clouds at once (row b with ``seeds[b]``)."""
    count = stack.shape[1]
    if n_points >= count:  # every point is kept, so normalising the smaller array first is the same
        stack = unit_sphere(stack)
    index = np.stack([resample_index(count, n_points, s) for s in seeds])
    index += np.arange(len(stack))[:, None] * count
    picked = stack.reshape(-1, 3)[index]
    return picked if n_points >= count else unit_sphere(picked)


def resample_index(count: int, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` of ``count`` points, using every point as evenly as possible.

    They are concatenated random permutations cut to ``n``: fewer points than asked (the 1,024-point
    ModelNet10 clouds at 2,048) repeat each point ``n // count`` or ``n // count + 1`` times and
    never invent positions off the sampled surface; more points than asked give a uniform random
    subset. No jitter: duplicates are exact surface samples, while noise would bias the Chamfer
    distances the metrics compute against these clouds.
    """
    if count == n:
        return np.arange(n)
    repeats = -(-n // count)
    rng = np.random.default_rng(seed)
    return rng.permuted(np.broadcast_to(np.arange(count), (repeats, count)), axis=1).ravel()[:n]


def unit_sphere(points: np.ndarray) -> np.ndarray:
    """Batched :meth:`Normalization.unit_sphere` on (B, P, 3): bounding-box centre to 0, farthest point at 1."""
    coords = np.ascontiguousarray(points.transpose(0, 2, 1))  # min/max along a contiguous axis: ~10x faster
    center = (coords.min(axis=2) + coords.max(axis=2)) / 2
    centred = (points - center[:, None, :]).astype(np.float32, copy=False)
    radius = np.sqrt(np.einsum("bpi,bpi->bp", centred, centred).max(axis=1))[:, None, None]
    centred /= np.where(radius > 0, radius, 1)
    return centred


def shape_voxels(shape: Shape, *, resolution: int = 32, filled: bool = False) -> VoxelGrid:
    """An R³ grid of the shape with its bounding box centred and fitted (see :func:`core.data.grid_frame.grid_fit`).

    Voxel-native shapes at the asked resolution stay as they are; at another resolution they are
    re-voxelised from their marching-cubes surface (both as :func:`core.data.conversions.convert` does).
    """
    return conversions.convert(shape, "voxels", resolution=resolution, filled=filled)


def shape_splats(shape: Shape, *, n: int = DEFAULT_SPLATS, seed: int = 0) -> GaussianSplats:
    """Gaussian splats in the unit sphere: native splats rescaled, anything else splatted.

    A point cloud with fewer than ``n`` points is splatted from its closed surface instead (points →
    gap-closed filled voxels at :data:`SPARSE_CLOUD_RESOLUTION` → marching-cubes mesh → ``n`` surface
    splats): one splat per point would leave ModelNet10's 1,024-point clouds a sieve of occupied
    cells (652 of a chair's ~780 surface cells at 32³), and a splat autoencoder trained on sieves
    reached occupancy IoU 0.30 where the voxel one reached 0.88.
    """
    if isinstance(shape, GaussianSplats):
        return shape.normalized()[0]
    if isinstance(shape, PointCloud) and len(shape) < n:
        shape = conversions.convert(shape.normalized()[0], "mesh", resolution=SPARSE_CLOUD_RESOLUTION)
    if isinstance(shape, (Mesh, PointCloud)):
        shape = shape.normalized()[0]
    return conversions.convert(shape, "splats", points=n, seed=seed)


def shape_mesh(shape: Shape, *, resolution: int = 32) -> Mesh:
    """A triangle mesh in the unit sphere: meshes kept, grids by marching cubes, others via a filled grid."""
    if isinstance(shape, VoxelGrid):
        return conversions.convert(shape, "mesh")
    return conversions.convert(shape.normalized()[0], "mesh", resolution=resolution)


#: representation -> converter of one shape (keyword parameters with defaults) and result type
CONVERTERS = {"points": shape_points, "voxels": shape_voxels, "splats": shape_splats, "mesh": shape_mesh}
SHAPE_TYPES = {"points": PointCloud, "voxels": VoxelGrid, "splats": GaussianSplats, "mesh": Mesh}
_ARRAY_FIELDS = {PointCloud: ("points", "normals"), Mesh: ("vertices", "faces"), VoxelGrid: ("occupancy",),
                 GaussianSplats: ("positions", "sh_dc", "opacity_logit", "log_scales", "rotations", "sh_rest",
                                  "normals")}


def shape_arrays(shape: Shape) -> dict[str, np.ndarray]:
    """The arrays that rebuild a converted shape as ``type(shape)(**arrays)`` (grids in the default frame)."""
    return {name: getattr(shape, name) for name in _ARRAY_FIELDS[type(shape)] if getattr(shape, name) is not None}
