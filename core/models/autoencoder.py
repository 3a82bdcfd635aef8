"""The stage-1 autoencoder skeleton every representation shares.

A representation supplies three pieces: ``features(x)`` (encoder, channel-last output),
``decode(z)`` and a reconstruction loss; this base class wires them to the bottleneck
(``ae`` / ``vae`` / ``vqvae``) so the three kinds behave the same for points, voxels and splats.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from core.models.bottleneck import build_bottleneck
from core.models.config import AutoencoderConfig
from core.models.losses import LossFn


@dataclass
class AutoencoderOutput:
    """What one training forward returns: the reconstruction, the total loss and float logs."""

    recon: Tensor
    loss: Tensor
    logs: dict[str, float] = field(default_factory=dict)


class Autoencoder(nn.Module):
    """Encoder features -> bottleneck -> latent -> decoder, with the full stage-1 loss in ``forward``."""

    def __init__(self, cfg: AutoencoderConfig, loss_fn: LossFn) -> None:
        super().__init__()
        self.config = cfg
        self.bottleneck = build_bottleneck(cfg)
        self.loss_fn = loss_fn

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one sample's latent, e.g. (K, C) tokens or (C, r, r, r) grids."""
        raise NotImplementedError

    def features(self, x: Tensor) -> Tensor:
        """Encoder output before the bottleneck, channels last."""
        raise NotImplementedError

    def to_latent(self, h: Tensor) -> Tensor:
        """Channel-last bottleneck output -> latent layout (identity for tokens)."""
        return h

    def decode(self, z: Tensor) -> Tensor:
        """Latents (B, *latent_shape) -> reconstruction."""
        raise NotImplementedError

    def encode(self, x: Tensor) -> Tensor:
        """Deterministic latents (VAE: the posterior mean; VQ-VAE: the quantised codes)."""
        return self.to_latent(self.bottleneck.encode(self.features(x)))

    def forward(self, x: Tensor) -> AutoencoderOutput:
        """Reconstruct ``x`` through the (sampled / quantised) latent; loss = reconstruction + regulariser."""
        z, reg_loss, logs = self.bottleneck(self.features(x))
        latent = self.to_latent(z)
        if self.training and self.config.latent_noise > 0:
            latent = with_latent_noise(latent, self.config.latent_noise)
        recon = self.decode(latent)
        rec_loss, rec_logs = self.loss_fn(recon, x)
        loss = rec_loss + reg_loss
        return AutoencoderOutput(recon, loss, {"loss": loss.item(), **rec_logs, **logs})


def with_latent_noise(latent: Tensor, max_strength: float) -> Tensor:
    """``latent`` plus Gaussian noise of std ``s * std(latent)``, ``s ~ U(0, max_strength)`` per shape.

    Why: a denoiser's samples are never exactly on the encoder's latents, and a decoder that only saw
    clean latents turns small errors into detached pieces (measured on the voxel model: latent noise
    of 0.5 std takes the decoded train chairs in one piece from 81 % to 56 %). The noise is scaled by
    the batch's own (detached) latent std, so the encoder cannot escape it by growing its latents.
    """
    strength = max_strength * torch.rand((latent.shape[0],) + (1,) * (latent.dim() - 1), device=latent.device)
    return latent + strength * latent.detach().std() * torch.randn_like(latent)
