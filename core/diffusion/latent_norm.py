"""How an autoencoder's latents are brought to the denoiser's unit scale, and back for the decoder.

``global`` multiplies every latent by one factor, 1/std of all training latents (LDM, Rombach et al. 2022,
sec. 4.3.2): what every run did before this choice existed, and what a checkpoint without per-element
statistics means. ``element`` shifts each latent element (token × channel, or channel × cell) by its training
mean and divides it by its training std, so every element the denoiser sees has mean 0 and std 1, as EDM2
normalises its latents per channel (Karras et al. 2024, "Analyzing and Improving the Training Dynamics of
Diffusion Models", sec. 2). It matters where a latent's elements are uneven: ``builtin:points``' train latents,
scaled globally, have per-element means up to 2.2 and stds from 0.24 to 1.17, so the variation between shapes
that the denoiser must generate is half the unit noise it is trained against, and uneven across elements.

The statistics travel in the denoiser checkpoint's JSON manifest (``data``), as the global factor always did.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from core.choices import LATENT_NORMS

#: the smallest std an element is divided by: a constant element (a dead channel) is shifted, not blown up
MIN_ELEMENT_STD = 1e-3


@dataclass(frozen=True)
class LatentNorm:
    """``normalize(z) = (z - shift) * scale``, element-wise; ``shift`` and ``scale`` are one latent's shape
    (or scalars for the global factor)."""

    shift: torch.Tensor
    scale: torch.Tensor

    @property
    def mode(self) -> str:
        """``"global"`` for one factor, ``"element"`` for per-element statistics."""
        return "global" if self.scale.dim() == 0 else "element"

    def normalize(self, latents: torch.Tensor) -> torch.Tensor:
        """Autoencoder latents → what the denoiser works on."""
        return (latents - self.shift.to(latents)) * self.scale.to(latents)

    def denormalize(self, latents: torch.Tensor) -> torch.Tensor:
        """The denoiser's latents → what the decoder reads."""
        return latents / self.scale.to(latents) + self.shift.to(latents)

    @classmethod
    def global_factor(cls, factor: float) -> LatentNorm:
        """LDM's normalisation: every element times ``factor`` (1/std of the training latents)."""
        if not factor > 0:
            raise ValueError(f"latent scale factor must be positive, got {factor}")
        return cls(torch.zeros((), dtype=torch.float64), torch.tensor(float(factor), dtype=torch.float64))

    @classmethod
    def fit(cls, latents: torch.Tensor, mode: str = "global") -> LatentNorm:
        """The normalisation of ``mode`` that brings the training ``latents`` (N, ...) to unit scale."""
        if mode not in LATENT_NORMS:
            raise ValueError(f"unknown latent normalisation {mode!r}; use one of {', '.join(LATENT_NORMS)}")
        data = latents.double()
        if mode == "global":
            return cls.global_factor(float(1.0 / data.std().clamp_min(1e-8)))
        return cls(data.mean(0).float(), (1.0 / data.std(0).clamp_min(MIN_ELEMENT_STD)).float())

    def to_stats(self) -> dict[str, Any]:
        """The manifest's ``data`` entries: ``scale_factor`` and ``latent_std`` (the global factor) for both
        modes, so older readers and the manifest show the latents' scale; ``latent_shift`` / ``latent_scale``
        (nested lists of one latent's shape) for ``element``."""
        if self.mode == "global":
            factor = float(self.scale)
            return {"scale_factor": factor, "latent_std": 1.0 / factor}
        spread = float((1.0 / self.scale.double()).pow(2).mean().sqrt())
        return {"scale_factor": 1.0 / spread, "latent_std": spread, "latent_norm": "element",
                "latent_shift": self.shift.tolist(), "latent_scale": self.scale.tolist()}

    @classmethod
    def from_stats(cls, stats: dict[str, Any], latent_shape: tuple[int, ...]) -> LatentNorm:
        """Read back what :meth:`to_stats` wrote; a checkpoint without ``latent_norm`` is global. A ValueError
        says what is wrong (statistics of another latent shape, a zero or missing factor)."""
        if stats.get("latent_norm", "global") == "global":
            return cls.global_factor(float(stats["scale_factor"]))
        shift, scale = torch.tensor(stats["latent_shift"]), torch.tensor(stats["latent_scale"])
        if tuple(shift.shape) != tuple(latent_shape) or tuple(scale.shape) != tuple(latent_shape):
            raise ValueError(f"latent statistics of shape {tuple(shift.shape)} / {tuple(scale.shape)} do not fit "
                             f"the autoencoder's latent {tuple(latent_shape)}")
        if not bool((scale > 0).all() and torch.isfinite(scale).all() and torch.isfinite(shift).all()):
            raise ValueError("latent statistics hold a zero, negative or non-finite entry")
        return cls(shift, scale)
