"""Weight-only int8 storage for exported models: a denoiser twice as wide still fits the size budget.

Each weight matrix (any floating tensor of two or more dimensions) is stored as int8 with one float32
scale per output row, ``w ≈ q · scale`` with ``scale = max|w_row| / 127`` (symmetric per-channel
quantisation, as in Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", sec. 2.1, and LLM.int8's row-wise scales); vectors (biases, norms)
stay float16. Loading turns it back into float32 once, so sampling runs the same float code as ever:
this saves bytes on disk, not time.
"""
from __future__ import annotations

import torch

#: the ``weights_dtype`` an export's manifest names for this storage
INT8 = "int8"
#: the scale of weight ``NAME`` is stored as ``NAME`` + this suffix
SCALE_SUFFIX = ".int8_scale"
#: largest int8 magnitude used, so that q and -q are both representable
INT8_MAX = 127


def cast_floating(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A floating tensor in ``dtype`` unless that overflows (then as it was); any other tensor unchanged."""
    if not tensor.is_floating_point():
        return tensor
    cast = tensor.to(dtype)
    return cast if torch.isfinite(cast).all() else tensor


def quantize_int8(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` with each floating tensor of two or more dimensions as int8 plus its row scales, the rest
    as :func:`cast_floating` to float16 leaves them."""
    stored: dict[str, torch.Tensor] = {}
    for name, value in tensors.items():
        if not value.is_floating_point() or value.dim() < 2:
            stored[name] = cast_floating(value, torch.float16)
        else:
            rows = value.float().reshape(len(value), -1)
            # float32 scales (a few kB): in float16 the scales of near-zero rows (adaLN-Zero layers) lose precision;
            # an all-zero row gets the smallest scale and stays 0
            scale = (rows.abs().amax(dim=1) / INT8_MAX).clamp_min(torch.finfo(torch.float32).tiny)
            stored[name] = (rows / scale[:, None]).round().clamp(-INT8_MAX, INT8_MAX).to(torch.int8) \
                .reshape(value.shape)
            stored[name + SCALE_SUFFIX] = scale
    return stored


def dequantize_int8(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float32 tensors :func:`quantize_int8` stored (each int8 weight times its row scales)."""
    restored = {name: value for name, value in tensors.items() if not name.endswith(SCALE_SUFFIX)}
    for name, value in restored.items():
        scale = tensors.get(name + SCALE_SUFFIX)
        if scale is not None:
            restored[name] = (value.float().reshape(len(value), -1) * scale[:, None]).reshape(value.shape)
        elif value.is_floating_point():
            restored[name] = value.float()
    return restored
