"""``SampleJob``: draw shapes from a trained run and write them as NPY + PLY/OBJ/GLB files."""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from core.choices import DEFAULT_GUIDANCE, DEFAULT_SAMPLE_STEPS, DEFAULT_SAMPLER, SAMPLERS
from core.errors import InputError, ShapeError
from core.io import atomic_write, write_array
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Preview, Progress
from core.jobs.export import write_sample
from core.jobs.results import SampleResult
from core.training.pretrained import default_guidance, default_sampler

if TYPE_CHECKING:  # torch-backed: imported when a job runs, not with this module
    from core.training.representations import Representation

#: per-shape file formats; every one holds every representation (see :func:`core.jobs.export.write_sample`)
FORMATS = ("npy", "ply", "obj", "glb")
#: per-shape file written when --format is not given
DEFAULT_FORMAT = {"points": "ply", "voxels": "obj", "splats": "ply"}
#: how an error message names a run's conditioning
_COND_WORDS = {"none": "unconditional (trained with --cond none)", "class": "conditioned on classes"}
#: previews per sampling run when not asked otherwise (enough for a live view, cheap to decode)
DEFAULT_PREVIEWS = 10


def sampler_for(run_dir: str | Path, asked: str | None = None) -> str:
    """The asked sampler, else a built-in model's own (its manifest's), else :data:`DEFAULT_SAMPLER`."""
    return asked or default_sampler(run_dir) or DEFAULT_SAMPLER


