"""Distribution metrics between a set of generated shapes and a set of reference shapes.

MMD, COV and 1-NNA follow PointFlow's ``metrics/evaluation_metrics.py`` (Yang et al., ICCV 2019:
``lgan_mmd_cov`` and ``knn`` with k=1, as called by ``compute_all_metrics``), the definitions PVD
and LION report. JSD over points follows Achlioptas et al. (ICML 2018) as PointFlow's
``jsd_between_point_cloud_sets``; JSD over voxels follows the KAIST CS492(D) 3D-volume project's
``eval.py`` (summed occupancy grids).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

#: Achlioptas et al.'s JSD grid: 28^3 cell centres spanning [-0.5, 0.5], clipped to the radius-0.5 ball.
JSD_RESOLUTION = 28
#: KAIST eval.py adds this to both distributions before the KL terms (avoids log 0).
KAIST_JSD_EPSILON = 1e-10


def mmd_cov(dist: Tensor) -> tuple[float, float]:
    """PointFlow's ``lgan_mmd_cov`` of a (n_samples, n_ref) distance matrix -> (MMD, COV).

    MMD: mean over references of the distance to their nearest sample (fidelity).
    COV: share of references that are the nearest reference of at least one sample (diversity);
    a set of copies of one shape covers 1/n_ref.
    """
    mmd = dist.min(dim=0).values.mean().item()
    cov = dist.argmin(dim=1).unique().numel() / dist.shape[1]
    return mmd, cov


def union_distances(d_ref_ref: Tensor, d_ref_sample: Tensor, d_sample_sample: Tensor) -> Tensor:
    """Distances over the union of references and samples (references first), each shape's to itself infinite,
    so a row's minimum is that shape's nearest other shape (leave-one-out)."""
    full = torch.cat([torch.cat([d_ref_ref, d_ref_sample], 1), torch.cat([d_ref_sample.T, d_sample_sample], 1)], 0)
    return full + torch.diag(torch.full((full.shape[0],), float("inf")))


def nearest_in_own_set(d_ref_ref: Tensor, d_ref_sample: Tensor, d_sample_sample: Tensor) -> Tensor:
    """Per shape (references first, then samples): is its nearest other shape in its own set?

    Ties go to the lower index, like ``topk`` in PointFlow's ``knn``.
    """
    full = union_distances(d_ref_ref, d_ref_sample, d_sample_sample)
    label = torch.cat([torch.ones(d_ref_ref.shape[0]), torch.zeros(d_sample_sample.shape[0])])
    return label[full.argmin(dim=0)] == label


def one_nn_accuracy(d_ref_ref: Tensor, d_ref_sample: Tensor, d_sample_sample: Tensor) -> float:
    """Leave-one-out 1-NN accuracy over the union of references and samples (PointFlow's ``knn``, k=1).

    Each shape is labelled by its nearest other shape; 50 % means the sets are indistinguishable,
    100 % that every shape's nearest neighbour lies in its own set (over-fitting or collapse
    lowers it below 50 %, garbage raises it to 100 %).
    """
    return nearest_in_own_set(d_ref_ref, d_ref_sample, d_sample_sample).double().mean().item()


def one_nn_sides(d_ref_ref: Tensor, d_ref_sample: Tensor, d_sample_sample: Tensor) -> tuple[float, float]:
    """1-NNA's two halves, (references, samples): the share of each set whose nearest other shape is its own.

    They tell apart two failures one 1-NNA mixes: samples too alike (their own half high, the references'
    near 50 %) and references the samples miss (the references' half high).
    """
    own = nearest_in_own_set(d_ref_ref, d_ref_sample, d_sample_sample).double()
    n_ref = d_ref_ref.shape[0]
    return own[:n_ref].mean().item(), own[n_ref:].mean().item()


def _jsd_grid(resolution: int) -> tuple[Tensor, Tensor]:
    """Cell centres of the unit-cube grid (``unit_cube_grid_point_cloud``) and which lie in the 0.5 ball."""
    axis = torch.arange(resolution, dtype=torch.float64) / (resolution - 1) - 0.5
    centres = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(-1, 3)
    return centres, centres.norm(dim=1) <= 0.5


def occupancy_counts(points: Tensor, resolution: int = JSD_RESOLUTION) -> Tensor:
    """How many points of the set (N,P,3) fall nearest to each in-ball grid cell (``grid_counters``).

    The nearest centre in the full cube grid is a rounding; points whose rounded cell lies outside
    the ball (the clipped corners) are matched against the in-ball centres exactly.
    """
    centres, inside = _jsd_grid(resolution)
    flat = points.reshape(-1, 3).double()
    ijk = torch.round((flat + 0.5) * (resolution - 1)).clamp(0, resolution - 1).long()
    cell = (ijk[:, 0] * resolution + ijk[:, 1]) * resolution + ijk[:, 2]
    kept = centres[inside]
    remap = torch.full((resolution ** 3,), -1, dtype=torch.long)
    remap[inside] = torch.arange(kept.shape[0])
    index = remap[cell]
    outside = index < 0
    if outside.any():
        index[outside] = torch.cdist(flat[outside], kept).argmin(dim=1)
    return torch.bincount(index, minlength=kept.shape[0]).double()


def jensen_shannon_divergence(p: Tensor, q: Tensor, base: float = 2.0) -> float:
    """JSD of two non-negative histograms (normalised here), in bits by default, 0*log 0 = 0."""
    p, q = p.double().flatten() / p.sum(), q.double().flatten() / q.sum()
    m = (p + q) / 2

    def kl(a: Tensor, b: Tensor) -> Tensor:
        keep = a > 0
        return (a[keep] * torch.log(a[keep] / b[keep])).sum()

    return ((kl(p, m) + kl(q, m)) / 2 / math.log(base)).item()


def jsd_point_sets(samples: Tensor, refs: Tensor, resolution: int = JSD_RESOLUTION) -> float:
    """PointFlow's ``jsd_between_point_cloud_sets``: JSD (bits) of the two sets' 28^3 point-count grids.

    The sets should be normalised into [-0.5, 0.5] (the default bounding-box normalisation does so).
    """
    return jensen_shannon_divergence(occupancy_counts(samples, resolution), occupancy_counts(refs, resolution))


def jsd_voxel_sets(samples: Tensor, refs: Tensor) -> float:
    """KAIST ``eval.py``'s JSD of two voxel sets (N,R,R,R): summed occupancy, normalised, natural log, +1e-10."""
    p = samples.double().sum(0)
    q = refs.double().sum(0)
    p, q = p / p.sum() + KAIST_JSD_EPSILON, q / q.sum() + KAIST_JSD_EPSILON
    m = (p + q) / 2
    return (((p * torch.log(p / m)).sum() + (q * torch.log(q / m)).sum()) / 2).item()


def voxel_centres(grid: Tensor) -> Tensor:
    """Occupied-voxel indices of one grid (R,R,R) scaled by R-1 into [0,1]^3 (KAIST ``voxel_to_pointcloud``).

    KAIST hard-codes R=64; the real grid size is used here, so 32^3 and 64^3 sets compare alike.
    """
    return torch.nonzero(grid).float() / (grid.shape[-1] - 1)
