"""3D-conv autoencoder for dense grids: voxel occupancy now, Gaussian-splat attribute grids later.

(B, in_channels, R, R, R) -> latent (latent_channels, r, r, r) -> (B, in_channels, R, R, R).

The full-resolution level is the cost of 3D conv AEs on a CPU (see notes/stack.md), so the first
step is a space-to-depth of 2 (each 2³ block becomes 8 channels) and the last a depth-to-space:
no convolution ever runs at full resolution. Between them: ResBlocks (GroupNorm, SiLU) per level
with strided-conv downsampling and nearest + conv upsampling (the LDM / MONAI layout).
``latent_layout`` "tokens" turns the coarsest grid into K latent tokens and back
(:mod:`core.models.token_latent`) instead of keeping it as the latent.
The reconstruction loss is a strategy looked up by name (:mod:`core.models.losses`).
"""
from __future__ import annotations

from torch import Tensor, nn

from core.models.autoencoder import Autoencoder
from core.models.config import AutoencoderConfig
from core.models.layers import ResBlock3d, group_norm, run_block, upsample_conv, voxel_shuffle, voxel_unshuffle
from core.models.losses import grid_loss
from core.models.token_latent import GridToTokens, TokensToGrid

#: Space-to-depth factor of the first (and depth-to-space of the last) layer.
PATCH = 2


def level_channels(cfg: AutoencoderConfig) -> list[int]:
    """Channels per level, from ``resolution / PATCH`` down to ``latent_resolution``."""
    levels = (cfg.resolution // PATCH // cfg.latent_resolution).bit_length()
    mults = cfg.channel_mults
    return [cfg.width * mults[min(i, len(mults) - 1)] for i in range(levels)]


class _Upsample(nn.Module):
    def __init__(self, channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(channels, out_channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return upsample_conv(self.conv, x)


class GridAutoencoder(Autoencoder):
    """Conv encoder/decoder over (C, R, R, R) grids; decode returns logits/values of the same shape."""

    def __init__(self, cfg: AutoencoderConfig) -> None:
        super().__init__(cfg, grid_loss(cfg))
        chans = level_channels(cfg)
        cells = PATCH**3
        encoder: list[nn.Module] = [nn.Conv3d(cfg.in_channels * cells, chans[0], 3, padding=1)]
        for i, ch in enumerate(chans):
            encoder += [ResBlock3d(ch) for _ in range(cfg.depth)]
            if i + 1 < len(chans):
                encoder.append(nn.Conv3d(ch, chans[i + 1], 3, stride=2, padding=1))
        encoder += [ResBlock3d(chans[-1]), group_norm(chans[-1]), nn.SiLU()]
        latent_in = self.bottleneck.encoder_channels(cfg.latent_channels)
        if self.tokens:
            encoder.append(GridToTokens(cfg.latent_resolution, chans[-1], cfg.latent_tokens, latent_in))
            decoder: list[nn.Module] = [TokensToGrid(cfg.latent_resolution, cfg.latent_channels, cfg.latent_tokens,
                                                     chans[-1])]
        else:
            encoder.append(nn.Conv3d(chans[-1], latent_in, 3, padding=1))
            decoder = [nn.Conv3d(cfg.latent_channels, chans[-1], 3, padding=1)]
        self.encoder = nn.ModuleList(encoder)

        decoder.append(ResBlock3d(chans[-1]))
        for i in reversed(range(len(chans))):
            decoder += [ResBlock3d(chans[i]) for _ in range(cfg.depth)]
            if i > 0:
                decoder.append(_Upsample(chans[i], chans[i - 1]))
        decoder += [group_norm(chans[0]), nn.SiLU(), nn.Conv3d(chans[0], cfg.in_channels * cells, 3, padding=1)]
        self.decoder = nn.ModuleList(decoder)

    @property
    def tokens(self) -> bool:
        """Whether the latent is (K, C) tokens rather than a (C, r, r, r) grid."""
        return self.config.latent_layout == "tokens"

    @property
    def latent_shape(self) -> tuple[int, ...]:
        if self.tokens:
            return (self.config.latent_tokens, self.config.latent_channels)
        r = self.config.latent_resolution
        return (self.config.latent_channels, r, r, r)

    def _run(self, layers: nn.ModuleList, h: Tensor) -> Tensor:
        for layer in layers:
            checkpointed = self.config.gradient_checkpointing and isinstance(layer, ResBlock3d)
            h = run_block(layer, h, checkpointed=checkpointed)
        return h

    def features(self, x: Tensor) -> Tensor:
        cfg = self.config
        expected = (cfg.in_channels, cfg.resolution, cfg.resolution, cfg.resolution)
        if tuple(x.shape[1:]) != expected:
            raise ValueError(f"expected grids (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        h = self._run(self.encoder, voxel_unshuffle(x, PATCH))
        return h if self.tokens else h.movedim(1, -1)

    def to_latent(self, h: Tensor) -> Tensor:
        return h if self.tokens else h.movedim(-1, 1)

    def decode(self, z: Tensor) -> Tensor:
        """Latents (B, C, r, r, r) or tokens (B, K, C) -> logits/values (B, in_channels, R, R, R)."""
        return voxel_shuffle(self._run(self.decoder, z), PATCH)
