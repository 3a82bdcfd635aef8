"""Latent diffusion sampling: noise → denoised latents → decoded shapes, with a preview hook.

Like MONAI's ``LatentDiffusionInferer`` the pipeline owns the autoencoder, the latent normalisation
and the scheduler; the denoiser is a bare network ``denoiser(x_t, t, cond)``. Like k-diffusion's
samplers it reports progress through one ``callback``: the live preview of the app is that hook.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from core.diffusion.guidance import classifier_free_guidance, guidance_at, null_condition
from core.diffusion.dpm_solver import sampling_scheduler
from core.diffusion.latent_norm import LatentNorm
from core.diffusion.parameterization import scheduler_output
from core.diffusion.schedulers import alpha_bar_at, predicted_x0, sigma_at


@dataclass(frozen=True)
class PipelineStep:
    """What the callback receives: after ``step`` of ``total``, the x0 estimate as latents and decoded
    (``decoded`` is None when the caller asked for progress only)."""

    step: int
    total: int
    latents: torch.Tensor
    decoded: torch.Tensor | None


class LatentDiffusionPipeline:
    """Turns (n, condition, guidance, steps, sampler, seed) into decoded shapes.

    ``latent_norm`` brings the training latents to unit scale (:class:`~core.diffusion.latent_norm.LatentNorm`:
    LDM's one factor, or per-element statistics): the denoiser works on ``latent_norm.normalize(z)`` and the
    decoder gets ``latent_norm.denormalize`` of the sampled latents back.
    """

    def __init__(self, autoencoder: nn.Module, denoiser: nn.Module, schedule: dict[str, Any],
                 latent_norm: LatentNorm, num_classes: int = 0) -> None:
        self.autoencoder = autoencoder.eval()
        self.denoiser = denoiser.eval()
        self.schedule = dict(schedule)
        self.latent_norm = latent_norm
        self.num_classes = num_classes

    @property
    def device(self) -> torch.device:
        """Where the networks live (samples come back on it)."""
        return next(self.denoiser.parameters()).device

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents → the autoencoder's output: points (B,P,3) or voxel logits (B,1,R,R,R)."""
        return self.autoencoder.decode(self.latent_norm.denormalize(latents))

    @torch.inference_mode()
    def __call__(self, n: int, cond: torch.Tensor | None = None, guidance: float = 1.0, steps: int = 20,
                 sampler: str = "dpmpp", seed: int = 0,
                 callback: Callable[[PipelineStep], None] | None = None, callback_every: int = 1,
                 decode_previews: bool = True, guidance_interval: tuple[float, float] | None = None) -> torch.Tensor:
        """Sample ``n`` shapes; ``callback`` gets the decoded x0 estimate every ``callback_every`` steps.

        ``guidance_interval`` = (σ_lo, σ_hi] limits the guidance to the steps whose noise level lies in it
        (:func:`~core.diffusion.guidance.guidance_at`); None guides every step.

        ``decode_previews=False`` skips decoding for callers that only track progress (a decode can
        cost as much as a denoising step).

        All noise is drawn from one CPU generator seeded with ``seed``, so a seed gives the same
        shapes on every run and every device.
        """
        device = self.device
        scheduler = sampling_scheduler(self.schedule, sampler)
        scheduler.set_timesteps(steps)
        alphas = scheduler.alphas_cumprod.to(torch.float64)
        generator = torch.Generator("cpu").manual_seed(seed)
        shape = (n, *self.autoencoder.latent_shape)
        x = (torch.randn(shape, generator=generator) * scheduler.init_noise_sigma).to(device)
        if cond is not None:
            cond = cond.to(device)
        null = None if cond is None else null_condition(cond, self.num_classes)
        total = len(scheduler.timesteps)
        for i, t in enumerate(scheduler.timesteps):
            model_input = scheduler.scale_model_input(x, t)
            scale = guidance_at(guidance, sigma_at(alphas, t), guidance_interval)
            output = classifier_free_guidance(self.denoiser, model_input, t.to(device).expand(n), cond, null, scale)
            alpha_bar = alpha_bar_at(alphas, t)
            if callback is not None and ((i + 1) % callback_every == 0 or i + 1 == total):
                x0 = predicted_x0(model_input, output, alpha_bar, self.schedule["prediction_type"])
                callback(PipelineStep(i + 1, total, x0, self.decode(x0) if decode_previews else None))
            output = scheduler_output(self.schedule["prediction_type"], model_input, output, alpha_bar ** 0.5,
                                      (1 - alpha_bar) ** 0.5)
            x = scheduler.step(output, t, x, generator=generator).prev_sample
        return self.decode(x)
