"""Every distribution metric of a sample set against a reference set, as one dict with the papers' keys."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from core.metrics.distances import pairwise_chamfer, pairwise_chamfer_ragged, pairwise_emd, pairwise_iou
from core.metrics.distributions import (jsd_point_sets, jsd_voxel_sets, mmd_cov, one_nn_accuracy,
                                        voxel_centres)

POINT_METRICS = ("cd", "emd", "jsd")
VOXEL_METRICS = ("cd", "iou", "jsd")

#: on_progress(stage, done, total)
StageProgress = Callable[[str, int, int], None]


def _set_metrics(suffix: str, pairwise: Callable[[Tensor, Tensor, Callable], Tensor], samples, refs,
                 on_progress: StageProgress | None) -> dict[str, float]:
    """MMD/COV/1-NNA from one pairwise distance, as PointFlow's ``compute_all_metrics`` builds them."""
    def stage(name: str):
        return None if on_progress is None else (lambda done, total: on_progress(f"{suffix} {name}", done, total))

    d_rs = pairwise(refs, samples, stage("ref×sample"))
    mmd, cov = mmd_cov(d_rs.T)
    d_rr = pairwise(refs, refs, stage("ref×ref"))
    d_ss = pairwise(samples, samples, stage("sample×sample"))
    return {f"MMD-{suffix}": mmd, f"COV-{suffix}": cov, f"1-NNA-{suffix}": one_nn_accuracy(d_rr, d_rs, d_ss)}


def point_set_metrics(samples: Tensor, refs: Tensor, metrics: tuple[str, ...] = POINT_METRICS,
                      on_progress: StageProgress | None = None) -> dict[str, float]:
    """MMD/COV/1-NNA for CD and EMD and JSD of normalised cloud sets (n,P,3) vs (m,P,3).

    Keys: ``MMD-CD``, ``COV-CD``, ``1-NNA-CD``, ``MMD-EMD``, ``COV-EMD``, ``1-NNA-EMD``, ``JSD``.
    """
    out: dict[str, float] = {}
    if "cd" in metrics:
        out.update(_set_metrics("CD", lambda x, y, p: pairwise_chamfer(x, y, on_progress=p), samples, refs,
                                on_progress))
    if "emd" in metrics:
        out.update(_set_metrics("EMD", lambda x, y, p: pairwise_emd(x, y, on_progress=p), samples, refs,
                                on_progress))
    if "jsd" in metrics:
        out["JSD"] = jsd_point_sets(samples, refs)
    return out


def voxel_set_metrics(samples: Tensor, refs: Tensor, metrics: tuple[str, ...] = VOXEL_METRICS,
                      on_progress: StageProgress | None = None) -> dict[str, float]:
    """The KAIST voxel evaluation (JSD of summed grids; MMD/COV by Chamfer between occupied-voxel
    centres) plus 1-NNA, and MMD/COV/1-NNA with 1 - IoU as the distance. Grids (n,R,R,R), (m,R,R,R).

    Keys: ``JSD``, ``MMD-CD``, ``COV-CD``, ``1-NNA-CD``, ``MMD-IoU``, ``COV-IoU``, ``1-NNA-IoU``.
    """
    out: dict[str, float] = {}
    if "cd" in metrics:
        sample_pts = [voxel_centres(g) for g in samples]
        ref_pts = [voxel_centres(g) for g in refs]
        by_index = {id(samples): sample_pts, id(refs): ref_pts}
        out.update(_set_metrics("CD", lambda x, y, p: pairwise_chamfer_ragged(by_index[id(x)], by_index[id(y)],
                                                                               on_progress=p),
                                samples, refs, on_progress))
    if "iou" in metrics:
        out.update(_set_metrics("IoU", lambda x, y, p: 1.0 - pairwise_iou(x, y), samples, refs, on_progress))
    if "jsd" in metrics:
        out["JSD"] = jsd_voxel_sets(samples, refs)
    return out


def empty_grids(grids: Tensor) -> Tensor:
    """Indices of grids without an occupied voxel (their Chamfer distance is undefined)."""
    return torch.nonzero(grids.flatten(1).sum(1) == 0).flatten()
