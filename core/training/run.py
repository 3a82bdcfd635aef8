"""A whole training run (stage 1, latents, stage 2, or resume) and loading a trained run for sampling.

Run folder::

    RUN/config.json                     everything to rebuild networks, schedule and data (run_config.py)
    RUN/metrics.jsonl                   one JSON per logged step: stage, step, epoch, losses, lr, time
    RUN/checkpoints/ae_{last,best}.safetensors  (+ .json manifest copies)   stage 1
    RUN/checkpoints/ldm_{last,best}.safetensors (+ .json)                   stage 2; holds the latent statistics
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.cancel import CancelToken
from core.choices import DEFAULT_LATENT_NORM
from core.data import open_dataset
from core.diffusion import LatentDiffusionPipeline, LatentNorm
from core.diffusion.schedulers import alphas_cumprod
from core.errors import InputError
from core.events import EventHandler, Log
from core.models import AutoencoderConfig, DenoiserConfig, build_autoencoder, build_denoiser
from core.models.text_encoder import embed_prompts
from core.training.captions import caption_table
from core.training.checkpoint import checkpoint_path, load_checkpoint
from core.training.distributed import DistInfo, barrier, device_for, setup_distributed
from core.training.pretrained import resolve_run
from core.training.representations import Representation, representation, with_occupancy_logit
from core.training.result import TrainResult
from core.training.reuse import copy_autoencoder, reuse_autoencoder
from core.training.run_config import (CONFIG_NAME, ResumeSpec, RunConfig, RunSpec, build_run_config,
                                      check_data_found, read_run_config, with_data, with_steps, write_run_config)
from core.training.stages import autoencoder_loss, denoiser_loss, encode_all
from core.training.trainer import Trainer, TrainConfig

#: below this many shapes in a single-split dataset none is held out: validation uses the training
#: shapes (a tenth of 10 is the first held-out shape that still leaves 9 to train on)
MIN_SHAPES_TO_HOLD_OUT = 10
VAL_ON_TRAINING = "training shapes (too few to hold any out)"


def check_device(device: str) -> None:
    """Refuse ``cuda`` on a machine without a CUDA GPU with one clear line instead of a torch traceback."""
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device", "cuda was asked for but no CUDA GPU is available")


@dataclass
class TrainingData:
    """Compact training and validation tensors with labels indexing ``classes``, and their statistics."""

    train: list[torch.Tensor]
    val: list[torch.Tensor]
    classes: list[str]
    stats: dict[str, Any]


def _class_labels(dataset, classes: list[str]) -> torch.Tensor:
    lookup = np.array([classes.index(c) if c in classes else -1 for c in dataset.classes], dtype=np.int64)
    return torch.from_numpy(lookup[np.asarray(dataset.labels(), dtype=np.int64)])


def _some(tensors: list[torch.Tensor], count: int | None, seed: int) -> list[torch.Tensor]:
    """A fixed random choice of ``count`` examples (all when count is None or larger), in dataset order."""
    total = len(tensors[0])
    if count is None or count >= total:
        return tensors
    chosen = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:count].sort().values
    return [t[chosen] for t in tensors]


def load_training_data(config: RunConfig, rep: Representation) -> TrainingData:
    """The run's shapes: the train split (at most ``max_shapes``) for training; ``val_examples`` shapes of
    the test split, or of a held-out slice of the training shapes, for validation."""
    data, seed = config.data, config.seed
    classes = config.classes
    selected = open_dataset(data["path"], key=data.get("key")).subset(classes=classes)
    splits = {record.split for record in selected.records}
    load = lambda subset: [rep.load(subset, data["n_points"], data["resolution"]), _class_labels(subset, classes)]
    train = load(selected.subset(split="train") if "train" in splits else selected)
    if "train" in splits and "test" in splits:
        val, source = load(selected.subset(split="test")), "test split"
    elif len(train[0]) >= MIN_SHAPES_TO_HOLD_OUT:  # a single split: hold out a fixed slice of the shuffled shapes
        held = max(1, min(data["val_examples"], len(train[0]) // 10))
        order = torch.randperm(len(train[0]), generator=torch.Generator().manual_seed(seed))
        val, train = [t[order[:held]] for t in train], [t[order[held:]] for t in train]
        source = "held-out training shapes"
    else:  # too few to spare any (two real 3DGS scenes): validation measures the fit to the training shapes
        val, source = train, VAL_ON_TRAINING
    train, val = _some(train, data.get("max_shapes"), seed), _some(val, data["val_examples"], seed + 1)
    stats = {"classes": classes, "n_train": len(train[0]), "n_val": len(val[0]), "val_source": source,
             "normalization": data["normalization"], "source": data["path"]}
    return TrainingData(train, val, classes, stats)


def _create_run(run_dir: Path, spec: RunSpec, rep: Representation, info: DistInfo) -> RunConfig:
    if (run_dir / CONFIG_NAME).exists() or (run_dir / "checkpoints").exists():
        raise InputError(run_dir, "already holds a run; pass --resume to continue it or choose another --out")
    classes = open_dataset(spec.data, key=spec.key).subset(classes=spec.classes).classes  # names unknown ones
    check_conditioning(spec.cond, classes, spec.data)
    config = build_run_config(spec, classes, rep.normalization)
    if spec.ae_from is not None:
        config = reuse_autoencoder(spec.ae_from, config)
    barrier(info)  # every rank has checked the folder before rank 0 fills it
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_run_config(run_dir, config)
        if spec.ae_from is not None:
            copy_autoencoder(config, run_dir)
    return config


def check_conditioning(cond: str, classes: list[str], data: str) -> None:
    """Refuse ``--cond class`` over fewer than two classes: the "conditional" model would learn nothing from it."""
    if cond == "class" and len(classes) < 2:
        raise InputError(data, f"--cond class needs at least two classes, and the data (as selected) has "
                               f"{len(classes)}: {', '.join(classes)}; use --cond none")


def _stage_reached(run_dir: Path, stage: str) -> int:
    """The step of a stage's ``last`` checkpoint, 0 when the stage has not started."""
    path = checkpoint_path(run_dir, stage)
    return int(load_checkpoint(path).manifest["step"]) if path.exists() else 0


