"""Reconstruction losses, pluggable per representation.

A loss is a callable ``(prediction, target) -> (loss scalar, logs)``. Grid autoencoders look theirs
up by name in :data:`GRID_LOSSES`; a new representation (e.g. Gaussian-splat grids) registers its
own with :func:`register_grid_loss` instead of editing the autoencoder.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from core.metrics.distances import chamfer_distance

LossFn = Callable[[Tensor, Tensor], tuple[Tensor, dict[str, float]]]

#: Projection directions of the sliced Wasserstein term (enough to see the density, cheap to sort).
SLICED_DIRECTIONS = 64


def fibonacci_sphere(n: int) -> Tensor:
    """``n`` quasi-uniform unit vectors (n, 3) on the sphere (the golden-angle spiral); deterministic."""
    i = torch.arange(n, dtype=torch.float32) + 0.5
    z = 1.0 - 2.0 * i / n
    r = torch.sqrt(1.0 - z * z)
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], dim=-1)


def sliced_wasserstein(a: Tensor, b: Tensor, directions: Tensor) -> Tensor:
    """Squared sliced 2-Wasserstein distance of equal-size clouds (B, P, 3) -> (B,).

    An EMD-like term (Bonneel et al. 2015; used for point clouds by Nguyen et al. 2021): unlike
    Chamfer it compares densities, so points spread evenly instead of clumping on easy regions,
    and it costs only a sort per direction.
    """
    proj_a = torch.sort(a @ directions.t(), dim=1).values
    proj_b = torch.sort(b @ directions.t(), dim=1).values
    return (proj_a - proj_b).square().mean(dim=(1, 2))


class PointLoss:
    """Chamfer distance (PointFlow's, squared) + ``uniformity_weight`` x sliced Wasserstein."""

    def __init__(self, uniformity_weight: float) -> None:
        self.uniformity_weight = uniformity_weight
        self.directions = fibonacci_sphere(SLICED_DIRECTIONS)

    def __call__(self, pred: Tensor, target: Tensor) -> tuple[Tensor, dict[str, float]]:
        pred, target = pred.float(), target.float()
        chamfer = chamfer_distance(pred, target).mean()
        logs = {"recon": chamfer.item(), "chamfer": chamfer.item()}
        if self.uniformity_weight == 0 or pred.shape[1] != target.shape[1]:
            return chamfer, logs
        uniform = sliced_wasserstein(pred, target, self.directions.to(pred.device)).mean()
        logs["uniformity"] = uniform.item()
        return chamfer + self.uniformity_weight * uniform, logs


def _occupancy_logs(logits: Tensor, target: Tensor) -> dict[str, float]:
    """Intersection over union of the thresholded occupancy (the voxel metric users read)."""
    pred = logits > 0
    occupied = target > 0.5
    union = (pred | occupied).sum().clamp(min=1)
    return {"iou": ((pred & occupied).sum() / union).item()}


def bce_loss(logits: Tensor, target: Tensor) -> tuple[Tensor, dict[str, float]]:
    """Plain binary cross-entropy on occupancy logits."""
    loss = F.binary_cross_entropy_with_logits(logits.float(), target.float())
    return loss, {"recon": loss.item(), **_occupancy_logs(logits, target)}


def focal_loss(gamma: float = 2.0, alpha: float = 0.75) -> LossFn:
    """Focal loss (Lin et al., ICCV 2017) on occupancy logits.

    ``-alpha_t (1 - p_t)^gamma log p_t``: easy empty voxels (the ~94 % majority) are down-weighted by
    ``(1 - p_t)^gamma`` and occupied ones weighted ``alpha`` against ``1 - alpha``.
    """

    def loss_fn(logits: Tensor, target: Tensor) -> tuple[Tensor, dict[str, float]]:
        logits, target = logits.float(), target.float()
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        p_t = torch.exp(-bce)
        alpha_t = alpha * target + (1 - alpha) * (1 - target)
        loss = (alpha_t * (1 - p_t).pow(gamma) * bce).mean()
        return loss, {"recon": loss.item(), **_occupancy_logs(logits, target)}

    return loss_fn


#: name -> factory(cfg) -> loss; the grid autoencoder picks ``cfg.loss`` (or the representation default).
GRID_LOSSES: dict[str, Callable[..., LossFn]] = {
    "bce": lambda cfg: bce_loss,
    "focal": lambda cfg: focal_loss(cfg.focal_gamma, cfg.focal_alpha),
}
DEFAULT_GRID_LOSS = {"voxels": "focal"}


def register_grid_loss(name: str, factory: Callable[..., LossFn], default_for: str | None = None) -> None:
    """Add a grid loss ``factory(cfg) -> loss_fn``; optionally make it a representation's default."""
    GRID_LOSSES[name] = factory
    if default_for is not None:
        DEFAULT_GRID_LOSS[default_for] = name


def grid_loss(cfg) -> LossFn:
    """The loss a grid autoencoder of ``cfg`` (an AutoencoderConfig) trains with."""
    name = cfg.loss or DEFAULT_GRID_LOSS.get(cfg.representation)
    if name not in GRID_LOSSES:
        raise ValueError(f"no grid loss {name!r} for {cfg.representation}; known: {sorted(GRID_LOSSES)}")
    return GRID_LOSSES[name](cfg)
