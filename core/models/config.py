"""Network configurations as plain data.

A run's ``config.json`` stores these dictionaries; :func:`AutoencoderConfig.from_dict` and
:func:`DenoiserConfig.from_dict` rebuild the exact same networks from them (MONAI-style: the
configuration is data, the network knows nothing of files).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from core.choices import AUTOENCODER_KINDS, CONDITIONINGS, LATENT_LAYOUTS, MODEL_REPRESENTATIONS


_Config = TypeVar("_Config", bound="_DictConfig")


class _DictConfig:
    """JSON round trip shared by the configs: tuples become lists in JSON and back on load."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary of every field (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls: type[_Config], data: dict[str, Any]) -> _Config:
        """Rebuild from :meth:`to_dict`'s output; unknown keys are an error, missing keys take defaults."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {unknown}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


@dataclass
class AutoencoderConfig(_DictConfig):
    """Stage-1 autoencoder: representation, bottleneck kind, sizes and loss settings.

    Points use ``width`` as the token width and ``depth`` as the number of attention blocks on each
    side, and decode through ``decoder_queries`` query points; grids (voxels, splats) use
    ``width * channel_mults[i]`` channels at level ``i`` (from ``resolution / 2`` down to
    ``latent_resolution``) and ``depth`` ResBlocks per level.
    """

    representation: str = "points"
    kind: str = "ae"
    # inputs
    n_points: int = 2048
    resolution: int = 32
    in_channels: int = 1
    decoder_queries: int = 256
    # sizes
    width: int = 64
    depth: int = 1
    heads: int = 4
    channel_mults: tuple[int, ...] = (1, 2)
    # latent: points -> (latent_tokens, latent_channels); grids -> (latent_channels, r, r, r), or with
    # latent_layout "tokens" (latent_tokens, latent_channels) read from the r³ level (points: always tokens)
    latent_tokens: int = 32
    latent_channels: int = 8
    latent_resolution: int = 8
    latent_layout: str = "grid"
    # loss: "" picks the representation's default (points: "chamfer", voxels: "focal")
    loss: str = ""
    uniformity_weight: float = 1.0
    focal_gamma: float = 2.0
    focal_alpha: float = 0.75
    # vae (Kingma & Welling 2014): KL per latent element, small so the latent stays informative
    kl_weight: float = 1e-6
    # noise-augmented decoding: in training the decoder gets z + s * std(z) * eps, s ~ U(0, latent_noise)
    # per shape, so it learns to decode the slightly-off latents a denoiser produces (0: off)
    latent_noise: float = 0.0
    # vqvae (van den Oord et al. 2017; EMA codebook as in Razavi et al. 2019)
    codebook_size: int = 512
    commitment_beta: float = 0.25
    ema_decay: float = 0.99
    dead_code_threshold: float = 1e-2
    gradient_checkpointing: bool = False

    def __post_init__(self) -> None:
        if self.representation not in MODEL_REPRESENTATIONS:
            raise ValueError(f"representation must be one of {MODEL_REPRESENTATIONS}, got {self.representation!r}")
        if self.kind not in AUTOENCODER_KINDS:
            raise ValueError(f"kind must be one of {AUTOENCODER_KINDS}, got {self.kind!r}")
        if self.representation == "points":
            return
        if self.latent_layout not in LATENT_LAYOUTS:
            raise ValueError(f"latent_layout must be one of {LATENT_LAYOUTS}, got {self.latent_layout!r}")
        ratio = self.resolution // self.latent_resolution
        if self.resolution % self.latent_resolution or ratio < 2 or ratio & (ratio - 1):
            raise ValueError(
                f"resolution {self.resolution} must be the latent resolution {self.latent_resolution} "
                "times a power of two (at least 2)"
            )


@dataclass
class DenoiserConfig(_DictConfig):
    """Stage-2 denoiser. ``latent_shape`` picks the network: (K, C) -> DiT, (C, r, r, r) -> 3D UNet.

    DiT: ``width`` tokens, ``depth`` blocks. UNet: ``width * channel_mults[i]`` channels per level,
    ``depth`` ResBlocks per level, attention at the coarsest. ``text_tokens`` prompt tokens (text only).
    """

    latent_shape: tuple[int, ...] = (32, 8)
    cond: str = "none"
    num_classes: int = 0
    text_dim: int = 384
    width: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    channel_mults: tuple[int, ...] = (1, 2)
    text_tokens: int = 4
    # UNet only: space-to-depth factor of the input grid (2: a 4x8^3 latent runs as 32x4^3)
    patch_size: int = 1
    gradient_checkpointing: bool = False
    # DiT only: residual dropout in training (0: off, as every run before it)
    dropout: float = 0.0

    def __post_init__(self) -> None:
        self.latent_shape = tuple(int(s) for s in self.latent_shape)
        if len(self.latent_shape) not in (2, 4):
            raise ValueError(f"latent_shape must be (K, C) or (C, r, r, r), got {self.latent_shape}")
        if self.cond not in CONDITIONINGS:
            raise ValueError(f"cond must be one of {CONDITIONINGS}, got {self.cond!r}")
        if len(self.latent_shape) == 4 and self.latent_shape[1] % (self.patch_size * 2 ** (len(self.channel_mults) - 1)):
            raise ValueError(
                f"latent grid {self.latent_shape} does not divide into patches of {self.patch_size} "
                f"and {len(self.channel_mults) - 1} downsamplings"
            )
        if self.cond == "class" and self.num_classes < 1:
            raise ValueError("cond='class' needs num_classes >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.dropout and len(self.latent_shape) == 4:
            raise ValueError("dropout applies to the DiT of token latents, not to a grid latent's UNet")
