"""Every distribution metric of a sample set against a reference set, as one dict with the papers' keys."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from core.metrics.distances import pairwise_chamfer, pairwise_emd, pairwise_iou, pairwise_voxel_chamfer
from core.metrics.distributions import jsd_point_sets, jsd_voxel_sets, mmd_cov, one_nn_accuracy

POINT_METRICS = ("cd", "emd", "jsd")
VOXEL_METRICS = ("cd", "iou", "jsd")

#: on_progress(stage, done, total)
StageProgress = Callable[[str, int, int], None]


#: cache(name, compute) -> Tensor: lets a caller keep the ref x ref matrix between evaluations
MatrixCache = Callable[[str, Callable[[], Tensor]], Tensor]


def _deduplicated(pairwise: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``pairwise`` computed on the distinct shapes of each set only, then expanded.

    A collapsed generator's copies of one shape cost one row instead of n.
    """
    def distinct(shapes: Tensor) -> tuple[Tensor, Tensor]:
        unique, inverse = torch.unique(shapes.flatten(1), dim=0, return_inverse=True)
        return unique.view(-1, *shapes.shape[1:]), inverse

    def wrapped(x: Tensor, y: Tensor, on_progress) -> Tensor:
        ux, ix = distinct(x)
        if x is y:  # keep the identity so the pairwise function can use symmetry
            return pairwise(ux, ux, on_progress)[ix][:, ix]
        uy, iy = distinct(y)
        return pairwise(ux, uy, on_progress)[ix][:, iy]

    return wrapped


@dataclass
class SetMetrics:
    """The scores of a sample set (the papers' keys) and, per distance, each sample's distance to its
    nearest reference, in sample order (what the app's histogram draws)."""

    scores: dict[str, float] = field(default_factory=dict)
    nearest: dict[str, list[float]] = field(default_factory=dict)

    def add(self, other: SetMetrics) -> None:
        """Take in the scores and nearest distances of another distance."""
        self.scores.update(other.scores)
        self.nearest.update(other.nearest)


def _set_metrics(suffix: str, pairwise: Callable[[Tensor, Tensor, Callable], Tensor], samples, refs,
                 on_progress: StageProgress | None, cache: MatrixCache | None = None) -> SetMetrics:
    """MMD/COV/1-NNA from one pairwise distance, as PointFlow's ``compute_all_metrics`` builds them."""
    def stage(name: str):
        return None if on_progress is None else (lambda done, total: on_progress(f"{suffix} {name}", done, total))

    pairwise = _deduplicated(pairwise)
    d_rs = pairwise(refs, samples, stage("ref×sample"))
    mmd, cov = mmd_cov(d_rs.T)
    ref_ref = lambda: pairwise(refs, refs, stage("ref×ref"))  # noqa: E731
    d_rr = ref_ref() if cache is None else cache(f"ref-ref-{suffix}", ref_ref)
    d_ss = pairwise(samples, samples, stage("sample×sample"))
    scores = {f"MMD-{suffix}": mmd, f"COV-{suffix}": cov, f"1-NNA-{suffix}": one_nn_accuracy(d_rr, d_rs, d_ss)}
    return SetMetrics(scores, {suffix: d_rs.min(dim=0).values.tolist()})


def point_set_metrics(samples: Tensor, refs: Tensor, metrics: tuple[str, ...] = POINT_METRICS,
                      on_progress: StageProgress | None = None, cache: MatrixCache | None = None) -> SetMetrics:
    """MMD/COV/1-NNA for CD and EMD and JSD of normalised cloud sets (n,P,3) vs (m,P,3).

    Score keys: ``MMD-CD``, ``COV-CD``, ``1-NNA-CD``, ``MMD-EMD``, ``COV-EMD``, ``1-NNA-EMD``, ``JSD``;
    nearest-reference distances under ``CD`` and ``EMD``.
    """
    out = SetMetrics()
    if "cd" in metrics:
        out.add(_set_metrics("CD", lambda x, y, p: pairwise_chamfer(x, y, on_progress=p), samples, refs,
                             on_progress, cache))
    if "emd" in metrics:
        out.add(_set_metrics("EMD", lambda x, y, p: pairwise_emd(x, y, on_progress=p), samples, refs,
                             on_progress, cache))
    if "jsd" in metrics:
        out.scores["JSD"] = jsd_point_sets(samples, refs)
    return out


def voxel_set_metrics(samples: Tensor, refs: Tensor, metrics: tuple[str, ...] = VOXEL_METRICS,
                      on_progress: StageProgress | None = None, cache: MatrixCache | None = None) -> SetMetrics:
    """The KAIST voxel evaluation (JSD of summed grids; MMD/COV by Chamfer between occupied-voxel
    centres) plus 1-NNA, and MMD/COV/1-NNA with 1 - IoU as the distance. Grids (n,R,R,R), (m,R,R,R).

    Score keys: ``JSD``, ``MMD-CD``, ``COV-CD``, ``1-NNA-CD``, ``MMD-IoU``, ``COV-IoU``, ``1-NNA-IoU``;
    nearest-reference distances under ``CD`` and ``IoU`` (the latter as the distance 1 - IoU).
    """
    out = SetMetrics()
    if "cd" in metrics:
        out.add(_set_metrics("CD", lambda x, y, p: pairwise_voxel_chamfer(x, y, on_progress=p), samples, refs,
                             on_progress, cache))
    if "iou" in metrics:
        out.add(_set_metrics("IoU", lambda x, y, p: 1.0 - pairwise_iou(x, y), samples, refs, on_progress, cache))
    if "jsd" in metrics:
        out.scores["JSD"] = jsd_voxel_sets(samples, refs)
    return out


def empty_grids(grids: Tensor) -> Tensor:
    """Indices of grids without an occupied voxel (their Chamfer distance is undefined)."""
    return torch.nonzero(grids.flatten(1).sum(1) == 0).flatten()
