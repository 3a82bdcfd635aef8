"""Named network sizes: ``tiny`` (CI, seconds), ``small`` (2 CPU cores, <= 1 hour), ``base`` (GPU).

The dictionaries are overrides of :class:`AutoencoderConfig` / :class:`DenoiserConfig` defaults;
:func:`autoencoder_config` and :func:`denoiser_config` apply them plus the caller's choices.

Measured 2026-11-22 on the team machine (2 shared CPU cores, load average ~10 from other jobs,
``torch.set_num_threads(1)``, which under that load ran 2-10x faster than 2 threads; best of 3-5
calls of an AdamW step on random inputs at the training presets' batch sizes, class-conditioned
denoisers, 32³ voxels). FLOPs from ``torch.utils.flop_counter`` are load-independent; this CPU
did ~20 GFLOPS per thread under that load (``base`` rows: FLOPs only, it is meant for a GPU)::

    preset  repr     AE params  AE step          denoiser params  denoiser step    guided fwd B=32      decode 16
    tiny    points   0.047 M    84 ms  (B=8)     0.136 M          28 ms  (B=32)    11 ms  / 0.07 GF     22 ms  / 0.08 GF
    tiny    voxels   0.042 M    2.1 GF (B=8)     0.163 M          53 ms  (B=32)    5 ms   / 0.32 GF     51 ms  / 1.61 GF
    small   points   0.373 M    693 ms (B=16)    1.261 M          436 ms (B=64)    78 ms  / 1.64 GF     39 ms  / 0.68 GF
    small   voxels   0.291 M    544 ms (B=16)    1.287 M          219 ms (B=64)    40 ms  / 2.22 GF     116 ms / 5.95 GF
    base    points   5.6 M      59 GF  (B=8)     32.6 M           -                88 GF                14 GF
    base    voxels   6.7 M      359 GF (B=8)     28.8 M           -                138 GF               133 GF

The tiny voxel AE has no ResBlocks per level (``depth`` 0): 2.1 GF per B=8 step against 4.1 GF
with one (242 vs 495 ms measured back to back at load ~12; 221 ms for depth 1 in the table's run).

"16 shapes, 20 guided steps, decoded" = 20 x guided fwd + decode: tiny 0.25 s / 0.16 s, small
1.6 s (points) / 0.9 s (voxels) under that load on one thread. The 3D UNet at 8³ with 32 channels
(the first ``small``) cost 10.7 GF per guided step; ``patch_size=2`` and a 16-channel first AE
level brought voxels from 237 GF to 50 GF per 16 sampled shapes.
"""
from __future__ import annotations

from typing import Any

from core.choices import PRESETS
from core.models.config import AutoencoderConfig, DenoiserConfig

_GRID_AE = {
    "tiny": {"width": 8, "depth": 0, "channel_mults": (1, 2), "latent_channels": 4, "latent_resolution": 8},
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

#: latent sizes of a grid autoencoder with ``latent_layout="tokens"``: the point latent's (K, C) of the same
#: preset, so one DiT size serves both (small: 32 x 8 = 256 numbers against the 4 x 8³ = 2,048 of a grid latent)
TOKEN_LATENT_SIZES = ("latent_tokens", "latent_channels")

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
    sizes = AUTOENCODER_PRESETS[preset][representation]
    if representation != "points" and overrides.get("latent_layout") == "tokens":
        sizes = {**sizes, **{k: AUTOENCODER_PRESETS[preset]["points"][k] for k in TOKEN_LATENT_SIZES}}
    return AutoencoderConfig(representation=representation, kind=kind, **{**sizes, **overrides})


def denoiser_config(preset: str, latent_shape: tuple[int, ...], cond: str = "none", num_classes: int = 0,
                    **overrides: Any) -> DenoiserConfig:
    """The preset's denoiser for ``latent_shape`` (2-D -> DiT sizes, 4-D -> UNet sizes)."""
    _check_preset(preset)
    network = "dit" if len(latent_shape) == 2 else "unet"
    values = {**DENOISER_PRESETS[preset][network], **overrides}
    return DenoiserConfig(latent_shape=tuple(latent_shape), cond=cond, num_classes=num_classes, **values)
