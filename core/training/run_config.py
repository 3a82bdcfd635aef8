"""A run's ``config.json``: everything needed to rebuild its networks, data and schedule.

Configurations are data (MONAI's rule): training writes this file once, and every later command
(resume, sample, the app) rebuilds the same autoencoder, denoiser and noise schedule from it.
"""
from __future__ import annotations

import json
import os
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import Any

from core.choices import DEFAULT_BETA_SCHEDULE
from core.data.builtin import is_builtin_name
from core.data.splat_grid import CHANNELS
from core.diffusion import noise_schedule_config
from core.errors import InputError
from core.io.atomic import atomic_write
from core.io.tagged_json import read_tagged_json
from core.models import autoencoder_config, build_autoencoder, denoiser_config
from core.models.text_encoder import ENCODER_NAME, ENCODER_PACKAGE, TEXT_DIM
from core.training.captions import CAPTION_TEMPLATES
from core.training.presets import training_preset
from core.training.spec import ResumeSpec, RunSpec
from core.training.trainer import TrainConfig

RUN_FORMAT = "latent3d-run"
RUN_FORMAT_VERSION = 1
CONFIG_NAME = "config.json"


@dataclass(frozen=True)
class RunConfig:
    """A run's config.json as named fields: the representation, conditioning, classes and seed, the
    networks' configs (:class:`~core.models.AutoencoderConfig` / :class:`~core.models.DenoiserConfig` dicts),
    the noise schedule, each stage's :class:`~core.training.TrainConfig` dict and where the data is.

    ``captions`` is set for text runs, ``autoencoder_from`` when stage 1 came from another run (``--ae-from``),
    ``min_snr_gamma`` when stage 2's loss is Min-SNR weighted (``--min-snr``), ``occupancy_logit`` when a voxel
    model reads its cells at another decoder logit than 0 (``export-builtin --occupancy-logit``), ``latent_norm``
    when stage 2 normalises latents per element (``--latent-norm element``; unset: one global factor).
    :meth:`to_dict` writes the same JSON object :meth:`from_dict` reads, keys in the order runs always had.
    """

    representation: str
    cond: str
    classes: list[str]
    preset: str
    seed: int
    data: dict[str, Any]
    autoencoder: dict[str, Any]
    denoiser: dict[str, Any]
    prediction: str
    schedule: dict[str, Any]
    train: dict[str, dict[str, Any]]
    captions: dict[str, Any] | None = None
    autoencoder_from: dict[str, Any] | None = None
    min_snr_gamma: float | None = None
    occupancy_logit: float | None = None
    latent_norm: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Rebuild from config.json's object; an unknown or missing key is a ValueError naming it."""
        body = {key: value for key, value in data.items() if key not in ("format", "format_version")}
        names = {f.name for f in fields(cls)}
        missing = sorted(f.name for f in fields(cls) if f.default is MISSING and f.name not in body)
        unknown = sorted(set(body) - names)
        if missing or unknown:
            raise ValueError("run config: " + "; ".join(
                part for part in (f"missing {missing}" if missing else "", f"unknown {unknown}" if unknown else "")
                if part))
        return cls(**body)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of config.json (optional entries only when set)."""
        out: dict[str, Any] = {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None or f.default is MISSING:
                out[f.name] = value
        return out

    @property
    def num_classes(self) -> int:
        """Classes the denoiser embeds (0 unless class-conditioned)."""
        return int(self.denoiser.get("num_classes", 0))


def _cadence(preset_name: str, steps: int) -> dict[str, int]:
    """How often a stage of ``steps`` logs, validates and writes checkpoints: the preset's, or at its end."""
    preset = training_preset(preset_name)
    return {"log_every": min(preset.log_every, steps), "val_every": min(preset.val_every, steps),
            "checkpoint_every": min(preset.checkpoint_every, steps)}


