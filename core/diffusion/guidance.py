"""Classifier-free guidance (Ho & Salimans 2022, arXiv:2207.12598), the null condition it needs, and the
noise levels it is applied at (Kynkäänniemi et al. 2024, arXiv:2404.07724)."""
from __future__ import annotations

from typing import Callable

import torch

Denoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def null_condition(cond: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The "no condition" stand-in of the denoiser contract: class index ``num_classes``, or a zero text row."""
    if cond.dtype in (torch.int64, torch.int32):
        return torch.full_like(cond, num_classes)
    return torch.zeros_like(cond)


def drop_condition(cond: torch.Tensor, null: torch.Tensor, probability: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace each row of ``cond`` by ``null`` with ``probability``: trains the unconditional model CFG needs."""
    drop = torch.rand(cond.shape[0], generator=generator, device="cpu").to(cond.device) < probability
    return torch.where(drop.view(-1, *([1] * (cond.ndim - 1))), null, cond)


def classifier_free_guidance(denoiser: Denoiser, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None,
                             null: torch.Tensor | None, scale: float) -> torch.Tensor:
    """ε = ε_u + w (ε_c − ε_u), with the conditional and unconditional passes in one batched forward.

    ``scale`` 1 is plain conditional sampling and 0 unconditional: both skip the doubled batch. The same
    combination serves v-prediction, which is linear in ε and x0 alike.
    """
    if cond is None or scale == 1.0:
        return denoiser(x, t, cond)
    if scale == 0.0:
        return denoiser(x, t, null)
    out_c, out_u = denoiser(torch.cat([x, x]), torch.cat([t, t]), torch.cat([cond, null])).chunk(2)
    return out_u + scale * (out_c - out_u)


def guidance_at(scale: float, sigma: float, interval: tuple[float, float] | None) -> float:
    """The guidance weight for a step at noise level ``sigma`` (σ = √((1 − ᾱ)/ᾱ)): ``scale`` inside
    ``interval`` = (σ_lo, σ_hi], 1 (plain conditional) outside it, ``scale`` everywhere without one.

    Kynkäänniemi et al. 2024 ("Applying guidance in a limited interval improves sample and distribution
    quality in diffusion models") found guidance at high noise levels pulls samples towards few modes,
    cutting their variety, and at low noise levels does little: limited to the middle it keeps the
    variety of unguided sampling and the fidelity of guided sampling.
    """
    if interval is None:
        return scale
    low, high = interval
    return scale if low < sigma <= high else 1.0
