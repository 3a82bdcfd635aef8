"""Point-cloud autoencoder: P points -> K latent tokens -> P points.

Encoder: a PointNet shared MLP (Qi et al. 2017) with the global max-pooled feature concatenated
back to every point, then K learned queries cross-attend to the points (attention pooling, as in
Perceiver / 3DShape2VecSet, Zhang et al. 2023) and self-attend.

Decoder: a fixed set of ``decoder_queries`` quasi-uniform query points in the unit ball,
Fourier-embedded, cross-attend to the latent tokens; a head moves each query to
``ceil(n_points / decoder_queries)`` output points (folding-style, Yang et al. 2018, made
coarse-to-fine as in PCN, Yuan et al. 2018). Attending from every one of 2,048 points was the
decoder's whole cost on a CPU (width 96, 16 shapes: ~0.9 s, memory-bound elementwise ops on
(B, P, width) tensors); 256 queries x 8 points each cost an eighth of that.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.models.autoencoder import Autoencoder
from core.models.config import AutoencoderConfig
from core.models.layers import TransformerBlock, run_block
from core.models.losses import PointLoss

#: Octaves of the query points' Fourier features (frequencies 2^0 .. 2^5 pi over the unit ball).
FOURIER_OCTAVES = 6
#: Seed of the fixed decoder query points (a buffer, so checkpoints carry them anyway).
QUERY_SEED = 0
#: Standard deviation of the initial offsets of a query's output points (unit-sphere units).
INITIAL_SPREAD = 0.05


def ball_points(n: int, seed: int = QUERY_SEED) -> Tensor:
    """``n`` points uniform in the unit ball (n, 3), from a private generator (global RNG untouched)."""
    gen = torch.Generator().manual_seed(seed)
    direction = F.normalize(torch.randn(n, 3, generator=gen), dim=-1)
    radius = torch.rand(n, 1, generator=gen) ** (1.0 / 3.0)
    return direction * radius


def fourier_features(x: Tensor, octaves: int = FOURIER_OCTAVES) -> Tensor:
    """(…, 3) -> (…, 3 + 6 * octaves): the coordinates and their sines/cosines at octave frequencies."""
    freqs = math.pi * 2.0 ** torch.arange(octaves, dtype=x.dtype, device=x.device)
    angles = (x[..., None] * freqs).flatten(-2)
    return torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=-1)


class PointAutoencoder(Autoencoder):
    """Set encoder to (latent_tokens, latent_channels) and a cross-attention folding decoder."""

    def __init__(self, cfg: AutoencoderConfig) -> None:
        super().__init__(cfg, PointLoss(cfg.uniformity_weight))
        w = cfg.width
        self.point_mlp = nn.Sequential(nn.Linear(3, w), nn.GELU(), nn.Linear(w, w))
        self.point_merge = nn.Sequential(nn.GELU(), nn.Linear(2 * w, w))
        self.queries = nn.Parameter(torch.randn(cfg.latent_tokens, w) * 0.02)
        self.pool = TransformerBlock(w, cfg.heads, cross=True)
        self.encoder_blocks = nn.ModuleList(TransformerBlock(w, cfg.heads) for _ in range(cfg.depth))
        self.encoder_out = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, self.bottleneck.encoder_channels(cfg.latent_channels)))

        self.latent_in = nn.Linear(cfg.latent_channels, w)
        self.token_position = nn.Parameter(torch.randn(cfg.latent_tokens, w) * 0.02)
        self.decoder_blocks = nn.ModuleList(TransformerBlock(w, cfg.heads) for _ in range(cfg.depth))
        self.points_per_query = -(-cfg.n_points // cfg.decoder_queries)
        self.register_buffer("query_points", ball_points(cfg.decoder_queries))
        self.query_embed = nn.Sequential(nn.Linear(3 + 6 * FOURIER_OCTAVES, w), nn.GELU(), nn.Linear(w, w))
        self.fold_blocks = nn.ModuleList(TransformerBlock(w, cfg.heads, cross=True) for _ in range(max(1, cfg.depth)))
        self.head = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, 3 * self.points_per_query))
        # zero weights: every shape starts as the same ball; small random biases split each
        # query's points apart so Chamfer has distinct points to pull
        nn.init.zeros_(self.head[1].weight)
        nn.init.normal_(self.head[1].bias, std=INITIAL_SPREAD)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.latent_tokens, self.config.latent_channels)

    def features(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != 3:
            raise ValueError(f"expected points (B, P, 3), got {tuple(x.shape)}")
        h = self.point_mlp(x)
        h = self.point_merge(torch.cat([h, h.amax(dim=1, keepdim=True).expand_as(h)], dim=-1))
        tokens = self.pool(self.queries.expand(x.shape[0], -1, -1), h)
        for block in self.encoder_blocks:
            tokens = run_block(block, tokens, checkpointed=self.config.gradient_checkpointing)
        return self.encoder_out(tokens)

    def decode(self, z: Tensor) -> Tensor:
        """Latent tokens (B, K, C) -> points (B, n_points, 3)."""
        tokens = self.latent_in(z) + self.token_position
        for block in self.decoder_blocks:
            tokens = run_block(block, tokens, checkpointed=self.config.gradient_checkpointing)
        h = self.query_embed(fourier_features(self.query_points.to(z.dtype)))
        h = h.expand(z.shape[0], -1, -1)
        for block in self.fold_blocks:
            h = run_block(block, h, tokens, checkpointed=self.config.gradient_checkpointing)
        offsets = self.head(h).view(z.shape[0], -1, self.points_per_query, 3)
        points = self.query_points.to(h.dtype)[:, None] + offsets
        return points.flatten(1, 2)[:, : self.config.n_points]
