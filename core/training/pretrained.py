"""The built-in pretrained models: ``builtin:NAME`` wherever a run folder is accepted.

A built-in model is a run folder stripped to what sampling needs (``config.json`` and the EMA weights
of both stages under ``checkpoints/``, written by ``python -m core export-builtin``), kept in
``resources/pretrained/NAME/`` beside ``resources/pretrained/manifest.json`` (what each was trained on,
how, how long, how good) and its README. :func:`resolve_run` turns ``builtin:points`` into that folder,
so ``load_trained`` and everything above it (``sample``, ``eval``, the app) accept both.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.io.tagged_json import read_tagged_json
from core.resources import resources_dir

BUILTIN_PREFIX = "builtin:"
#: resources/pretrained/manifest.json: {"format": ..., "models": {name: entry}}
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "latent3d-pretrained"


def pretrained_dir() -> Path:
    """``resources/pretrained`` (see :mod:`core.resources` for how it is found)."""
    return resources_dir() / "pretrained"


def builtin_names() -> list[str]:
    """The built-in models present, sorted: folders of ``resources/pretrained`` holding a ``config.json``."""
    folder = pretrained_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file())


def builtin_folders() -> dict[str, Path]:
    """``{"builtin:NAME": folder}`` for every built-in model present, read from disk alone (no torch), so the
    app lists them the moment its Sample page opens."""
    return {BUILTIN_PREFIX + name: pretrained_dir() / name for name in builtin_names()}


def is_builtin(spec: str | Path) -> bool:
    """Whether ``spec`` names a built-in model (``builtin:NAME``) rather than a run folder."""
    return str(spec).startswith(BUILTIN_PREFIX)


def resolve_run(spec: str | Path) -> Path:
    """A run folder path unchanged; ``builtin:NAME`` → its folder; an unknown name → InputError listing the known."""
    if not is_builtin(spec):
        return Path(spec)
    name = str(spec)[len(BUILTIN_PREFIX):]
    names = builtin_names()
    if name not in names:
        known = ", ".join(BUILTIN_PREFIX + n for n in names) or f"none (no models in {pretrained_dir()})"
        raise InputError(spec, f"no built-in model {name!r}; built-in models: {known}")
    return pretrained_dir() / name


def peek_config(spec: str | Path) -> dict[str, Any] | None:
    """The config.json of a run folder or ``builtin:NAME`` as plain JSON, read without torch, so the app fills its
    forms from it before any model loads; None where there is none to read (the job that loads it names why)."""
    try:
        config = json.loads((resolve_run(spec) / "config.json").read_text(encoding="utf-8"))
    except (InputError, OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The manifest of ``folder`` (default: resources/pretrained); an empty one when there is none yet."""
    path = (folder or pretrained_dir()) / MANIFEST_NAME
    if not path.is_file():
        return {"format": MANIFEST_FORMAT, "models": {}}
    return read_tagged_json(path, MANIFEST_FORMAT, "pretrained-model manifest")


def _manifest_entry(spec: str | Path) -> dict[str, Any]:
    """A built-in model's manifest entry; empty for a run folder or a model the manifest does not list."""
    if not is_builtin(spec):
        return {}
    return read_manifest()["models"].get(str(spec)[len(BUILTIN_PREFIX):]) or {}


def default_guidance(spec: str | Path) -> float | None:
    """A built-in model's guidance from its manifest entry (the one its quality was measured at);
    None for a run folder or a model whose entry names none."""
    guidance = _manifest_entry(spec).get("guidance")
    return None if guidance is None else float(guidance)


def default_sampler(spec: str | Path) -> str | None:
    """A built-in model's sampler from its manifest entry (the one its quality was measured with);
    None for a run folder or a model whose entry names none."""
    return _manifest_entry(spec).get("sampler")