def _stage_config(steps: int, batch_size: int, lr: float, spec: RunSpec) -> dict[str, Any]:
    preset = training_preset(spec.preset)
    return TrainConfig(steps=steps, batch_size=batch_size, lr=lr,
                       warmup_steps=min(preset.warmup_steps, max(1, steps // 10)), bf16=spec.bf16, seed=spec.seed,
                       **_cadence(spec.preset, steps)).to_dict()


def with_steps(config: RunConfig, stage: str, steps: int) -> RunConfig:
    """``config`` with ``stage`` running to ``steps``: the cosine schedule and cadence follow the new total;
    the warm-up, already under way or done, is kept."""
    stage_config = {**config.train[stage], "steps": steps, **_cadence(config.preset, steps)}
    return replace(config, train={**config.train, stage: stage_config})


def data_entry(text: str) -> dict[str, str]:
    """A dataset as config.json records it: the absolute ``path`` (so the run resumes from any folder) and
    the text as ``given``; built-in names are kept as they are."""
    path = text if is_builtin_name(text) else os.path.abspath(os.path.expanduser(text))
    return {"path": path, "given": text}


def data_as_given(config: RunConfig) -> str:
    """The run's dataset as the user named it (what a shared training command should show); older runs
    recorded only that text as their path."""
    return config.data.get("given", config.data["path"])


def shareable(config: RunConfig) -> RunConfig:
    """``config`` as a shipped model records it: the dataset as the user named it (``../shared/data/...``, which
    nearest-shape lookups read relative to the project) instead of the absolute path of the machine that trained it,
    and an autoencoder reused from a run given by absolute path (``--ae-from /home/me/runs/x``) by its folder's name,
    as ``exported_from`` names runs."""
    data = {key: value for key, value in config.data.items() if key != "given"}
    reused = config.autoencoder_from
    if reused is not None and Path(reused["run"]).is_absolute():
        reused = {**reused, "run": Path(reused["run"]).name}
    return replace(config, data={**data, "path": data_as_given(config)}, autoencoder_from=reused)


def with_data(config: RunConfig, text: str) -> RunConfig:
    """``config`` reading its shapes from ``text`` (``train --resume --data``: the data moved)."""
    return replace(config, data={**config.data, **data_entry(text)})


def check_data_found(config: RunConfig, run_dir: Path) -> None:
    """A run's dataset that is no longer where config.json says is one line naming it and saying what to do."""
    path = config.data["path"]
    if not is_builtin_name(path) and not Path(path).expanduser().exists():
        raise InputError(path, f"the data of run {run_dir} is no longer here (moved or deleted?); "
                               f"pass --data NEWPATH with --resume to say where it is now")


def _grid_channels(representation: str) -> int:
    """Input channels of a grid autoencoder: occupancy alone for voxels, every splat attribute for splats."""
    if representation != "splats":
        return 1
    return CHANNELS


def build_run_config(spec: RunSpec, classes: list[str], normalization: str) -> RunConfig:
    """The config.json of a new run of ``spec`` over ``classes``."""
    preset = training_preset(spec.preset)
    n_points = spec.n_points or preset.n_points
    ae = autoencoder_config(spec.preset, spec.representation, spec.ae_kind, n_points=n_points,
                            resolution=spec.resolution, in_channels=_grid_channels(spec.representation),
                            gradient_checkpointing=spec.gradient_checkpointing, **spec.autoencoder_overrides())
    latent_shape = build_autoencoder(ae).latent_shape
    denoiser = denoiser_config(spec.preset, latent_shape, spec.cond,
                               num_classes=len(classes) if spec.cond == "class" else 0, text_dim=TEXT_DIM,
                               gradient_checkpointing=spec.gradient_checkpointing, **spec.denoiser_overrides())
    ae_steps, ldm_steps = spec.ae_steps or preset.ae_steps, spec.ldm_steps or preset.ldm_steps
    captions = {"encoder": ENCODER_NAME, "package": ENCODER_PACKAGE, "templates": list(CAPTION_TEMPLATES)}
    return RunConfig(
        representation=spec.representation, cond=spec.cond, classes=list(classes), preset=spec.preset,
        seed=spec.seed,
        data={**data_entry(str(spec.data)), "key": spec.key, "classes": spec.classes, "n_points": n_points,
              "resolution": spec.resolution, "normalization": normalization, "max_shapes": spec.max_shapes,
              "val_examples": preset.val_examples},
        autoencoder=ae.to_dict(), denoiser=denoiser.to_dict(), prediction=spec.prediction,
        schedule=noise_schedule_config(spec.prediction, spec.zero_terminal_snr,
                                       spec.beta_schedule or DEFAULT_BETA_SCHEDULE),
        train={"ae": _stage_config(ae_steps, spec.batch_size or preset.ae_batch_size, spec.lr or preset.ae_lr, spec),
               "ldm": _stage_config(ldm_steps, spec.batch_size or preset.ldm_batch_size,
                                    spec.lr or preset.ldm_lr, spec)},
        captions=captions if spec.cond == "text" else None, min_snr_gamma=spec.min_snr_gamma,
        latent_norm=spec.latent_norm)


def write_run_config(run_dir: Path, config: RunConfig) -> Path:
    """Write ``run_dir/config.json`` atomically."""
    path = Path(run_dir) / CONFIG_NAME
    with atomic_write(path) as temporary:
        temporary.write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_run_config(run_dir: str | Path) -> RunConfig:
    """Read and check ``run_dir/config.json``; a missing or foreign file is an InputError."""
    path = Path(run_dir) / CONFIG_NAME
    if not Path(run_dir).is_dir():
        raise InputError(run_dir, "run folder not found")
    if not path.is_file():
        raise InputError(path, "not a run folder: config.json is missing")
    config = read_tagged_json(path, RUN_FORMAT, "run config")
    if config.get("format_version") != RUN_FORMAT_VERSION:
        raise InputError(path, f"run format version {config.get('format_version')} is not {RUN_FORMAT_VERSION}")
    try:
        return RunConfig.from_dict(config)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