def _with_new_steps(config: RunConfig, run_dir: Path, resume: ResumeSpec, emit: EventHandler) -> RunConfig:
    """``config`` with the stage totals ``resume`` asks for, each one checked against what was trained.

    A stage can run to any total at or past the step it reached; stage 1 cannot change once stage 2 has
    started (its latents came from the autoencoder as it was) or when it was taken from another run.
    """
    for stage, wanted in resume.steps().items():
        old = config.train[stage]["steps"]
        if wanted is None or wanted == old:
            continue
        option, reached = f"--{stage}-steps", _stage_reached(run_dir, stage)
        if wanted < reached:
            raise InputError(option, f"{stage} has already taken {reached} steps; give at least {reached} "
                                     f"(fewer would undo trained steps) or start a new run")
        if stage == "ae" and config.autoencoder_from is not None:
            raise InputError(option, f"stage 1 of this run was taken from {config.autoencoder_from['run']} "
                                     "and cannot train further here")
        if stage == "ae" and _stage_reached(run_dir, "ldm") > 0:
            raise InputError(option, "stage 2 has started on latents of the autoencoder as it is, so stage 1 "
                                     "cannot change now (start a new run with --ae-from to reuse it)")
        config = with_steps(config, stage, wanted)
        emit(Log(f"{stage}: {old} -> {wanted} steps, continuing from step {reached} (the learning-rate "
                 f"schedule now runs to step {wanted})"))
    return config


def _resumed_config(run_dir: Path, resume: ResumeSpec, info: DistInfo, emit: EventHandler) -> RunConfig:
    """The run's config.json with the data's new place and new step totals applied (and written back, so
    the next resume needs neither); its data must be found."""
    original = read_run_config(run_dir)
    config = original if resume.data is None else with_data(original, resume.data)
    check_data_found(config, run_dir)
    config = _with_new_steps(config, run_dir, resume, emit)
    if config != original:
        if config.data != original.data:
            emit(Log(f"data now read from {config.data['path']}"))
        barrier(info)  # every rank has read the old file before rank 0 replaces it
        if info.is_main:
            write_run_config(run_dir, config)
    return config


def _caption_table(config: RunConfig, emit: EventHandler) -> torch.Tensor | None:
    """A text run's (classes, templates, 384) caption embeddings, computed once before stage 2."""
    if config.cond != "text":
        return None
    templates = config.captions["templates"]
    emit(Log(f"embedding {len(config.classes) * len(templates)} training captions"))
    return caption_table(config.classes, templates, embed_prompts)


def _resume(trainer: Trainer, expected: dict[str, Any], emit: EventHandler) -> None:
    path = trainer.checkpoint_path("last")
    if path.exists():
        checkpoint = load_checkpoint(path)
        checkpoint.expect(**expected)
        trainer.restore(checkpoint)
        emit(Log(f"resuming {trainer.stage} from step {trainer.step} ({path})"))


