"""A grid autoencoder's latent as K tokens instead of an r³ grid: one code for the whole shape.

Why: with an 8³ latent grid every region of a voxel or splat shape has latent cells of its own, and a
denoiser's errors decode into pieces that float free (the shipped voxel model: 15 % of chairs in one
piece against 77 % of its autoencoder's reconstructions). The same happens to the midpoint of two
encoded train chairs (``benchmarks/voxel_fragments.py midpoints``: 11 % in one piece): in a local
latent an average is two half-strength sets of legs. A global code (the fully connected bottleneck
of the 3D conv VAEs of Brock et al. 2016 and IM-NET's encoder, Chen & Zhang 2019) makes every
number reach the whole grid, so the decoder maps any code to one shape. It is handed out as
(K, C) tokens, the point latent's layout, so the same DiT denoises all three representations.

:class:`GridToTokens` ends the conv encoder (one more strided conv, then a linear map of all cells);
:class:`TokensToGrid` starts the conv decoder (a linear map to a coarse grid, then an upsampling conv).
A fully connected map learns far faster here than attention pooling did: with 32 learned queries
cross-attending to the 8³ cells (3DShape2VecSet, Zhang et al. 2023) the voxel autoencoder's
reconstruction IoU was 0.26 after 500 steps where the grid latent's was 0.7.
"""
from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from core.models.layers import upsample_conv


class GridToTokens(nn.Module):
    """Conv features (B, D, r, r, r) -> tokens (B, K, out_channels) through a fully connected layer."""

    def __init__(self, resolution: int, channels: int, tokens: int, out_channels: int) -> None:
        super().__init__()
        self.shape = (tokens, out_channels)
        self.down = nn.Conv3d(channels, channels, 3, stride=2, padding=1)
        self.linear = nn.Linear(channels * (resolution // 2) ** 3, tokens * out_channels)

    def forward(self, h: Tensor) -> Tensor:
        return self.linear(F.silu(self.down(h)).flatten(1)).view(h.shape[0], *self.shape)


class TokensToGrid(nn.Module):
    """Latent tokens (B, K, C) -> features (B, channels, r, r, r): a linear map to the (r/2)³ grid, then up."""

    def __init__(self, resolution: int, latent_channels: int, tokens: int, channels: int) -> None:
        super().__init__()
        self.coarse = (channels,) + (resolution // 2,) * 3
        self.linear = nn.Linear(tokens * latent_channels, math.prod(self.coarse))
        self.up = nn.Conv3d(channels, channels, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        h = F.silu(self.linear(z.flatten(1))).view(z.shape[0], *self.coarse)
        return upsample_conv(self.up, h)
