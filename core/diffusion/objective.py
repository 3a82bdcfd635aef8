"""The stage-2 training objective: noise a clean latent to a random step, regress ε or v, optionally Min-SNR weighted."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from core.diffusion.guidance import Denoiser, drop_condition
from core.diffusion.parameterization import parameterization, training_target

#: share of training examples whose condition is replaced by the null one, so the same network also
#: learns the unconditional model classifier-free guidance needs (Ho & Salimans 2022, sec. 3.2: 10–20 %)
COND_DROPOUT = 0.1


def min_snr_weight(alpha_bar: torch.Tensor, prediction_type: str, gamma: float) -> torch.Tensor:
    """Per-example loss weights that make the x̂0 error weigh min(SNR, γ) (Hang et al., ICCV 2023): the nearly
    clean steps, whose large SNR would dominate (and fight the noisy steps for) the gradient, are capped at γ
    (the paper's γ = 5)."""
    snr = alpha_bar / (1 - alpha_bar)
    return snr.clamp(max=gamma) / parameterization(prediction_type).x0_error_weight(snr)


def diffusion_loss(denoiser: Denoiser, z0: torch.Tensor, alphas_cumprod: torch.Tensor, prediction_type: str,
                   cond: torch.Tensor | None = None, null: torch.Tensor | None = None,
                   generator: torch.Generator | None = None, cond_dropout: float = COND_DROPOUT,
                   min_snr_gamma: float | None = None) -> torch.Tensor:
    """Mean squared error of the denoiser's ε or v on ``z0`` noised to uniform random steps (DDPM eq. 14),
    each example weighted by :func:`min_snr_weight` when ``min_snr_gamma`` is given.

    All randomness comes from ``generator`` (a CPU generator), so a step's loss is a function of the
    step's seed alone: that is what makes a resumed run retrace an uninterrupted one.
    """
    batch = z0.shape[0]
    t = torch.randint(0, len(alphas_cumprod), (batch,), generator=generator)
    noise = torch.randn(z0.shape, generator=generator, dtype=z0.dtype).to(z0.device)
    alpha_bar = alphas_cumprod[t].to(device=z0.device, dtype=z0.dtype).view(-1, *([1] * (z0.ndim - 1)))
    a, s = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    x_t = a * z0 + s * noise
    if cond is not None and null is not None and cond_dropout > 0:
        cond = drop_condition(cond, null, cond_dropout, generator)
    target = training_target(prediction_type, z0, noise, a, s)
    output = denoiser(x_t, t.to(z0.device), cond)
    if min_snr_gamma is None:
        return F.mse_loss(output.float(), target.float())
    per_example = (output.float() - target.float()).square().flatten(1).mean(dim=1)
    return (min_snr_weight(alpha_bar.flatten().float(), prediction_type, min_snr_gamma) * per_example).mean()
