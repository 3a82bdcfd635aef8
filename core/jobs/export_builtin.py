"""``ExportBuiltinJob``: package a trained run as a built-in model (``builtin:NAME``) in resources/pretrained.

Writes ``DEST/NAME/config.json`` and ``DEST/NAME/checkpoints/{ae,ldm}_last.safetensors`` holding only the
EMA weights sampling uses (optimiser state and raw weights dropped, float16 by default), with the run's
checkpoint manifests kept so loading still checks representation and model configs. Then it samples the
run and the export with one seed and records how far they differ (the cost of float16), adds the model
to ``DEST/manifest.json`` and rewrites ``DEST/README.md`` from that manifest.
"""
from __future__ import annotations

import json
import os
import platform
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from core.choices import DEFAULT_BETA_SCHEDULE, DEFAULT_GUIDANCE, DEFAULT_LATENT_NORM, DEFAULT_SAMPLER
from core.errors import InputError
from core.io import atomic_write
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Progress
from core.jobs.sample import SampleJob, check_sampler
from core.training.pretrained import MANIFEST_NAME, pretrained_dir, read_manifest

if TYPE_CHECKING:
    from core.training.run_config import RunConfig

#: stored weight types; float16 halves the files (the issue's budget is 25 MB for three models), int8 (weight
#: matrices as int8 with row scales, core.training.quantize) quarters them, int6 and int4 (6- and 4-bit groups of
#: 32 with a bfloat16 scale each) take them to about a fifth and a seventh
WEIGHT_DTYPES = ("float16", "float32", "int8", "int6", "int4")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]*")
BUDGET_BYTES = 25_000_000
#: the fp16-vs-run check: a few shapes, the default sampler settings of ``sample``
CHECK_SHAPES, CHECK_STEPS, CHECK_SEED = 4, 20, 0
STAGES = ("ae", "ldm")
#: what the data's licence allows, for the README (https://modelnet.cs.princeton.edu/)
DATA_TERMS = {
    "modelnet": "ModelNet (Wu et al., \"3D ShapeNets\", CVPR 2015, https://modelnet.cs.princeton.edu/) is provided "
                "for academic research use only: models trained on it, these included, inherit that restriction.",
}


