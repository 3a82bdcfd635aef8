"""Checkpoint files: round trip without pickle, and every bad file an InputError naming it."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from core.errors import InputError
from core.training.checkpoint import load_checkpoint, save_checkpoint, write_checkpoint
from core.training.quantize import (GROUP, GROUP_FORMATS, INT4, INT6, INT8, SCALE_SUFFIX, dequantize,
                                    quantize)


def _model(width: int = 4) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, width), nn.LayerNorm(width), nn.Linear(width, 2))


def _saved(tmp_path, width: int = 4):
    model = _model(width)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    path = save_checkpoint(tmp_path / "ae_last.safetensors", {"stage": "ae", "step": 7, "representation": "points"},
                           model, _model(width), optimizer)
    return path, model, optimizer


def test_round_trip_restores_weights_and_optimizer_state(tmp_path):
    path, model, optimizer = _saved(tmp_path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.manifest["step"] == 7 and checkpoint.manifest["format_version"] == 1
    assert path.with_suffix(".json").is_file()
    restored = checkpoint.load_weights(_model(), "model")
    assert all(torch.equal(a, b) for a, b in zip(restored.state_dict().values(), model.state_dict().values()))
    fresh = torch.optim.AdamW(restored.parameters(), lr=1e-3)
    checkpoint.load_optimizer(fresh)
    for key, state in optimizer.state_dict()["state"].items():
        assert all(torch.equal(state[k], fresh.state_dict()["state"][key][k]) for k in state)
    assert not list(tmp_path.glob(".tmp-*"))


def test_manifest_mismatch_names_the_file_and_the_difference(tmp_path):
    path, _, _ = _saved(tmp_path)
    with pytest.raises(InputError, match=r"ae_last.safetensors: .*representation is 'points', expected 'voxels'"):
        load_checkpoint(path).expect(representation="voxels")


def test_weights_of_another_size_are_refused(tmp_path):
    path, _, _ = _saved(tmp_path, width=4)
    with pytest.raises(InputError, match=r"ae_last.safetensors: model weights do not fit.*shape"):
        load_checkpoint(path).load_weights(_model(width=6), "model")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_are_input_errors(tmp_path, damage):
    path, _, _ = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00\xff" * 40, "empty": b""}[damage])
    with pytest.raises(InputError, match=r"ae_last.safetensors: not a readable safetensors checkpoint"):
        load_checkpoint(path)


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(InputError, match="other.safetensors: .*no Latent3D manifest"):
        load_checkpoint(path)
    with pytest.raises(InputError, match="missing.safetensors: checkpoint file not found"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_an_int8_export_stores_rows_with_scales_and_loads_back_as_float32(tmp_path):
    model = nn.Sequential(nn.Linear(64, 32), nn.LayerNorm(32), nn.Embedding(6, 32))
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    stored = quantize({**ema, "steps": torch.tensor([3])}, INT8)
    assert stored["0.weight"].dtype == torch.int8 and stored["0.weight" + SCALE_SUFFIX].shape == (32,)
    assert stored["0.bias"].dtype == torch.float16 and stored["steps"].equal(torch.tensor([3]))
    path = write_checkpoint(tmp_path / "ldm_last.safetensors", {"format": "latent3d-checkpoint", "format_version": 1,
                                                                 "weights_dtype": INT8},
                            {f"ema.{k}": v for k, v in stored.items() if k != "steps"})
    loaded = load_checkpoint(path).load_weights(nn.Sequential(nn.Linear(64, 32), nn.LayerNorm(32), nn.Embedding(6, 32)))
    for name, original in ema.items():
        restored = loaded.state_dict()[name]
        half_step = original.abs().reshape(len(original), -1).amax(1) / 127 / 2 if original.dim() > 1 else 1e-3
        error = (restored - original).abs().reshape(len(original), -1).amax(1) if original.dim() > 1 \
            else (restored - original).abs().max()
        assert torch.all(error <= half_step * 1.01 + 1e-6), name  # within half a quantisation step per row
    size = sum(v.numel() * v.element_size() for v in stored.values())
    assert size < sum(v.numel() * 4 for v in ema.values()) / 3  # about a quarter of float32's bytes


@pytest.mark.parametrize("dtype, bytes_per_weight, size_divisor", [(INT4, 1 / 2, 5.5), (INT6, 3 / 4, 4.2)])
def test_a_grouped_export_stores_groups_of_32_with_scales_and_loads_back_within_half_a_step(
        dtype, bytes_per_weight, size_divisor):
    fmt = GROUP_FORMATS[dtype]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.LayerNorm(32), nn.Linear(32, 8), nn.Linear(8, 4))
    model[2].weight.data[0] = 0.0  # an all-zero row (a fresh adaLN-Zero layer) must stay exactly zero
    model[0].weight.data[3, 5] = 40.0  # an outlier flattens only its own group of 32
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    stored = quantize(ema, dtype)
    assert stored["0.weight"].dtype == torch.uint8  # int4: two codes a byte, int6: four codes in three bytes
    assert stored["0.weight"].numel() == 64 * 32 * bytes_per_weight
    assert stored["0.weight" + fmt.scale_suffix].shape == (64 * 32 // GROUP,)
    assert stored["3.weight"].dtype == torch.int8 and "3.weight" + SCALE_SUFFIX in stored  # rows of 8: int8 rows
    assert stored["1.weight"].dtype == torch.float16
    restored = dequantize(stored)
    for name, original in ema.items():
        assert restored[name].shape == original.shape and restored[name].dtype == torch.float32, name
    groups, back = ema["0.weight"].reshape(-1, GROUP), restored["0.weight"].reshape(-1, GROUP)
    half_step = groups.abs().amax(1, keepdim=True) / fmt.max_code / 2
    assert torch.all((back - groups).abs() <= half_step * 1.01 + 1e-6)  # bfloat16 scales: within 1 %
    assert restored["0.weight"][3, 5] == pytest.approx(40.0, rel=0.01)
    assert torch.equal(restored["2.weight"][0], torch.zeros(32))
    other_rows = (restored["0.weight"][4:] - ema["0.weight"][4:]).abs().max()
    assert other_rows < 40.0 / fmt.max_code / 10  # the outlier's scale did not reach the other rows
    size = sum(v.numel() * v.element_size() for v in stored.values())
    assert size < sum(v.numel() * 4 for v in ema.values()) / size_divisor  # int4 about a seventh, int6 a fifth


def test_int6_codes_use_every_level_and_sit_between_int8_and_int4_in_error():
    torch.manual_seed(2)
    weights = torch.randn(64, 256) * 0.02
    errors = {dtype: ((dequantize(quantize({"w": weights}, dtype))["w"] - weights) ** 2).mean().sqrt()
              for dtype in (INT8, INT6, INT4)}
    assert errors[INT8] < errors[INT6] < errors[INT4] / 3  # six bits: about a quarter of int4's error
    levels = torch.cat([torch.arange(-31, 1), torch.arange(0, 32)]).float()[None] / 32  # every int6 level, in order
    assert torch.equal(dequantize(quantize({"w": levels}, INT6))["w"], levels)  # scales of 1/32 are exact
