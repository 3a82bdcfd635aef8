"""``DemoJob``: generated shapes from the built-in pretrained models, with no training.

For each built-in model (``builtin:points``, ``builtin:voxels``, ``builtin:splats``) and a few classes it
samples a handful of shapes with each model's own sampler and guidance (20 steps), writes them the way
``python -m core sample`` does (``samples.npy`` plus PLY / OBJ / 3DGS PLY per shape), renders them offscreen
into one PNG contact sheet (a row per model and class) and times every step. A model that is not installed
is one line in the log and the others go on; with none installed (or ``procedural=True``) it also runs the
:class:`~core.jobs.demo_procedural.ProceduralDemoJob` (the built-in procedural shapes in every
representation), so the command always shows something.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.choices import DEFAULT_SAMPLE_STEPS
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.demo_procedural import ProceduralDemoJob
from core.jobs.events import Log, Progress
from core.jobs.results import SampleResult
from core.jobs.sample import SampleJob
from core.jobs.timing import StepTimes
from core.render import contact_sheet, render_shape, save_png
from core.training.pretrained import builtin_names, pretrained_dir, resolve_run

#: the built-in models, in contact-sheet order, with the per-shape file each one's samples are written as
MODELS = {"points": "ply", "voxels": "obj", "splats": "ply"}
#: classes shown by default: three of the six the built-in models were trained on
DEFAULT_CLASSES = ("chair", "sofa", "table")
SHAPES_PER_CLASS = 4
#: label of the one row of a model trained without classes
UNCONDITIONAL = "unconditional"


class DemoJob(Job):
    """Sample, write and render every installed built-in model into ``out``; return paths and timings."""

    name = "demo"

    def __init__(self, out: str | os.PathLike[str] = "latent3d-demo", classes: tuple[str, ...] = DEFAULT_CLASSES,
                 n: int = SHAPES_PER_CLASS, steps: int = DEFAULT_SAMPLE_STEPS, guidance: float | None = None, image_size: int = 256,
                 seed: int = 0, procedural: bool = False) -> None:
        self.out = Path(out)
        self.classes, self.n, self.steps, self.guidance = tuple(classes), n, steps, guidance
        self.image_size, self.seed, self.procedural = image_size, seed, procedural
        self.timings = StepTimes()

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Sample every installed model, render the sheet, and fall back to the procedural demo if none is."""
        installed = builtin_names()
        rows: dict[str, list] = {}
        files: list[str] = []
        for model, fmt in MODELS.items():
            if model not in installed:
                emit(Log(f"builtin:{model} is not installed (no {pretrained_dir() / model}): skipped",
                         level="warning"))
                continue
            for class_name in self._classes_of(model, emit):
                cancel.raise_if_cancelled()
                sampled = self._sample(model, class_name, fmt, emit, cancel)
                rows[f"{model} · {class_name or UNCONDITIONAL}"] = sampled.shapes
                files += sampled.paths
        result: dict[str, Any] = {"out": str(self.out), "models": [m for m in MODELS if m in installed],
                                  "files": files, "sheet": None}
        if rows:
            with self.timings.step("render contact sheet", emit):
                result["sheet"] = str(self._render(rows, emit, cancel))
        if self.procedural or not rows:
            emit(Log("procedural demo: the built-in shapes in every representation"))
            procedural = ProceduralDemoJob(self.out / "procedural", image_size=self.image_size,
                                           seed=self.seed).execute(emit, cancel)
            result["procedural"] = procedural
            self.timings.update({f"procedural: {k}": v for k, v in procedural["timings"].items()})
        result["timings"] = dict(self.timings)
        return result

    def _classes_of(self, model: str, emit: EventHandler) -> list[str | None]:
        """The asked-for classes this model knows (None: an unconditional model's one row)."""
        from core.training.run_config import read_run_config  # imports torch; the CLI's parser imports this module

        config = read_run_config(resolve_run(f"builtin:{model}"))
        if config.cond != "class":
            return [None]
        known = [c for c in self.classes if c in config.classes]
        if missing := [c for c in self.classes if c not in config.classes]:
            emit(Log(f"builtin:{model} has no class {', '.join(missing)} (it knows {', '.join(config.classes)})",
                     level="warning"))
        return known

    def _sample(self, model: str, class_name: str | None, fmt: str, emit: EventHandler,
                cancel: CancelToken) -> SampleResult:
        """One model's shapes of one class, written under ``out/MODEL/CLASS`` as ``sample`` writes them."""
        folder = self.out / model / (class_name or UNCONDITIONAL)
        job = SampleJob(f"builtin:{model}", self.n, folder, class_name=class_name, guidance=self.guidance,
                        steps=self.steps, seed=self.seed, fmt=fmt, previews=False)
        with self.timings.step(f"builtin:{model} {class_name or UNCONDITIONAL}: sample {self.n} + write {fmt}", emit):
            return job.execute(emit, cancel)

    def _render(self, rows: dict[str, list], emit: EventHandler, cancel: CancelToken) -> Path:
        """A row of pictures per model and class, saved as ``out/contact_sheet.png``."""
        images, labels = [], []
        total = sum(len(shapes) for shapes in rows.values())
        for label, shapes in rows.items():
            for index, shape in enumerate(shapes):
                cancel.raise_if_cancelled()
                images.append(render_shape(shape, (self.image_size, self.image_size)))
                labels.append(f"{label} {index + 1}")
                emit(Progress(len(images), total, "render"))
        return save_png(contact_sheet(images, labels, columns=self.n), self.out / "contact_sheet.png")
