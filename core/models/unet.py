"""Small 3D UNet over latent grids (B, C, r, r, r): voxel latents now, splat latents later.

ResBlocks (GroupNorm, SiLU) take the timestep/condition vector as a scale-shift (Dhariwal &
Nichol 2021); the coarsest level has self-attention and, for text, cross-attention to the prompt
tokens (Rombach et al. 2022). The output convolution starts at zero, so the untrained network
predicts zeros, like the DiT's adaLN-Zero.

3D convolutions dominate sampling time on a CPU (a 16-shape guided step is a batch of 32), so
``patch_size=2`` first folds each 2³ block of the latent into channels (as the grid autoencoder
does): the network then runs at (r/2)³, eight times fewer positions per convolution.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.models.config import DenoiserConfig
from core.models.layers import (
    Attention,
    ConditionEmbedder,
    ResBlock3d,
    group_norm,
    run_block,
    voxel_shuffle,
    voxel_unshuffle,
)

#: Width of the timestep/condition embedding relative to the first level's channels (DDPM's 4x).
EMBED_MULT = 4


class GridAttention(nn.Module):
    """Self-attention over the voxels of a grid, then optional cross-attention to context tokens."""

    def __init__(self, channels: int, heads: int, context_dim: int | None = None) -> None:
        super().__init__()
        self.norm = group_norm(channels)
        self.attn = Attention(channels, heads)
        self.cross = Attention(channels, heads, context_dim) if context_dim else None
        self.cross_norm = nn.LayerNorm(channels) if context_dim else None

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        b, c, d, h, w = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)
        update = self.attn(tokens)
        if self.cross is not None:
            update = update + self.cross(self.cross_norm(tokens + update), context)
        return x + update.transpose(1, 2).reshape(b, c, d, h, w)


class UNet3d(nn.Module):
    """Denoiser over (B, C, r, r, r) latent grids: forward(x_t, t, cond) -> same shape."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        self.config = cfg
        channels = cfg.latent_shape[0] * cfg.patch_size**3
        chans = [cfg.width * m for m in cfg.channel_mults]
        emb = cfg.width * EMBED_MULT
        self.condition = ConditionEmbedder(emb, cfg.cond, cfg.num_classes, cfg.text_dim, cfg.text_tokens)
        self.conv_in = nn.Conv3d(channels, chans[0], 3, padding=1)

        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = chans[0]
        for i, ch in enumerate(chans):
            self.down.append(nn.ModuleList(ResBlock3d(prev if j == 0 else ch, ch, emb) for j in range(cfg.depth)))
            prev = ch
            if i + 1 < len(chans):
                self.downsample.append(nn.Conv3d(ch, ch, 3, stride=2, padding=1))
        self.mid1 = ResBlock3d(chans[-1], chans[-1], emb)
        self.mid_attn = GridAttention(chans[-1], cfg.heads, emb if cfg.cond == "text" else None)
        self.mid2 = ResBlock3d(chans[-1], chans[-1], emb)

        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(chans))):
            ch = chans[i]
            self.up.append(nn.ModuleList(ResBlock3d(2 * ch if j == 0 else ch, ch, emb) for j in range(cfg.depth)))
            if i > 0:
                self.upsample.append(nn.Conv3d(ch, chans[i - 1], 3, padding=1))
        self.norm_out = group_norm(chans[0])
        self.conv_out = nn.Conv3d(chans[0], channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def _res(self, block: ResBlock3d, h: Tensor, emb: Tensor) -> Tensor:
        return run_block(block, h, emb, checkpointed=self.config.gradient_checkpointing)

    def forward(self, x: Tensor, t: Tensor, cond: Tensor | None = None) -> Tensor:
        emb, context = self.condition(t, cond)
        h = self.conv_in(voxel_unshuffle(x, self.config.patch_size))
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = self._res(block, h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self._res(self.mid1, h, emb)
        h = run_block(self.mid_attn, h, context, checkpointed=self.config.gradient_checkpointing)
        h = self._res(self.mid2, h, emb)
        for i, blocks in enumerate(self.up):
            if i > 0:
                h = self.upsample[i - 1](F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = torch.cat([h, skips.pop()], dim=1)
            for block in blocks:
                h = self._res(block, h, emb)
        return voxel_shuffle(self.conv_out(F.silu(self.norm_out(h))), self.config.patch_size)
