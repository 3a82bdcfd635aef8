"""Building blocks shared by the autoencoders and the denoisers."""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

#: Longest period of the sinusoidal timestep embedding (Vaswani et al. 2017; DDPM / DiT use 10,000).
MAX_PERIOD = 10_000


def run_block(block: Callable[..., Tensor], *args: Tensor | None, checkpointed: bool) -> Tensor:
    """Call ``block(*args)``, recomputing it in the backward pass when ``checkpointed`` (saves memory)."""
    if checkpointed and torch.is_grad_enabled():
        return checkpoint(block, *args, use_reentrant=False)
    return block(*args)


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 8 groups that divide ``channels`` (small nets have few channels)."""
    groups = math.gcd(8, channels)
    return nn.GroupNorm(groups, channels)


def timestep_embedding(t: Tensor, dim: int) -> Tensor:
    """Sinusoidal embedding (B,) -> (B, dim) of integer or float timesteps (DDPM, Ho et al. 2020)."""
    half = dim // 2
    freqs = torch.exp(-math.log(MAX_PERIOD) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, dim % 2))


class Attention(nn.Module):
    """Multi-head attention of ``x`` (B, N, D) over ``context`` (B, M, D) (itself when None)."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_kv = nn.Linear(context_dim or dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        context = x if context is None else context
        batch = x.shape[0]
        q = self.to_q(x).view(batch, x.shape[1], self.heads, -1).transpose(1, 2)
        k, v = self.to_kv(context).view(batch, context.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(x.shape))


def mlp(dim: int, ratio: float, out_dim: int | None = None) -> nn.Sequential:
    """Transformer feed-forward: Linear -> GELU (tanh approximation, as DiT) -> Linear."""
    hidden = int(dim * ratio)
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, out_dim or dim))


class TransformerBlock(nn.Module):
    """Pre-norm block: self-attention (or cross-attention to ``context``) then a feed-forward."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 2.0, cross: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(dim) if cross else None
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = mlp(dim, mlp_ratio)

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        if self.norm_context is not None:
            x = x + self.attn(self.norm1(x), self.norm_context(context))
        else:
            x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ConditionEmbedder(nn.Module):
    """Timestep + condition -> one vector per sample (for adaLN / scale-shift) and optional tokens.

    * ``none``: the timestep embedding alone.
    * ``class``: a learned embedding of the label added to it; row ``num_classes`` is the null
      class that classifier-free guidance drops labels to (Ho & Salimans 2022; DiT).
    * ``text``: the sentence embedding projected and added, and also projected to ``text_tokens``
      tokens that the denoiser attends to (DiT: appended tokens; UNet: cross-attention). An
      all-zero embedding is the null prompt; the network learns what zero means.
    """

    def __init__(self, dim: int, cond: str, num_classes: int = 0, text_dim: int = 384, text_tokens: int = 4) -> None:
        super().__init__()
        self.dim = dim
        self.cond = cond
        self.num_classes = num_classes
        self.time_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        if cond == "class":
            self.class_embedding = nn.Embedding(num_classes + 1, dim)
        elif cond == "text":
            self.text_dim = text_dim
            self.text_mlp = nn.Sequential(nn.Linear(text_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
            self.text_tokens = nn.Linear(text_dim, text_tokens * dim)

    def forward(self, t: Tensor, cond: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """(B,) timesteps and the condition -> (embedding (B, dim), tokens (B, T, dim) or None)."""
        emb = self.time_mlp(timestep_embedding(t, self.dim))
        if self.cond == "none":
            return emb, None
        if cond is None:
            raise ValueError(f"this denoiser is conditioned on {self.cond}: pass cond")
        if self.cond == "class":
            if cond.dtype.is_floating_point or cond.ndim != 1:
                raise ValueError(f"class condition must be a LongTensor (B,), got {cond.dtype} {tuple(cond.shape)}")
            return emb + self.class_embedding(cond), None
        if cond.ndim != 2 or cond.shape[1] != self.text_dim:
            raise ValueError(f"text condition must be (B, {self.text_dim}), got {tuple(cond.shape)}")
        cond = cond.to(emb.dtype)
        tokens = self.text_tokens(cond).view(cond.shape[0], -1, self.dim)
        return emb + self.text_mlp(cond), tokens


class ResBlock3d(nn.Module):
    """3D residual block: (GroupNorm, SiLU, conv) x 2, with an optional scale-shift from a vector.

    The scale-shift (``h * (1 + scale) + shift`` after the second norm) is how the UNet feeds the
    timestep/condition embedding in (Dhariwal & Nichol 2021, "use_scale_shift_norm").
    """

    def __init__(self, channels: int, out_channels: int | None = None, emb_dim: int | None = None) -> None:
        super().__init__()
        out_channels = out_channels or channels
        self.norm1 = group_norm(channels)
        self.conv1 = nn.Conv3d(channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * out_channels) if emb_dim else None
        self.norm2 = group_norm(out_channels)
        self.conv2 = nn.Conv3d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv3d(channels, out_channels, 1) if out_channels != channels else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor | None = None) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.norm2(h)
        if self.emb is not None:
            scale, shift = self.emb(F.silu(emb))[:, :, None, None, None].chunk(2, dim=1)
            h = h * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


def upsample_conv(conv: nn.Conv3d, x: Tensor) -> Tensor:
    """Double a grid's resolution, nearest then a 3³ conv: the LDM / MONAI decoder's upsampling, which
    avoids the checkerboard artefacts of a transposed conv (Odena et al. 2016, Distill)."""
    return conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def voxel_unshuffle(x: Tensor, factor: int) -> Tensor:
    """Space-to-depth (B, C, R, R, R) -> (B, C f^3, R/f, R/f, R/f): the 3D ``pixel_unshuffle``."""
    b, c, d, h, w = x.shape
    f = factor
    x = x.view(b, c, d // f, f, h // f, f, w // f, f)
    return x.permute(0, 1, 3, 5, 7, 2, 4, 6).reshape(b, c * f**3, d // f, h // f, w // f)


def voxel_shuffle(x: Tensor, factor: int) -> Tensor:
    """Depth-to-space, the inverse of :func:`voxel_unshuffle`."""
    b, c, d, h, w = x.shape
    f = factor
    x = x.view(b, c // f**3, f, f, f, d, h, w)
    return x.permute(0, 1, 5, 2, 6, 3, 7, 4).reshape(b, c // f**3, d * f, h * f, w * f)
