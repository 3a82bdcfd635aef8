"""A grid autoencoder's latent as K tokens instead of an r³ grid: a set latent (3DShape2VecSet, Zhang et al. 2023).

Why: with an 8³ latent grid every region of a voxel or splat shape has latent cells of its own, and a
denoiser's small local errors decode into pieces that float free (the shipped voxel model: 15 % of
chairs in one piece against 81 % of the autoencoder's own reconstructions). Tokens summarise the
whole shape: each is read by every cell of the decoder, so an error moves the shape, it does not
cut it. The same (K, C) layout as the point latents means the same DiT denoises all three.

:class:`GridToTokens` sits after the conv encoder (learned queries cross-attend to the coarsest
cells, as the point encoder's queries attend to points); :class:`TokensToGrid` before the conv
decoder (every cell's learned query cross-attends to the tokens).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from core.models.layers import TransformerBlock

#: token width as a multiple of the coarsest conv level's channels (small: 4 x 32 = 128, the
#: point autoencoder's order of width); attention over 32-wide tokens split into 4 heads of 8 was too narrow
TOKEN_WIDTH_FACTOR = 4
#: scale of the learned queries' and positions' initial values (ViT / DiT position embeddings)
INIT_STD = 0.02


def _learned(rows: int, width: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(rows, width) * INIT_STD)


class GridToTokens(nn.Module):
    """Conv features (B, D, r, r, r) -> tokens (B, K, out_channels): K queries cross-attend to the r³ cells."""

    def __init__(self, resolution: int, channels: int, tokens: int, out_channels: int, heads: int,
                 depth: int) -> None:
        super().__init__()
        width = TOKEN_WIDTH_FACTOR * channels
        self.cell_in = nn.Linear(channels, width)
        self.cell_position = _learned(resolution**3, width)
        self.queries = _learned(tokens, width)
        self.pool = TransformerBlock(width, heads, cross=True)
        self.blocks = nn.ModuleList(TransformerBlock(width, heads) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, out_channels))

    def forward(self, h: Tensor) -> Tensor:
        cells = self.cell_in(h.flatten(2).transpose(1, 2)) + self.cell_position
        tokens = self.pool(self.queries.expand(h.shape[0], -1, -1), cells)
        for block in self.blocks:
            tokens = block(tokens)
        return self.out(tokens)


class TokensToGrid(nn.Module):
    """Latent tokens (B, K, C) -> features (B, channels, r, r, r): each cell's query cross-attends to the tokens."""

    def __init__(self, resolution: int, latent_channels: int, tokens: int, channels: int, heads: int,
                 depth: int) -> None:
        super().__init__()
        width = TOKEN_WIDTH_FACTOR * channels
        self.resolution = resolution
        self.latent_in = nn.Linear(latent_channels, width)
        self.token_position = _learned(tokens, width)
        self.blocks = nn.ModuleList(TransformerBlock(width, heads) for _ in range(depth))
        self.cell_queries = _learned(resolution**3, width)
        self.read = TransformerBlock(width, heads, cross=True)
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, channels))

    def forward(self, z: Tensor) -> Tensor:
        tokens = self.latent_in(z) + self.token_position
        for block in self.blocks:
            tokens = block(tokens)
        cells = self.read(self.cell_queries.expand(z.shape[0], -1, -1), tokens)
        r = self.resolution
        return self.out(cells).transpose(1, 2).reshape(z.shape[0], -1, r, r, r)