def train_run(run_dir: str | Path, spec: RunSpec | ResumeSpec | None = None, device: str = "cpu",
              emit: EventHandler = lambda e: None, cancel: CancelToken | None = None) -> TrainResult:
    """Train a new run from a :class:`RunSpec`, or resume the one in ``run_dir`` (``spec`` a
    :class:`ResumeSpec`, or None to continue it as it is).

    Under ``torchrun`` every rank calls this; data is sharded per rank and only rank 0 writes.
    Returns paths of the final checkpoints and the latents' global scale factor.
    """
    run_dir, cancel = Path(run_dir), cancel or CancelToken()
    check_device(device)
    info = setup_distributed(torch.device(device))
    torch_device = device_for(device, info)
    if not isinstance(spec, RunSpec):
        config = _resumed_config(run_dir, spec or ResumeSpec(), info, emit)
        rep = representation(config.representation, run_dir / CONFIG_NAME, config.data["resolution"])
    else:
        rep = representation(spec.representation, spec.data, spec.resolution)
        config = _create_run(run_dir, spec, rep, info)
    barrier(info)
    if config.autoencoder_from is not None:
        emit(Log(f"stage 1 taken from {config.autoencoder_from['run']} (step {config.autoencoder_from['step']})"))
    data = load_training_data(config, rep)
    if data.stats["val_source"] == VAL_ON_TRAINING:
        emit(Log(f"only {data.stats['n_train']} shapes: validating on the training shapes", level="warning"))
    common = {"representation": config.representation}

    ae_config = AutoencoderConfig.from_dict(config.autoencoder)
    torch.manual_seed(config.seed)  # identical initial weights on every rank
    ae_manifest = {**common, "kind": "autoencoder", "model_config": config.autoencoder, "data": data.stats}
    ae_trainer = Trainer("ae", build_autoencoder(ae_config), autoencoder_loss(rep), data.train[:1], data.val[:1],
                         TrainConfig.from_dict(config.train["ae"]), run_dir, ae_manifest, torch_device, emit,
                         cancel, info)
    _resume(ae_trainer, {"kind": "autoencoder", **common, "model_config": config.autoencoder}, emit)
    ae = ae_trainer.fit()

    emit(Log("encoding the training shapes into latents"))
    train_z = encode_all(ae.ema, rep, data.train[0], torch_device)
    val_z = encode_all(ae.ema, rep, data.val[0], torch_device)
    norm = LatentNorm.fit(train_z, config.latent_norm or DEFAULT_LATENT_NORM)
    stats = {**data.stats, **norm.to_stats(), "autoencoder_step": ae.step}

    den_config = DenoiserConfig.from_dict(config.denoiser)
    torch.manual_seed(config.seed + 1)
    ldm_manifest = {**common, "kind": "denoiser", "model_config": config.denoiser, "data": stats,
                    "schedule": config.schedule}
    loss = denoiser_loss(alphas_cumprod(config.schedule), config.schedule["prediction_type"],
                         den_config.cond, den_config.num_classes, _caption_table(config, emit),
                         min_snr_gamma=config.min_snr_gamma)
    ldm_trainer = Trainer("ldm", build_denoiser(den_config), loss, [norm.normalize(train_z), data.train[1]],
                          [norm.normalize(val_z), data.val[1]], TrainConfig.from_dict(config.train["ldm"]), run_dir,
                          ldm_manifest, torch_device, emit, cancel, info)
    _resume(ldm_trainer, {"kind": "denoiser", **common, "model_config": config.denoiser}, emit)
    ldm = ldm_trainer.fit()
    return TrainResult(run_dir=str(run_dir), autoencoder=str(ae.last), denoiser=str(ldm.last),
                       scale_factor=stats["scale_factor"],
                       metrics=str(run_dir / "metrics.jsonl"))


@dataclass
class TrainedRun:
    """A run's networks with EMA weights, ready to sample."""

    run_dir: Path
    config: RunConfig
    representation: Representation
    autoencoder: nn.Module
    denoiser: nn.Module
    latent_norm: LatentNorm

    @property
    def classes(self) -> list[str]:
        """Class names in label order."""
        return list(self.config.classes)

    def pipeline(self):
        """The :class:`~core.diffusion.LatentDiffusionPipeline` over this run's networks."""
        return LatentDiffusionPipeline(self.autoencoder, self.denoiser, self.config.schedule, self.latent_norm,
                                       num_classes=self.config.num_classes)


def load_trained(run_dir: str | Path, device: str = "cpu") -> TrainedRun:
    """Load a finished (or interrupted) run's EMA networks, or a built-in model (``builtin:NAME``);
    every mismatch is an InputError naming the file."""
    run_dir = resolve_run(run_dir)
    check_device(device)
    config = read_run_config(run_dir)
    rep = with_occupancy_logit(representation(config.representation, run_dir / CONFIG_NAME, config.data["resolution"]),
                               config.occupancy_logit, run_dir / CONFIG_NAME)
    try:
        ae = build_autoencoder(AutoencoderConfig.from_dict(config.autoencoder))
        denoiser = build_denoiser(DenoiserConfig.from_dict(config.denoiser))
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(run_dir / CONFIG_NAME, f"cannot rebuild the networks ({exc})") from None
    common = {"representation": config.representation}
    ae_checkpoint = load_checkpoint(checkpoint_path(run_dir, "ae"))
    ae_checkpoint.expect(stage="ae", kind="autoencoder", model_config=config.autoencoder, **common)
    ldm_checkpoint = load_checkpoint(checkpoint_path(run_dir, "ldm"))
    ldm_checkpoint.expect(stage="ldm", kind="denoiser", model_config=config.denoiser, **common)
    ae_checkpoint.load_weights(ae, "ema")
    ldm_checkpoint.load_weights(denoiser, "ema")
    try:
        norm = LatentNorm.from_stats(ldm_checkpoint.manifest["data"], ae.latent_shape)
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(checkpoint_path(run_dir, "ldm"), f"unreadable latent statistics ({exc})") from None
    torch_device = torch.device(device)
    return TrainedRun(run_dir, config, rep, ae.to(torch_device).eval(), denoiser.to(torch_device).eval(), norm)
