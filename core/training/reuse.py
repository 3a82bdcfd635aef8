"""``train --ae-from RUN``: start a new run from another run's trained autoencoder, skipping stage 1.

Stage 1 is about two thirds of a small run's CPU time, and an autoencoder does not depend on the
conditioning or on which classes the denoiser is later trained on: a text run over chair + sofa +
table can use the autoencoder of a class run over six classes, as long as the networks are the same
(representation, preset sizes, points/resolution, AE kind) and the shapes are normalised alike.
The source's ``ae_last`` checkpoint (weights, EMA weights, optimiser state, step) is copied into the
new run, whose stage 1 then resumes at its last step and so trains nothing.

The source may also be a built-in model (``builtin:points``): its export keeps only the EMA weights,
in float16. They are written back as float32 under both ``model`` and ``ema`` (stage 1 never steps
again, so its raw weights and optimiser state are never used), so a denoiser can be trained longer,
or on text, over the autoencoder that ships with the project.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.models.config import AutoencoderConfig
from core.training.checkpoint import checkpoint_path, load_checkpoint, write_checkpoint
from core.training.pretrained import is_builtin, resolve_run
from core.training.run_config import RunConfig, read_run_config


def _with_defaults(model_config: dict[str, Any]) -> dict[str, Any]:
    """A saved autoencoder config with the defaults of settings added after it was saved (a built-in
    model exported before ``latent_noise`` existed was trained with its default); as saved where it
    does not rebuild (its differences then name the odd keys)."""
    try:
        return AutoencoderConfig.from_dict(model_config).to_dict()
    except (TypeError, ValueError):
        return model_config


def _differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    return [f"{key} {found.get(key)!r} (this run: {expected.get(key)!r})"
            for key in sorted(set(expected) | set(found)) if expected.get(key) != found.get(key)]


def reuse_autoencoder(source: str | Path, config: RunConfig) -> RunConfig:
    """``config`` with stage 1 taken from ``source``'s finished autoencoder, after checking that it fits.

    Every mismatch (not a run, no or unfinished autoencoder, other architecture or normalisation) is an
    InputError. The returned config records the source under ``autoencoder_from``: a built-in model by its
    ``builtin:NAME`` (a shipped run then names no folder of the machine that trained it), a run by its path.
    """
    named = str(source) if is_builtin(source) else str(Path(source).resolve())
    source = resolve_run(source)
    read_run_config(source)  # a clear error when it is not a run folder
    path = checkpoint_path(source, "ae")
    checkpoint = load_checkpoint(path)
    checkpoint.expect(stage="ae", kind="autoencoder")
    manifest = checkpoint.manifest
    wrong = [f"representation {manifest.get('representation')!r} (this run: {config.representation!r})"
             ] if manifest.get("representation") != config.representation else []
    wrong += _differences(config.autoencoder, _with_defaults(manifest.get("model_config") or {}))
    normalization = (manifest.get("data") or {}).get("normalization")
    if normalization != config.data["normalization"]:
        wrong.append(f"normalisation {normalization!r} (this run: {config.data['normalization']!r})")
    if wrong:
        raise InputError("--ae-from", f"the autoencoder of {source} does not fit this run: " + "; ".join(wrong))
    step, total = int(manifest["step"]), int(manifest["total_steps"])
    if step < total:
        raise InputError("--ae-from", f"the autoencoder of {source} is still training (step {step} of {total}); "
                                      "wait until its stage 1 has finished")
    return replace(config, train={**config.train, "ae": manifest["train"]},
                   autoencoder_from={"run": named, "step": step})


def copy_autoencoder(config: RunConfig, run_dir: Path) -> Path:
    """Write the source checkpoint named in ``config.autoencoder_from`` into ``run_dir``.

    Its manifest takes this run's autoencoder config: :func:`reuse_autoencoder` found them equal once
    the defaults of settings added since the source was saved are filled in, and the run's resume and
    load checks compare the two as written.
    """
    checkpoint = load_checkpoint(checkpoint_path(resolve_run(config.autoencoder_from["run"]), "ae"))
    manifest = {**checkpoint.manifest, "model_config": config.autoencoder}
    tensors = checkpoint.tensors
    if not checkpoint.group("model"):  # a built-in model's export: EMA weights only
        ema = {name: value.float() for name, value in checkpoint.group("ema").items()}
        tensors = {**{f"model.{k}": v for k, v in ema.items()}, **{f"ema.{k}": v.clone() for k, v in ema.items()}}
    return write_checkpoint(checkpoint_path(run_dir, "ae"), manifest, tensors)
