"""Checkpoints: one safetensors file (weights, EMA weights, optimiser state) with its manifest inside.

The manifest (JSON: stage, model kind and config, data statistics, code version, step …) is stored in
the safetensors header metadata, so weights and manifest are replaced together by one atomic rename
and can never disagree; a ``.json`` copy beside it is for people and tools. Nothing is pickled:
optimiser state is flattened into named tensors (``optim.<param index>.<key>``) and its hyper-
parameters go into the manifest. No RNG state is stored either: every random draw of step k is seeded
from (seed, stage, step, rank) (core.training.batching), so a resumed run needs none. Loading checks the file before anything else is touched and turns
every problem into an :class:`InputError` naming the file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.errors import InputError
from core.io.atomic import atomic_write
from core.training.quantize import QUANTIZED_DTYPES, dequantize

FORMAT = "latent3d-checkpoint"
FORMAT_VERSION = 1
_MANIFEST_KEY = "manifest"


def checkpoint_path(run_dir: str | Path, stage: str, tag: str = "last") -> Path:
    """Where a run keeps a stage's checkpoint: ``RUN/checkpoints/<stage>_<tag>.safetensors`` (tag last|best)."""
    return Path(run_dir) / "checkpoints" / f"{stage}_{tag}.safetensors"


def code_version() -> str:
    """The installed package version, recorded so a checkpoint says which code wrote it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("latent3d-studio")
    except PackageNotFoundError:
        return "unknown"


def _prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # clone: safetensors refuses tensors that share storage (tied weights, views)
    return {f"{prefix}.{k}": v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """Flatten an optimiser's state into named tensors plus its JSON-safe param groups."""
    state = optimizer.state_dict()
    tensors = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value).detach().to("cpu", copy=True).contiguous()
    return tensors, state["param_groups"]


def save_checkpoint(path: Path, manifest: dict[str, Any], model: nn.Module, ema: nn.Module | None = None,
                    optimizer: torch.optim.Optimizer | None = None) -> Path:
    """Write ``path`` (.safetensors) and its ``.json`` manifest copy, each atomically; return ``path``."""
    tensors = _prefixed("model", model.state_dict())
    if ema is not None:
        tensors.update(_prefixed("ema", ema.state_dict()))
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "code_version": code_version(), **manifest}
    if optimizer is not None:
        optim, groups = optimizer_tensors(optimizer)
        tensors.update(optim)
        manifest["optimizer"] = {"type": type(optimizer).__name__, "param_groups": groups}
    return write_checkpoint(path, manifest, tensors)


def write_checkpoint(path: Path, manifest: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Path:
    """Write named CPU tensors with ``manifest`` in the header, and its ``.json`` copy, each atomically."""
    from safetensors.torch import save_file

    text = json.dumps(manifest, indent=1, sort_keys=True)
    with atomic_write(path) as temporary:
        save_file(tensors, str(temporary), metadata={_MANIFEST_KEY: text})
    with atomic_write(path.with_suffix(".json")) as temporary:
        temporary.write_text(text + "\n")
    return path


@dataclass
class Checkpoint:
    """A loaded checkpoint file: its manifest and named tensors (on the CPU)."""

    path: Path
    manifest: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors saved under ``prefix.`` (``model``, ``ema``), prefix removed."""
        start = len(prefix) + 1
        return {k[start:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}

    def expect(self, **expected: Any) -> None:
        """Raise InputError listing each manifest entry that differs from ``expected``."""
        wrong = [f"{key} is {self.manifest.get(key)!r}, expected {value!r}"
                 for key, value in expected.items() if self.manifest.get(key) != value]
        if wrong:
            raise InputError(self.path, "checkpoint does not match this run: " + "; ".join(wrong))

    def load_weights(self, model: nn.Module, prefix: str = "ema") -> nn.Module:
        """Copy the ``prefix`` weights into ``model`` after checking every name and shape."""
        saved, own = self.group(prefix), model.state_dict()
        problems = []
        if missing := sorted(set(own) - set(saved)):
            problems.append(f"missing {len(missing)} tensors (e.g. {missing[0]})")
        if unexpected := sorted(set(saved) - set(own)):
            problems.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
        problems += [f"{k} has shape {tuple(saved[k].shape)}, the model {tuple(v.shape)}"
                     for k, v in own.items() if k in saved and saved[k].shape != v.shape][:3]
        if problems:
            raise InputError(self.path, f"{prefix} weights do not fit the model: " + "; ".join(problems))
        model.load_state_dict(saved)
        return model

    def load_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Restore the optimiser state saved by :func:`save_checkpoint`."""
        info = self.manifest.get("optimizer")
        if info is None or info.get("type") != type(optimizer).__name__:
            raise InputError(self.path, f"no {type(optimizer).__name__} state to resume from")
        state: dict[int, dict[str, torch.Tensor]] = {}
        for name, value in self.group("optim").items():
            index, key = name.split(".", 1)
            state.setdefault(int(index), {})[key] = value
        try:
            optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
        except (ValueError, KeyError) as exc:
            raise InputError(self.path, f"optimiser state does not fit the model ({exc})") from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and validate a checkpoint file; any unreadable, truncated or foreign file is an InputError."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint file not found")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise InputError(path, f"not a readable safetensors checkpoint (corrupt or truncated: {exc})") from None
    try:
        manifest = json.loads(metadata[_MANIFEST_KEY])
    except (KeyError, json.JSONDecodeError):
        raise InputError(path, "safetensors file has no Latent3D manifest (not one of our checkpoints)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(path, "safetensors file has no Latent3D manifest (not one of our checkpoints)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(path, f"checkpoint format version {manifest.get('format_version')} is not "
                               f"{FORMAT_VERSION}; it was written by another version of the code")
    if manifest.get("weights_dtype") in QUANTIZED_DTYPES:  # an export of integers and scales (core.training.quantize)
        tensors = dequantize(tensors)
    return Checkpoint(path, manifest, tensors)