def check_sampler(sampler: str) -> str:
    """``sampler`` if it is one of :data:`SAMPLERS`, else an InputError naming ``--sampler``."""
    if sampler not in SAMPLERS:
        raise InputError("--sampler", f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    return sampler


def check_guidance_interval(interval: tuple[float, float] | None) -> None:
    """An InputError naming ``--guidance-interval`` unless ``interval`` is None or noise levels 0 <= lo < hi."""
    if interval is None:
        return
    if len(interval) != 2 or not all(math.isfinite(v) for v in interval) or not 0 <= interval[0] < interval[1]:
        raise InputError("--guidance-interval", f"need two noise levels LO,HI with 0 <= LO < HI, got {interval}")


class SampleJob(Job):
    """Sample ``n`` shapes from the run in ``run_dir`` and write them into ``out_dir``.

    ``out_dir=None`` lets the job choose, off the caller's thread: the run folder's ``samples/seed<SEED>``,
    or a new temporary folder for a built-in model (whose folder is installed, not the user's).

    Files: ``samples.npy`` (points float32 (N,P,3) in the unit-sphere frame, voxels uint8 (N,R,R,R),
    splat grids float32 (N,C,R,R,R) as :mod:`core.data.splat_grid` lays them out), one
    ``sample_NNN.<format>`` per shape unless the format is ``npy`` (PLY: points as points, splats as
    standard 3DGS with SH degree 0 in the grid's [-1, 1]³ frame, voxels as their marching-cubes mesh;
    OBJ and GLB: a mesh of any kind, points and splats through surface reconstruction) and
    ``samples.json`` (the request, for reproducing it).
    Emits Progress and Preview (the decoded x0 estimate as core.shapes objects) every
    ``preview_every`` steps, or Progress alone every step with ``previews=False`` (the terminal);
    the result (a :class:`~core.jobs.results.SampleResult`) holds the array, the shapes and the written paths.
    ``keep_largest_piece`` (voxels and splats, off by default) empties every cell outside each sample's largest
    26-connected piece before anything is written (:mod:`core.data.pieces`); ``samples.json`` records it.
    ``occupancy_logit`` (voxels) reads cells at that decoder logit instead of the model's own (config.json's, else 0).
    ``guidance_interval`` (σ_lo, σ_hi) guides only the steps whose noise level σ = √((1 − ᾱ)/ᾱ) lies in it
    (:func:`core.diffusion.guidance.guidance_at`); None guides every step.
    """

    name = "sample"

    def __init__(self, run_dir: str | Path, n: int, out_dir: str | Path | None, class_name: str | None = None,
                 prompt: str | None = None, guidance: float | None = None, steps: int = DEFAULT_SAMPLE_STEPS,
                 sampler: str | None = None, seed: int = 0, fmt: str | None = None, device: str = "cpu",
                 preview_every: int | None = None, previews: bool = True, keep_largest_piece: bool = False,
                 occupancy_logit: float | None = None, guidance_interval: tuple[float, float] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.n, self.class_name, self.prompt = n, class_name, prompt
        self.guidance, self.steps, self.sampler, self.seed = guidance, steps, sampler, seed
        self.fmt, self.device = fmt, device
        self.previews = previews
        self.keep_largest_piece = keep_largest_piece
        self.occupancy_logit = occupancy_logit
        self.guidance_interval = guidance_interval
        self.preview_every = (preview_every or max(1, steps // DEFAULT_PREVIEWS)) if previews else 1

    def execute(self, emit: EventHandler, cancel: CancelToken) -> SampleResult:
        """Check everything, sample, then write (nothing is written when a check fails)."""
        if self.n < 1 or self.steps < 1:
            raise InputError("--n/--steps", f"need at least one shape and one step, got n={self.n}, steps={self.steps}")
        sampler = check_sampler(sampler_for(self.run_dir, self.sampler))
        check_guidance_interval(self.guidance_interval)
        if self.fmt not in (None, *FORMATS):
            raise InputError("--format", f"unknown format {self.fmt!r}; use one of {', '.join(FORMATS)}")
        model = _model_side()
        run = model.load_trained(self.run_dir, self.device)
        if self.out_dir is None:
            self.out_dir = self._default_out_dir()
        rep = model.with_occupancy_logit(run.representation, self.occupancy_logit, "--occupancy-logit")
        if self.keep_largest_piece:
            model.require_grid(rep.name)  # before sampling, not after
        fmt = self.fmt or DEFAULT_FORMAT[rep.name]
        cond, guidance = self._condition(run)

        def on_step(step) -> None:
            cancel.raise_if_cancelled()
            emit(Progress(step.step, step.total, "sampling"))
            if step.decoded is not None:
                emit(Preview(step.step, step.total, rep.to_shapes(rep.to_array(step.decoded))))

        emit(Progress(0, self.steps, "sampling"))
        decoded = run.pipeline()(self.n, cond, guidance, self.steps, sampler, self.seed,
                                 callback=on_step, callback_every=self.preview_every, decode_previews=self.previews,
                                 guidance_interval=self.guidance_interval)
        array = rep.to_array(decoded)
        if not np.isfinite(array).all():
            raise RuntimeError("sampling produced non-finite values")
        if self.keep_largest_piece:
            array = model.keep_largest_piece(array, rep.name)
        shapes = rep.to_shapes(array)
        paths = self._write(array, shapes, rep, fmt, guidance, sampler, emit)
        return SampleResult(array, shapes, [str(p) for p in paths], str(self.out_dir))

    def _condition(self, run) -> tuple[Any, float]:
        """The condition tensor and effective guidance; a --class/--prompt the run lacks is an InputError."""
        import torch

        cond_kind = run.config.cond
        if cond_kind == "text":
            return self._text_condition()
        if self.prompt is not None:
            raise InputError(self.run_dir, f"this run is {_COND_WORDS[cond_kind]}, not on text; "
                                           + ("use --class instead of --prompt" if cond_kind == "class" else
                                              "drop --prompt"))
        if cond_kind != "class":
            if self.class_name is not None:
                raise InputError(self.run_dir, "this run is unconditional (trained with --cond none); drop --class")
            return None, 1.0
        if self.class_name is None:  # the null class: the unconditional model CFG trained alongside
            return torch.full((self.n,), len(run.classes), dtype=torch.long), 1.0
        if self.class_name not in run.classes:
            raise InputError(self.run_dir, f"no class {self.class_name!r} in this run; "
                                           f"its classes are: {', '.join(run.classes)}")
        return torch.full((self.n,), run.classes.index(self.class_name), dtype=torch.long), self._guidance()

    def _text_condition(self) -> tuple[Any, float]:
        """The prompt's embedding per shape; no prompt (or an empty one) is the null prompt, unguided.

        The encoder loads its network only on an uncached prompt.
        """
        import torch

        model = _model_side()
        if self.class_name is not None:
            raise InputError(self.run_dir, f"this run is conditioned on text prompts, not classes; use --prompt "
                                           f"\"{model.caption('{a} {name}', self.class_name)}\" instead of --class")
        if self.prompt is None or not model.normalize_prompt(self.prompt):
            return torch.zeros(self.n, model.TEXT_DIM), 1.0
        return model.embed_prompts([self.prompt]).expand(self.n, -1), self._guidance()

    def _default_out_dir(self) -> Path:
        """Where samples go when the caller names no folder: beside the run, by seed, else a temporary folder."""
        if self.run_dir.is_dir():
            return self.run_dir / "samples" / f"seed{self.seed}"
        return Path(tempfile.mkdtemp(prefix="latent3d-samples-"))

    def _guidance(self) -> float:
        """The asked guidance, else a built-in model's own (its manifest's), else :data:`DEFAULT_GUIDANCE`."""
        if self.guidance is not None:
            return float(self.guidance)
        own = default_guidance(self.run_dir)
        return DEFAULT_GUIDANCE if own is None else own

    def _write(self, array: np.ndarray, shapes: list, rep: Representation, fmt: str, guidance: float, sampler: str,
               emit: EventHandler) -> list[Path]:
        """Write the arrays, per-shape files and samples.json (with how ``rep``, a voxel model's, read its cells)."""
        out = self.out_dir
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "samples.npy"]
        write_array(array, paths[0])
        if fmt != "npy":
            for index, shape in enumerate(shapes):
                path = out / f"sample_{index:03d}.{fmt}"
                try:
                    write_sample(shape, array[index], path)
                except ShapeError:
                    emit(Log(f"sample {index} is empty: no file written", level="warning"))
                    continue
                paths.append(path)
        request = {"run": str(self.run_dir), "n": self.n, "class": self.class_name, "prompt": self.prompt,
                   "guidance": guidance, "steps": self.steps, "sampler": sampler, "seed": self.seed,
                   "format": fmt, "keep_largest_piece": self.keep_largest_piece}
        if self.guidance_interval is not None:
            request["guidance_interval"] = list(self.guidance_interval)
        if hasattr(rep, "occupancy_logit"):
            request["occupancy_logit"] = rep.occupancy_logit
        with atomic_write(out / "samples.json") as temporary:
            temporary.write_text(json.dumps(request, indent=2) + "\n")
        return [*paths, out / "samples.json"]



def _model_side() -> SimpleNamespace:
    """The torch-backed functions a sampling run uses, imported when a job runs (on the job's thread): the CLI's
    parser and the app's Sample page import this module, and must not import torch (issue 21's lazy point here).
    The text encoder and captions come with :mod:`core.training.run` anyway; the piece clean-up brings scipy."""
    from core.data.pieces import keep_largest_piece, require_grid
    from core.models.text_encoder import TEXT_DIM, embed_prompts, normalize_prompt
    from core.training.captions import caption
    from core.training.representations import with_occupancy_logit
    from core.training.run import load_trained

    return SimpleNamespace(load_trained=load_trained, caption=caption, TEXT_DIM=TEXT_DIM, embed_prompts=embed_prompts,
                           normalize_prompt=normalize_prompt, require_grid=require_grid,
                           keep_largest_piece=keep_largest_piece, with_occupancy_logit=with_occupancy_logit)
