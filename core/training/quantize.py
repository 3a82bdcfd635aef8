"""Weight-only int8 and int4 storage for exported models: a denoiser twice as wide still fits the size budget.

int8: each weight matrix (any floating tensor of two or more dimensions) is stored as int8 with one float32
scale per output row, ``w ≈ q · scale`` with ``scale = max|w_row| / 127`` (symmetric per-channel
quantisation, as in Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", sec. 2.1, and LLM.int8's row-wise scales).

int4: each row is cut into groups of :data:`INT4_GROUP` weights, each group stored as 4-bit integers in
[-7, 7] (two to a byte) with one bfloat16 scale ``max|w_group| / 7`` (group-wise symmetric quantisation as in
GPTQ, Frantar et al. 2023, and llama.cpp's Q4 blocks, without their error feedback); a group per 32 weights
keeps one outlier from flattening a whole row. Matrices whose rows are not a whole number of groups (input
embeddings of a few channels) fall back to int8 rows: they are a few kB. Scales are bfloat16, not float16,
because the near-zero rows of adaLN-Zero layers underflow float16.

Vectors (biases, norms) stay float16 in both. Loading turns the weights back into float32 once, so sampling
runs the same float code as ever: this saves bytes on disk, not time.
"""
from __future__ import annotations

import torch

#: the ``weights_dtype`` an export's manifest names for each storage
INT8, INT4 = "int8", "int4"
QUANTIZED_DTYPES = (INT8, INT4)
#: the int8 scales of weight ``NAME`` are stored as ``NAME`` + this suffix
SCALE_SUFFIX = ".int8_scale"
#: int4 weight ``NAME``: packed nibbles under ``NAME``, group scales and the original shape beside it
INT4_SCALE_SUFFIX, INT4_SHAPE_SUFFIX = ".int4_scale", ".int4_shape"
#: largest magnitudes used, so that q and -q are both representable
INT8_MAX, INT4_MAX = 127, 7
#: weights per int4 scale: 32 costs half a bit per weight in bfloat16 scales
INT4_GROUP = 32


def cast_floating(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A floating tensor in ``dtype`` unless that overflows (then as it was); any other tensor unchanged."""
    if not tensor.is_floating_point():
        return tensor
    cast = tensor.to(dtype)
    return cast if torch.isfinite(cast).all() else tensor


def _is_matrix(value: torch.Tensor) -> bool:
    return value.is_floating_point() and value.dim() >= 2


def _int8_rows(name: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    rows = value.float().reshape(len(value), -1)
    # float32 scales (a few kB): in float16 the scales of near-zero rows (adaLN-Zero layers) lose precision;
    # an all-zero row gets the smallest scale and stays 0
    scale = (rows.abs().amax(dim=1) / INT8_MAX).clamp_min(torch.finfo(torch.float32).tiny)
    quantized = (rows / scale[:, None]).round().clamp(-INT8_MAX, INT8_MAX).to(torch.int8)
    return {name: quantized.reshape(value.shape), name + SCALE_SUFFIX: scale}


def _int4_groups(name: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    groups = value.float().reshape(-1, INT4_GROUP)
    scale = (groups.abs().amax(dim=1) / INT4_MAX).clamp_min(torch.finfo(torch.float32).tiny).to(torch.bfloat16)
    codes = (groups / scale.float()[:, None]).round().clamp(-INT4_MAX, INT4_MAX).to(torch.uint8) + INT4_MAX
    packed = codes[:, 0::2] | (codes[:, 1::2] << 4)  # 0..14 fits a nibble: two codes per byte
    return {name: packed, name + INT4_SCALE_SUFFIX: scale,
            name + INT4_SHAPE_SUFFIX: torch.tensor(value.shape, dtype=torch.int64)}


def quantize(tensors: dict[str, torch.Tensor], dtype: str) -> dict[str, torch.Tensor]:
    """``tensors`` with each weight matrix stored as ``dtype`` (:data:`INT8` or :data:`INT4`) plus its scales,
    the rest as :func:`cast_floating` to float16 leaves them."""
    stored: dict[str, torch.Tensor] = {}
    for name, value in tensors.items():
        if not _is_matrix(value):
            stored[name] = cast_floating(value, torch.float16)
        elif dtype == INT4 and value[0].numel() % INT4_GROUP == 0:
            stored.update(_int4_groups(name, value))
        else:
            stored.update(_int8_rows(name, value))
    return stored


def dequantize(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float32 tensors :func:`quantize` stored (each weight times its row or group scale)."""
    suffixes = (SCALE_SUFFIX, INT4_SCALE_SUFFIX, INT4_SHAPE_SUFFIX)
    restored = {name: value for name, value in tensors.items() if not name.endswith(suffixes)}
    for name, value in restored.items():
        if name + INT4_SCALE_SUFFIX in tensors:
            codes = torch.stack([value & 0xF, value >> 4], dim=-1).reshape(len(value), -1).float() - INT4_MAX
            weights = codes * tensors[name + INT4_SCALE_SUFFIX].float()[:, None]
            restored[name] = weights.reshape(tensors[name + INT4_SHAPE_SUFFIX].tolist())
        elif name + SCALE_SUFFIX in tensors:
            scale = tensors[name + SCALE_SUFFIX]
            restored[name] = (value.float().reshape(len(value), -1) * scale[:, None]).reshape(value.shape)
        elif value.is_floating_point():
            restored[name] = value.float()
    return restored