class ExportBuiltinJob(Job):
    """Export ``run_dir`` as built-in model ``name`` into ``dest`` (default resources/pretrained)."""

    name = "export-builtin"

    def __init__(self, run_dir: str | Path, name: str, dest: str | Path | None = None, dtype: str = "float16",
                 command: str | None = None, hardware: str | None = None, guidance: float | None = None,
                 ae_dtype: str | None = None, sampler: str | None = None, occupancy_logit: float | None = None) -> None:
        self.run_dir, self.model_name = Path(run_dir), name
        self.dest = Path(dest) if dest is not None else pretrained_dir()
        self.command, self.hardware, self.guidance, self.sampler = command, hardware, guidance, sampler
        self.occupancy_logit = occupancy_logit
        # each stage's stored weight type: the decoder's output is thresholded into pieces, so it may need finer
        # weights than the denoiser
        self.dtypes = {"ae": ae_dtype or dtype, "ldm": dtype}

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Check, write the weights, compare samples, then update manifest and README."""
        training = _training()
        if not NAME_PATTERN.fullmatch(self.model_name):
            raise InputError("--name", f"{self.model_name!r} is not a model name (lower-case letters, digits, - or _)")
        if self.guidance is not None and self.guidance < 0:
            raise InputError("--guidance", f"guidance must be at least 0, got {self.guidance}")
        if self.sampler is not None:
            check_sampler(self.sampler)
        for option, dtype in (("--ae-dtype", self.dtypes["ae"]), ("--dtype", self.dtypes["ldm"])):
            if dtype not in WEIGHT_DTYPES:
                raise InputError(option, f"{dtype!r}; use one of {', '.join(WEIGHT_DTYPES)}")
        run = training.load_trained(self.run_dir)  # the run must load (and pass its checks) before anything is written
        config = run.config
        if self.occupancy_logit is not None:  # checked (voxels, finite) as sampling checks it
            reading = training.with_occupancy_logit(run.representation, self.occupancy_logit, "--occupancy-logit")
            config = replace(config, occupancy_logit=reading.occupancy_logit)
        folder = self.dest / self.model_name
        training.write_run_config(folder, training.shareable(config))
        data = training.data_as_given(run.config)
        steps = {stage: self._export_stage(stage, folder, data) for stage in STAGES}
        emit(Progress(1, 2, "export"))
        cancel.raise_if_cancelled()
        check = _compare_samples(self.run_dir, folder, run.classes[0] if config.cond == "class" else None,
                                 config.occupancy_logit)
        emit(Log(f"samples of the export vs the run: max |diff| {check['max_abs_diff']:.2e}, "
                 f"mean {check['mean_abs_diff']:.2e}"))
        entry = self._entry(config, steps, check, folder)
        manifest = _update_manifest(self.dest, self.model_name, entry)
        write_readme(self.dest, manifest)
        total = _folder_bytes(self.dest)
        if total > BUDGET_BYTES:
            emit(Log(f"{self.dest} holds {total / 1e6:.1f} MB, over the {BUDGET_BYTES / 1e6:.0f} MB budget",
                     level="warning"))
        emit(Progress(2, 2, "export"))
        return {"folder": str(folder), "entry": entry, "total_bytes": total}

    def _export_stage(self, stage: str, folder: Path, data: str) -> int:
        """Copy one stage's EMA weights (cast to the chosen dtype) and manifest, naming the dataset as given
        (``data``) and the run by its folder name, not by paths of this machine; return its training step."""
        import torch

        training = _training()
        checkpoint = training.load_checkpoint(training.checkpoint_path(self.run_dir, stage))
        ema = checkpoint.group("ema")
        dtype = self.dtypes[stage]
        if dtype in training.QUANTIZED_DTYPES:
            ema = training.quantize(ema, dtype)
        else:
            ema = {k: training.cast_floating(v, getattr(torch, dtype)) for k, v in ema.items()}
        tensors = {f"ema.{k}": v for k, v in ema.items()}
        manifest = {k: v for k, v in checkpoint.manifest.items() if k != "optimizer"}
        manifest.update(weights_dtype=dtype, exported_from=self.run_dir.name)
        if "data" in manifest:
            manifest["data"] = {**manifest["data"], "source": data}
        training.write_checkpoint(training.checkpoint_path(folder, stage), manifest, tensors)
        return int(checkpoint.manifest["step"])

    def _entry(self, config: RunConfig, steps: dict[str, int], check: dict[str, Any],
               folder: Path) -> dict[str, Any]:
        """The manifest.json record of this model."""
        autoencoder = {"ae_weights_dtype": self.dtypes["ae"]} if self.dtypes["ae"] != self.dtypes["ldm"] else {}
        source = _source_entry(self.run_dir)
        return {
            "name": self.model_name, "representation": config.representation, "cond": config.cond,
            "classes": config.classes, "preset": config.preset,
            "source_data": _training().data_as_given(config),
            "training_command": self.command or source.get("training_command") or train_command(config, self.run_dir),
            "steps": steps,
            "train_seconds": train_seconds(self.run_dir / "metrics.jsonl") or source.get("train_seconds"),
            "hardware": self.hardware or source.get("hardware") or this_machine(),
            "weights_dtype": self.dtypes["ldm"], **autoencoder, "bytes": _folder_bytes(folder), "export_check": check,
            # the model's defaults: its quality figures are measured with them
            "guidance": self.guidance if self.guidance is not None else source.get("guidance"),
            "sampler": self.sampler or source.get("sampler"),
            **({"occupancy_logit": config.occupancy_logit} if config.occupancy_logit is not None else {}),
            "metrics": None,  # filled by hand from `python -m core eval` runs (README's quality table)
        }


def _source_entry(run_dir: Path) -> dict[str, Any]:
    """The manifest entry of the built-in model ``run_dir`` is, or {} for a training run: re-exporting a shipped
    model (in another storage type, say) keeps how, how long and where it was trained, which its folder (EMA
    weights only, no metrics.jsonl) no longer records."""
    return read_manifest(run_dir.parent)["models"].get(run_dir.name) or {}


def _training() -> SimpleNamespace:
    """The torch-backed training functions an export uses, imported when it runs: the CLI's parser imports this
    module, and must not import torch (issue 21's lazy point here)."""
    from core.diffusion.schedulers import RESCALE_ZERO_SNR
    from core.models.presets import autoencoder_config, denoiser_config
    from core.training.checkpoint import checkpoint_path, load_checkpoint, write_checkpoint
    from core.training.representations import with_occupancy_logit
    from core.training.run import load_trained
    from core.training.quantize import QUANTIZED_DTYPES, cast_floating, quantize
    from core.training.run_config import data_as_given, shareable, write_run_config

    return SimpleNamespace(checkpoint_path=checkpoint_path, load_checkpoint=load_checkpoint,
                           write_checkpoint=write_checkpoint, load_trained=load_trained, data_as_given=data_as_given,
                           shareable=shareable, write_run_config=write_run_config, QUANTIZED_DTYPES=QUANTIZED_DTYPES,
                           cast_floating=cast_floating, quantize=quantize,
                           autoencoder_config=autoencoder_config, denoiser_config=denoiser_config,
                           RESCALE_ZERO_SNR=RESCALE_ZERO_SNR, with_occupancy_logit=with_occupancy_logit)


def _compare_samples(run_dir: Path, folder: Path, class_name: str | None,
                     occupancy_logit: float | None) -> dict[str, Any]:
    """Sample the run and the export with one seed (voxel cells read alike, at the export's occupancy logit);
    how far apart their arrays are: what storing the weights changed."""
    arrays = []
    with tempfile.TemporaryDirectory() as scratch:
        for source in (run_dir, folder):
            job = SampleJob(source, CHECK_SHAPES, Path(scratch) / str(len(arrays)), class_name=class_name,
                            steps=CHECK_STEPS, seed=CHECK_SEED, fmt="npy", previews=False,
                            occupancy_logit=occupancy_logit)
            arrays.append(job.execute(lambda e: None, CancelToken()).array.astype(np.float64))
    diff = np.abs(arrays[0] - arrays[1])
    return {"shapes": CHECK_SHAPES, "steps": CHECK_STEPS, "seed": CHECK_SEED, "class": class_name,
            "max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean())}


#: ``train`` options that only change an autoencoder or denoiser config entry, by that entry's key.
AUTOENCODER_OPTIONS = {"latent_layout": "--ae-latent", "loss": "--ae-loss", "latent_noise": "--ae-latent-noise"}
DENOISER_OPTIONS = {"width": "--denoiser-width", "depth": "--denoiser-depth", "patch_size": "--denoiser-patch",
                    "dropout": "--denoiser-dropout"}


def train_command(config: RunConfig, run_dir: Path) -> str:
    """The ``train`` command line that makes this config (rebuilt from it; pass --command to state it exactly)."""
    data, train = config.data, config.train
    training = _training()
    reused = config.autoencoder_from
    parts = ["python -m core train", f"--data {training.data_as_given(config)}", f"--classes {','.join(data['classes'])}"
             if data.get("classes") else "", f"--repr {config.representation}",
             f"--ae {config.autoencoder['kind']}", f"--cond {config.cond}", f"--preset {config.preset}",
             f"--ae-from {reused['run']}" if reused else f"--ae-steps {train['ae']['steps']}",
             f"--ldm-steps {train['ldm']['steps']}",
             f"--res {data['resolution']}", f"--points {data['n_points']}", f"--prediction {config.prediction}",
             *_changed_options(config, training),
             f"--min-snr {config.min_snr_gamma:g}" if config.min_snr_gamma is not None else "",
             *_schedule_options(config, training),
             f"--latent-norm {config.latent_norm}" if config.latent_norm not in (None, DEFAULT_LATENT_NORM) else "",
             f"--seed {config.seed}", "--bf16" if any(stage.get("bf16") for stage in train.values()) else "",
             f"--max-shapes {data['max_shapes']}" if data.get("max_shapes") else "", f"--out {run_dir}"]
    return " ".join(p for p in parts if p)


def _schedule_options(config: RunConfig, training: SimpleNamespace) -> list[str]:
    """``--zero-terminal-snr`` and ``--beta-schedule`` where the schedule differs from its prediction's own: flow
    matching's path is implied by ``--prediction flow``, which takes neither."""
    if config.prediction == "flow":
        return []
    schedule = config.schedule
    return ["--zero-terminal-snr" if schedule.get(training.RESCALE_ZERO_SNR) else "",
            f"--beta-schedule {schedule['beta_schedule']}"
            if schedule.get("beta_schedule", DEFAULT_BETA_SCHEDULE) != DEFAULT_BETA_SCHEDULE else ""]


def _changed_options(config: RunConfig, training: SimpleNamespace) -> list[str]:
    """The autoencoder and denoiser options the run asked for: each recorded entry its preset would have set
    otherwise (so a wider DiT or a token latent shows in the command). Entries a run lacks (older runs) read
    as the preset's."""
    ae, denoiser = config.autoencoder, config.denoiser
    preset_ae = training.autoencoder_config(config.preset, config.representation, ae["kind"]).to_dict()
    found = [f"{flag} {ae[key]}" for key, flag in AUTOENCODER_OPTIONS.items()
             if ae.get(key, preset_ae[key]) != preset_ae[key]]
    if "latent_shape" in denoiser:
        preset_denoiser = training.denoiser_config(config.preset, tuple(denoiser["latent_shape"])).to_dict()
        found += [f"{flag} {denoiser[key]}" for key, flag in DENOISER_OPTIONS.items()
                  if denoiser.get(key, preset_denoiser[key]) != preset_denoiser[key]]
    return found


def train_seconds(metrics: Path) -> dict[str, float] | None:
    """Seconds each stage trained, from metrics.jsonl (a resumed stage's clock restarts; segments add up)."""
    if not metrics.is_file():
        return None
    total: dict[str, float] = {}
    last: dict[str, float] = {}
    for line in metrics.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        stage, seconds = record.get("stage"), record.get("time")
        if stage is None or seconds is None:
            continue
        if seconds < last.get(stage, 0.0):  # a resume: bank the finished segment
            total[stage] = total.get(stage, 0.0) + last[stage]
        last[stage] = seconds
    return {stage: round(total.get(stage, 0.0) + seconds, 1) for stage, seconds in last.items()}


def this_machine() -> str:
    """CPU model and core count of this machine (pass --hardware when the run trained elsewhere)."""
    model = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(errors="replace"), re.MULTILINE)
        model = found.group(1).strip() if found else model
    return f"{model}, {os.cpu_count()} CPU cores (export machine)"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _train_time(seconds: dict[str, float]) -> str:
    """Each stage's time under its name, so an LDM trained over a reused autoencoder is not read as the whole run."""
    if not seconds:
        return "unknown"
    time = " + ".join(f"{stage.upper()} {_duration(seconds[stage])}" for stage in STAGES if stage in seconds)
    return time if "ae" in seconds else f"{time} (AE reused from another run)"


def _dtypes_text(entry: dict[str, Any]) -> str:
    """A manifest entry's weight types: the denoiser's, and the autoencoder's where it differs."""
    autoencoder = entry.get("ae_weights_dtype")
    return entry["weights_dtype"] + (f" (autoencoder {autoencoder})" if autoencoder else "")


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _update_manifest(dest: Path, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Add or replace ``name`` in DEST/manifest.json, keeping the default guidance and sampler unless new ones
    are given, and the metrics already filled in while they still describe the model."""
    manifest = read_manifest(dest)
    previous = manifest["models"].get(name) or {}
    for default in ("guidance", "sampler"):
        if entry[default] is None:
            entry[default] = previous.get(default)
    measured_alike = ("steps", "weights_dtype", "ae_weights_dtype", "guidance", "sampler", "occupancy_logit")
    if previous.get("metrics") and all(previous.get(key) == entry.get(key) for key in measured_alike):
        entry["metrics"] = previous["metrics"]  # the same weights, stored and sampled alike: their quality holds
    manifest["models"][name] = entry
    manifest["models"] = dict(sorted(manifest["models"].items()))
    with atomic_write(dest / MANIFEST_NAME) as temporary:
        temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _data_terms(sources: list[str]) -> list[str]:
    return [terms for key, terms in DATA_TERMS.items() if any(key in s.lower() for s in sources)]


def _default_text(value: Any, fallback: str) -> str:
    """A model's default setting for its README, or what ``sample`` uses where it names none."""
    return f"none (sample uses {fallback})" if value is None else str(value)


def write_readme(dest: Path, manifest: dict[str, Any]) -> Path:
    """DEST/README.md from the manifest: data and terms, how each model was trained, its quality."""
    models = manifest["models"].values()
    lines = ["# Built-in pretrained models", "",
             "Written by `python -m core export-builtin RUN --name NAME` from `manifest.json`; do not edit by hand "
             "(fill in a model's `metrics` there and re-run its export). Use one as "
             "`python -m core sample builtin:NAME …`, in `eval`, or from the app's model picker.", "",
             "## Data and its terms", ""]
    lines += [f"- {terms}" for terms in _data_terms([m["source_data"] for m in models])] or ["- (no models yet)"]
    lines += ["", "## Models", "", "| name | representation | classes | steps (AE / LDM) | train time | weights |",
              "| --- | --- | --- | --- | --- | --- |"]
    for m in models:
        time = _train_time(m.get("train_seconds") or {})
        lines.append(f"| `builtin:{m['name']}` | {m['representation']} ({m['cond']}) | {', '.join(m['classes'])} | "
                     f"{m['steps']['ae']} / {m['steps']['ldm']} | {time} | {_dtypes_text(m)}, "
                     f"{m['bytes'] / 1e6:.1f} MB |")
    for m in models:
        check = m["export_check"]
        lines += ["", f"### `builtin:{m['name']}`", "", f"- data: `{m['source_data']}`",
                  f"- trained with: `{m['training_command']}`", f"- hardware: {m['hardware']}",
                  f"- default guidance: {_default_text(m.get('guidance'), f'{DEFAULT_GUIDANCE:g}')}",
                  f"- default sampler: {_default_text(m.get('sampler'), DEFAULT_SAMPLER)}",
                  *([f"- voxel cells occupied where the decoder's logit exceeds {m['occupancy_logit']:g}"]
                    if m.get("occupancy_logit") is not None else []),
                  f"- {_dtypes_text(m)} export vs the run, {check['shapes']} shapes, seed {check['seed']}: "
                  f"max |diff| {check['max_abs_diff']:.2e}, mean {check['mean_abs_diff']:.2e}"]
        if m.get("metrics"):
            lines += ["", "| samples | " + " | ".join(next(iter(m["metrics"].values()))) + " |",
                      "| --- |" + " --- |" * len(next(iter(m["metrics"].values())))]
            lines += [f"| {row} | " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values.values())
                      + " |" for row, values in m["metrics"].items()]
        else:
            lines.append("- quality: not measured yet (`python -m core eval builtin:NAME --ref … --class C --n N`)")
    with atomic_write(dest / "README.md") as temporary:
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest / "README.md"
