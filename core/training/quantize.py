"""Weight-only int8, int6 and int4 storage for exported models: a denoiser twice as wide still fits the size budget.

int8: each weight matrix (any floating tensor of two or more dimensions) is stored as int8 with one float32
scale per output row, ``w ≈ q · scale`` with ``scale = max|w_row| / 127`` (symmetric per-channel
quantisation, as in Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference", sec. 2.1, and LLM.int8's row-wise scales).

int4 and int6: each row is cut into groups of :data:`GROUP` weights, each group stored as b-bit integers in
[-(2^(b-1) - 1), 2^(b-1) - 1] with one bfloat16 scale ``max|w_group| / (2^(b-1) - 1)`` (group-wise symmetric
quantisation as in GPTQ, Frantar et al. 2023, and llama.cpp's Q4/Q6 blocks, without their error feedback); a
group per 32 weights keeps one outlier from flattening a whole row. int4 packs two codes to a byte, int6 four
codes to three bytes. int4 costs a DiT about 9 % of its weights' norm and measurably whole samples (README,
"int4 storage"); int6 about a quarter of that (2 %) at four fifths of int8's bytes. Matrices whose rows are not a
whole number of groups (input embeddings of a few channels) fall back to int8 rows: they are a few kB. Scales
are bfloat16, not float16, because the near-zero rows of adaLN-Zero layers underflow float16.

Vectors (biases, norms) stay float16 in all three. Loading turns the weights back into float32 once, so sampling
runs the same float code as ever: this saves bytes on disk, not time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: the ``weights_dtype`` an export's manifest names for each storage
INT8, INT6, INT4 = "int8", "int6", "int4"
#: the int8 scales of weight ``NAME`` are stored as ``NAME`` + this suffix
SCALE_SUFFIX = ".int8_scale"
#: largest int8 magnitude used, so that q and -q are both representable
INT8_MAX = 127
#: weights per int4 / int6 scale: 32 costs half a bit per weight in bfloat16 scales
GROUP = 32


@dataclass(frozen=True)
class GroupFormat:
    """b-bit codes in groups of :data:`GROUP` weights, one bfloat16 scale per group. Weight ``NAME`` is stored as
    packed codes under ``NAME``, its scales under ``NAME.<dtype>_scale`` and its shape under ``NAME.<dtype>_shape``."""

    dtype: str
    bits: int

    @property
    def max_code(self) -> int:
        """The largest magnitude used, so that q and -q are both representable (7 for int4, 31 for int6)."""
        return 2 ** (self.bits - 1) - 1

    @property
    def codes_per_word(self) -> int:
        """Codes packed together into whole bytes: 2 for int4 (one byte), 4 for int6 (three bytes)."""
        return math.lcm(self.bits, 8) // self.bits

    @property
    def bytes_per_word(self) -> int:
        return self.codes_per_word * self.bits // 8

    @property
    def scale_suffix(self) -> str:
        return f".{self.dtype}_scale"

    @property
    def shape_suffix(self) -> str:
        return f".{self.dtype}_shape"


GROUP_FORMATS = {f.dtype: f for f in (GroupFormat(INT4, 4), GroupFormat(INT6, 6))}
QUANTIZED_DTYPES = (INT8, *GROUP_FORMATS)


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


def _groups(name: str, value: torch.Tensor, fmt: GroupFormat) -> dict[str, torch.Tensor]:
    groups = value.float().reshape(-1, GROUP)
    scale = (groups.abs().amax(dim=1) / fmt.max_code).clamp_min(torch.finfo(torch.float32).tiny).to(torch.bfloat16)
    codes = (groups / scale.float()[:, None]).round().clamp(-fmt.max_code, fmt.max_code).to(torch.int32) + fmt.max_code
    return {name: _pack(codes, fmt), name + fmt.scale_suffix: scale,
            name + fmt.shape_suffix: torch.tensor(value.shape, dtype=torch.int64)}


def _pack(codes: torch.Tensor, fmt: GroupFormat) -> torch.Tensor:
    """(N, GROUP) codes in [0, 2 max_code] -> (N, GROUP * bits / 8) bytes, consecutive codes from the low bits up."""
    words = codes.reshape(len(codes), -1, fmt.codes_per_word)
    shifts = torch.arange(fmt.codes_per_word) * fmt.bits
    packed = (words << shifts).sum(dim=-1)  # at most 24 bits: exact in int32
    byte_shifts = torch.arange(fmt.bytes_per_word) * 8
    return ((packed[..., None] >> byte_shifts) & 0xFF).to(torch.uint8).reshape(len(codes), -1)


def _unpack(packed: torch.Tensor, fmt: GroupFormat) -> torch.Tensor:
    """The inverse of :func:`_pack`: (N, GROUP) codes as float32, centred back to [-max_code, max_code]."""
    chunks = packed.to(torch.int32).reshape(len(packed), -1, fmt.bytes_per_word)
    words = (chunks << (torch.arange(fmt.bytes_per_word) * 8)).sum(dim=-1)
    codes = (words[..., None] >> (torch.arange(fmt.codes_per_word) * fmt.bits)) & (2 ** fmt.bits - 1)
    return codes.reshape(len(packed), -1).float() - fmt.max_code


def quantize(tensors: dict[str, torch.Tensor], dtype: str) -> dict[str, torch.Tensor]:
    """``tensors`` with each weight matrix stored as ``dtype`` (one of :data:`QUANTIZED_DTYPES`) plus its
    scales, the rest as :func:`cast_floating` to float16 leaves them."""
    stored: dict[str, torch.Tensor] = {}
    for name, value in tensors.items():
        if not _is_matrix(value):
            stored[name] = cast_floating(value, torch.float16)
        elif dtype in GROUP_FORMATS and value[0].numel() % GROUP == 0:
            stored.update(_groups(name, value, GROUP_FORMATS[dtype]))
        else:
            stored.update(_int8_rows(name, value))
    return stored


def dequantize(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float32 tensors :func:`quantize` stored (each weight times its row or group scale)."""
    suffixes = (SCALE_SUFFIX, *(s for f in GROUP_FORMATS.values() for s in (f.scale_suffix, f.shape_suffix)))
    restored = {name: value for name, value in tensors.items() if not name.endswith(suffixes)}
    for name, value in restored.items():
        fmt = next((f for f in GROUP_FORMATS.values() if name + f.scale_suffix in tensors), None)
        if fmt is not None:
            weights = _unpack(value, fmt) * tensors[name + fmt.scale_suffix].float()[:, None]
            restored[name] = weights.reshape(tensors[name + fmt.shape_suffix].tolist())
        elif name + SCALE_SUFFIX in tensors:
            scale = tensors[name + SCALE_SUFFIX]
            restored[name] = (value.float().reshape(len(value), -1) * scale[:, None]).reshape(value.shape)
        elif value.is_floating_point():
            restored[name] = value.float()
    return restored
