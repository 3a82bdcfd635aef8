"""Networks of the two-stage latent diffusion models: stage-1 autoencoders and stage-2 denoisers.

The contract the trainer, pipeline and checkpoints code against::

    from core.models import AutoencoderConfig, DenoiserConfig, build_autoencoder, build_denoiser

    AutoencoderConfig      # dataclass; to_dict()/from_dict() JSON-safe (a run's config.json)
        representation: "points" | "voxels" | "splats";  kind: "ae" | "vae" | "vqvae"
        n_points=2048 (points), resolution=32 (grids; 64 allowed), in_channels=1 (voxels; splats more),
        width/depth/heads/channel_mults, decoder_queries (points),
        latent_tokens/latent_channels/latent_resolution, latent_layout ("grid" | "tokens": grids' latent as (K, C)),
        loss ("" = representation default), kl_weight, codebook_size=512, commitment_beta=0.25,
        ema_decay=0.99, dead_code_threshold, gradient_checkpointing
    DenoiserConfig         # dataclass; to_dict()/from_dict()
        latent_shape: tuple; cond: "none" | "class" | "text"; num_classes; text_dim=384;
        width/depth/heads/mlp_ratio/channel_mults/text_tokens, patch_size (UNet); gradient_checkpointing

    ae = build_autoencoder(cfg)
    ae.latent_shape -> tuple                 # per sample: (K, C) for points and token grids, (C, r, r, r) for grids
    ae.encode(x) -> z                        # deterministic: VAE -> mean, VQ-VAE -> quantised latents
    ae.decode(z) -> x_hat                    # points (B, P, 3); grids: logits/values (B, C, R, R, R)
    ae(x) -> AutoencoderOutput(recon, loss, logs)   # full stage-1 loss; logs: loss, recon, chamfer |
                                             # iou, kl, vq, codebook_usage, perplexity as applicable
        x: points (B, P, 3) in the unit sphere; voxels (B, 1, R, R, R) float in {0, 1}

    net = build_denoiser(cfg)                # 2-D latent_shape -> DiT, 4-D -> 3D UNet
    net(x_t (B, *latent_shape), t (B,) long or float, cond=None) -> (B, *latent_shape)
        cond "class": LongTensor (B,); value num_classes is the null class (CFG dropout)
        cond "text":  FloatTensor (B, text_dim) sentence embeddings; an all-zero row is the null prompt

Sizes: :mod:`core.models.presets` (``tiny`` / ``small`` / ``base``). New grid representations plug
their reconstruction loss in with :func:`core.models.losses.register_grid_loss`.
"""
from __future__ import annotations

from torch import nn

from core.models.autoencoder import Autoencoder, AutoencoderOutput
from core.models.config import AutoencoderConfig, DenoiserConfig
from core.models.dit import DiT
from core.models.grid_autoencoder import GridAutoencoder
from core.models.point_autoencoder import PointAutoencoder
from core.models.presets import autoencoder_config, denoiser_config
from core.models.unet import UNet3d

__all__ = [
    "Autoencoder",
    "AutoencoderConfig",
    "AutoencoderOutput",
    "DenoiserConfig",
    "DiT",
    "UNet3d",
    "autoencoder_config",
    "build_autoencoder",
    "build_denoiser",
    "denoiser_config",
]


def build_autoencoder(cfg: AutoencoderConfig) -> Autoencoder:
    """The stage-1 network for ``cfg.representation``: a set AE for points, a conv AE for grids."""
    if cfg.representation == "points":
        return PointAutoencoder(cfg)
    return GridAutoencoder(cfg)


def build_denoiser(cfg: DenoiserConfig) -> nn.Module:
    """The stage-2 network for ``cfg.latent_shape``: (K, C) tokens -> DiT, (C, r, r, r) grids -> UNet."""
    if len(cfg.latent_shape) == 2:
        return DiT(cfg)
    return UNet3d(cfg)
