"""DiT with adaLN-Zero over latent tokens (Peebles & Xie, "Scalable Diffusion Models with
Transformers", ICCV 2023), for point-cloud latents (B, K, C).

Each block's LayerNorms are modulated by shift/scale from the conditioning vector (timestep
embedding + class / text embedding), and each residual branch is multiplied by a gate; the
modulation layers start at zero, so at initialisation every block is the identity and the final
layer outputs zeros. Text conditioning also appends the prompt's tokens to the sequence.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from core.models.config import DenoiserConfig
from core.models.layers import Attention, ConditionEmbedder, mlp, run_block


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """adaLN: ``x * (1 + scale) + shift`` with per-sample (B, D) shift and scale."""
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    """Self-attention + MLP, both adaLN-modulated and gated (six modulation vectors).

    ``dropout`` zeroes elements of each residual branch's output in training (GPT-2's residual dropout).
    A denoiser trained on a few thousand latents can fit them closely enough to sample near the train
    shapes it has seen (the voxel DiT's samples lie nearer to train shapes than the test shapes do, README);
    dropout is the usual counter on small data (Ho et al. 2020 and Karras et al. 2022 train CIFAR-10 with
    0.1 and 0.13).
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = mlp(dim, mlp_ratio)
        self.dropout = nn.Dropout(dropout)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(c).chunk(6, dim=-1)
        x = x + gate1[:, None] * self.dropout(self.attn(modulate(self.norm1(x), shift1, scale1)))
        return x + gate2[:, None] * self.dropout(self.mlp(modulate(self.norm2(x), shift2, scale2)))


class FinalLayer(nn.Module):
    """adaLN-modulated norm and a zero-initialised projection back to the latent channels."""

    def __init__(self, dim: int, out_channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.linear = nn.Linear(dim, out_channels)
        for layer in (self.modulation[1], self.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        shift, scale = self.modulation(c).chunk(2, dim=-1)
        return self.linear(modulate(self.norm(x), shift, scale))


class DiT(nn.Module):
    """Denoiser over (B, K, C) latent tokens: forward(x_t, t, cond) -> (B, K, C)."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        self.config = cfg
        tokens, channels = cfg.latent_shape
        w = cfg.width
        self.embed = nn.Linear(channels, w)
        self.position = nn.Parameter(torch.randn(tokens, w) * 0.02)
        self.condition = ConditionEmbedder(w, cfg.cond, cfg.num_classes, cfg.text_dim, cfg.text_tokens)
        self.blocks = nn.ModuleList(DiTBlock(w, cfg.heads, cfg.mlp_ratio, cfg.dropout) for _ in range(cfg.depth))
        self.final = FinalLayer(w, channels)

    def hidden(self, x: Tensor, t: Tensor, cond: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Token features after the blocks (without appended text tokens) and the conditioning vector."""
        c, cond_tokens = self.condition(t, cond)
        h = self.embed(x) + self.position
        n = h.shape[1]
        if cond_tokens is not None:
            h = torch.cat([h, cond_tokens.to(h.dtype)], dim=1)
        for block in self.blocks:
            h = run_block(block, h, c, checkpointed=self.config.gradient_checkpointing)
        return h[:, :n], c

    def forward(self, x: Tensor, t: Tensor, cond: Tensor | None = None) -> Tensor:
        h, c = self.hidden(x, t, cond)
        return self.final(h, c)
