"""Named network sizes: ``tiny`` (CI, seconds), ``small`` (2 CPU cores, <= 1 hour), ``base`` (GPU).

The dictionaries are overrides of :class:`AutoencoderConfig` / :class:`DenoiserConfig` defaults;
:func:`autoencoder_config` and :func:`denoiser_config` apply them plus the caller's choices.
Measured times are in :data:`MEASURED` (see ``benchmarks/models_step_times.py`` for how).
"""
from __future__ import annotations

from typing import Any

from core.models.config import AutoencoderConfig, DenoiserConfig

PRESETS = ("tiny", "small", "base")

_GRID_AE = {
    "tiny": {"width": 8, "depth": 1, "channel_mults": (1, 2), "latent_channels": 4, "latent_resolution": 8},
    "small": {"width": 16, "depth": 1, "channel_mults": (1, 2), "latent_channels": 4, "latent_resolution": 8},
    "base": {"width": 64, "depth": 2, "channel_mults": (1, 2, 2), "latent_channels": 4, "latent_resolution": 8},
}

#: preset -> representation -> AutoencoderConfig overrides.
AUTOENCODER_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "tiny": {
        "points": {"width": 32, "depth": 1, "heads": 2, "latent_tokens": 16, "latent_channels": 8},
        "voxels": _GRID_AE["tiny"],
        "splats": _GRID_AE["tiny"],
    },
    "small": {
        "points": {"width": 96, "depth": 1, "heads": 4, "latent_tokens": 32, "latent_channels": 8},
        "voxels": _GRID_AE["small"],
        "splats": _GRID_AE["small"],
    },
    "base": {
        "points": {"width": 256, "depth": 3, "heads": 8, "latent_tokens": 64, "latent_channels": 16},
        "voxels": _GRID_AE["base"],
        "splats": _GRID_AE["base"],
    },
}

#: preset -> network ("dit" for (K, C) latents, "unet" for (C, r, r, r)) -> DenoiserConfig overrides.
DENOISER_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "tiny": {
        "dit": {"width": 64, "depth": 2, "heads": 4, "mlp_ratio": 2.0},
        "unet": {"width": 16, "depth": 1, "heads": 2, "channel_mults": (1, 1), "patch_size": 2},
    },
    "small": {
        "dit": {"width": 128, "depth": 4, "heads": 4, "mlp_ratio": 4.0},
        "unet": {"width": 48, "depth": 1, "heads": 4, "channel_mults": (1, 1), "patch_size": 2},
    },
    "base": {
        "dit": {"width": 384, "depth": 12, "heads": 6, "mlp_ratio": 4.0},
        "unet": {"width": 96, "depth": 2, "heads": 8, "channel_mults": (1, 2, 2)},
    },
}


def _check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")


def autoencoder_config(preset: str, representation: str, kind: str = "ae", **overrides: Any) -> AutoencoderConfig:
    """The preset's autoencoder for ``representation`` and ``kind``; ``overrides`` win (e.g. resolution=64)."""
    _check_preset(preset)
    values = {**AUTOENCODER_PRESETS[preset][representation], **overrides}
    return AutoencoderConfig(representation=representation, kind=kind, **values)


def denoiser_config(preset: str, latent_shape: tuple[int, ...], cond: str = "none", num_classes: int = 0,
                    **overrides: Any) -> DenoiserConfig:
    """The preset's denoiser for ``latent_shape`` (2-D -> DiT sizes, 4-D -> UNet sizes)."""
    _check_preset(preset)
    network = "dit" if len(latent_shape) == 2 else "unet"
    values = {**DENOISER_PRESETS[preset][network], **overrides}
    return DenoiserConfig(latent_shape=tuple(latent_shape), cond=cond, num_classes=num_classes, **values)
