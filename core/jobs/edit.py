"""``InterpolateJob``, ``VaryJob``, ``CompleteJob``: work with given shapes through a trained latent model.

Each encodes its input shapes (:mod:`core.jobs.edit_inputs`), runs one of the latent-space algorithms of
:mod:`core.diffusion.editing`, decodes, moves the results back into the input's coordinates and writes
them as :class:`~core.jobs.sample.SampleJob` writes samples (``samples.npy``, per-shape files, and
``samples.json`` with the request). The condition (``--class`` / ``--prompt``) and guidance follow the
sample job's rules, which these jobs inherit.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from core.choices import DEFAULT_INTERPOLATION_PATH, INTERPOLATION_PATHS
from core.diffusion import editing
from core.diffusion.guidance import classifier_free_guidance, null_condition
from core.diffusion.schedulers import alphas_cumprod
from core.errors import InputError
from core.io import atomic_write
from core.jobs.base import CancelToken, EventHandler
from core.jobs.edit_inputs import (Cut, Source, describe, framed_input, in_input_frame, mirrored_whole, read_input,
                                   surface_points)
from core.jobs.events import Progress
from core.jobs.sample import DEFAULT_FORMAT, FORMATS, SampleJob
from core.shapes import Normalization, Shape
from core.training import load_trained

#: Adam step size of completion's consistency correction on the x̂0 latents (unit variance) and the partial
#: shape's placement; with :data:`COMPLETION_ITERATIONS` per step it lets x̂0 move ~0.2 per step
COMPLETION_STEP_SIZE = 0.05
#: consistency-correction iterations per denoising step of completion: 4 rather than 2 took builtin:points'
#: kept half from 2.1× to 0.6× the reconstruction Chamfer and best-of-8 to the whole chair from .0055 to .0024
#: (3 test chairs, half x > 0 cut), at twice the cost per step
COMPLETION_ITERATIONS = 4
#: iterations per denoising step where the latent has no cells to keep (``--ae-latent tokens``: one code for the
#: whole shape), so the decoded agreement alone must hold the kept side: 16 rather than 4 took the token voxel
#: model's miss of the partial (mean squared distance of its points to the output, 2 test chairs, x > 0 cut)
#: from 0.016 / 0.051 to 0.0006 / 0.0013 at 4 steps and from 0.020 / 0.056 to 0.0006 / 0.0007 at 20
TOKEN_COMPLETION_ITERATIONS = 16
#: latent cells kept from the partial's encoding (grids) must lie this many latent cells inside the kept side:
#: an encoder cell also sees its neighbours (3×3×3 convolutions), so the cells along the cut are not the
#: partial's alone
LATENT_MARGIN_CELLS = 1
#: denoising steps when not asked otherwise (the sample job's default)
DEFAULT_STEPS = 20


class _EditJob(SampleJob):
    """What the three edits share: the trained run, the guided denoiser, encoding, decoding and writing."""

    def __init__(self, run_dir: str | Path, n: int, out_dir: str | Path, class_name: str | None = None,
                 prompt: str | None = None, guidance: float | None = None, steps: int = DEFAULT_STEPS,
                 seed: int = 0, fmt: str | None = None, device: str = "cpu") -> None:
        super().__init__(run_dir, n, out_dir, class_name=class_name, prompt=prompt, guidance=guidance, steps=steps,
                         sampler="ddim", seed=seed, fmt=fmt, device=device, previews=False)

    def _load(self):
        """The run, after the checks every edit shares."""
        if self.n < 1 or self.steps < 1:
            raise InputError("--n/--steps", f"need at least one shape and one step, got n={self.n}, steps={self.steps}")
        if self.fmt not in (None, *FORMATS):
            raise InputError("--format", f"unknown format {self.fmt!r}; use one of {', '.join(FORMATS)}")
        return load_trained(self.run_dir, self.device)

    def _denoiser(self, run) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], float]:
        """``denoise(x, t)`` with the job's condition and guidance (rows of the condition cut to the batch)."""
        cond, guidance = self._condition(run)
        num_classes = int(run.config.denoiser.get("num_classes", 0))
        null = None if cond is None else null_condition(cond, num_classes)

        def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            rows = len(x)
            return classifier_free_guidance(run.denoiser, x, t, None if cond is None else cond[:rows].to(x.device),
                                            None if null is None else null[:rows].to(x.device), guidance)

        return denoise, guidance

    def _encode(self, run, source: Source, reference: np.ndarray | None = None, shape: Shape | None = None):
        """The input's model input, frame (fitted to ``reference`` points when given) and normalised latent (1, …);
        ``shape`` is the input already read."""
        framed = framed_input(read_input(source) if shape is None else shape, run, source, self.seed, reference)
        latent = run.autoencoder.encode(torch.from_numpy(framed.array).to(next(run.autoencoder.parameters()).device))
        return framed, run.latent_norm.normalize(latent.float())

    def _finish(self, run, latents: torch.Tensor, frames: list[Normalization], guidance: float,
                emit: EventHandler, request: dict[str, Any]) -> dict[str, Any]:
        """Decode, move each shape into its frame, write as ``sample`` does and add ``request`` to samples.json."""
        rep = run.representation
        array = rep.to_array(run.pipeline().decode(latents))
        if not np.isfinite(array).all():
            raise RuntimeError("editing produced non-finite values")
        shapes = [in_input_frame(shape, frame) for shape, frame in zip(rep.to_shapes(array), frames)]
        if rep.name == "points":  # point arrays carry their coordinates; grids keep theirs in samples.json
            array = np.stack([shape.points for shape in shapes]).astype(np.float32)
        paths = self._write(array, shapes, rep, self.fmt or DEFAULT_FORMAT[rep.name], guidance, self.sampler, emit)
        summary = self.out_dir / "samples.json"
        written = json.loads(summary.read_text())
        written.update(request, job=self.name,
                       frames=[{"center": list(f.center), "scale": f.scale} for f in frames])
        with atomic_write(summary) as temporary:
            temporary.write_text(json.dumps(written, indent=2) + "\n")
        return {"array": array, "shapes": shapes, "paths": [str(p) for p in paths], "out_dir": str(self.out_dir),
                "frames": frames}

    def _progress(self, emit: EventHandler, cancel: CancelToken, stage: str, offset: int = 0, total: int = 0):
        """A ``callback(i, n)`` for :mod:`core.diffusion.editing` that reports Progress and honours cancel."""

        def callback(i: int, n: int) -> None:
            cancel.raise_if_cancelled()
            emit(Progress(offset + i, total or n, stage))

        return callback


class InterpolateJob(_EditJob):
    """``n`` shapes from A to B through the model; the first and last are A and B as it reconstructs them
    (exactly, on the "latent" path). Shape k sits in the frame between A's and B's at the same fraction."""

    name = "interpolate"

    def __init__(self, run_dir: str | Path, a: Source, b: Source, out_dir: str | Path, n: int = 8,
                 path: str = DEFAULT_INTERPOLATION_PATH, **options: Any) -> None:
        super().__init__(run_dir, n, out_dir, **options)
        self.a, self.b, self.path = _source(a), _source(b), path

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Encode A and B, walk between them, decode and write."""
        if self.path not in INTERPOLATION_PATHS:
            raise InputError("--path", f"unknown path {self.path!r}; use one of {', '.join(INTERPOLATION_PATHS)}")
        if self.n < 2:
            raise InputError("--n", f"an interpolation needs at least its two ends, got n={self.n}")
        run = self._load()
        with torch.no_grad():
            (frame_a, z_a), (frame_b, z_b) = self._encode(run, self.a), self._encode(run, self.b)
            denoise, guidance = self._denoiser(run)
            weights = torch.linspace(0.0, 1.0, self.n)
            if self.path == "latent":
                latents = editing.lerp(z_a[0], z_b[0], weights)
            else:
                latents = self._through_noise(run, denoise, torch.cat([z_a, z_b]), weights, emit, cancel)
        frames = [_between(frame_a.frame, frame_b.frame, float(w)) for w in weights]
        return self._finish(run, latents, frames, guidance, emit,
                            {"a": describe(self.a), "b": describe(self.b), "path": self.path})

    def _through_noise(self, run, denoise, ends: torch.Tensor, weights: torch.Tensor, emit: EventHandler,
                       cancel: CancelToken) -> torch.Tensor:
        """DDIM-invert both ends to the last timestep, slerp the noises, DDIM-sample every blend."""
        schedule = run.config.schedule
        alphas = alphas_cumprod(schedule)
        last = int(schedule["num_train_timesteps"]) - 1
        total = 2 * self.steps
        noises = editing.ddim_walk(denoise, ends, editing.inversion_timesteps(last, self.steps), alphas,
                                   schedule["prediction_type"],
                                   callback=self._progress(emit, cancel, "inverting", 0, total))
        blends = editing.slerp(noises[0], noises[1], weights)
        return editing.ddim_walk(denoise, blends, editing.sampling_timesteps(last, self.steps), alphas,
                                 schedule["prediction_type"],
                                 callback=self._progress(emit, cancel, "sampling", self.steps, total))


def _source(source: Source) -> Source:
    """A file name as a Path; a shape handed over in memory as it is."""
    return Path(source) if isinstance(source, str) else source


def _between(a: Normalization, b: Normalization, weight: float) -> Normalization:
    """The frame ``weight`` of the way from ``a`` to ``b``: centres blended linearly, scales geometrically."""
    center = tuple((1 - weight) * ca + weight * cb for ca, cb in zip(a.center, b.center))
    return Normalization(center, a.scale ** (1 - weight) * b.scale ** weight)


class VaryJob(_EditJob):
    """``n`` variations of a shape, SDEdit-style (Meng et al. 2022): its latent noised to ``strength`` ∈ (0, 1]
    of the schedule, then denoised with the condition. Near 0 that returns the reconstruction; 1 is a fresh
    sample that only shares the condition."""

    name = "vary"

    def __init__(self, run_dir: str | Path, shape: Source, strength: float, out_dir: str | Path, n: int = 4,
                 **options: Any) -> None:
        super().__init__(run_dir, n, out_dir, **options)
        self.shape, self.strength = _source(shape), strength

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Encode, noise to the strength's timestep, denoise the n copies, decode and write."""
        if not 0.0 < self.strength <= 1.0:
            raise InputError("--strength", f"must lie in (0, 1], got {self.strength}")
        run = self._load()
        schedule = run.config.schedule
        alphas = alphas_cumprod(schedule)
        start = editing.strength_timestep(self.strength, int(schedule["num_train_timesteps"]))
        steps = max(1, math.ceil(self.steps * self.strength))  # the share of a full run's steps that is left
        with torch.no_grad():
            framed, z = self._encode(run, self.shape)
            denoise, guidance = self._denoiser(run)
            generator = torch.Generator("cpu").manual_seed(self.seed)
            noise = torch.randn((self.n, *z.shape[1:]), generator=generator).to(z.device)
            x = editing.noised(z.expand(self.n, *z.shape[1:]), alphas, start, noise)
            latents = editing.ddim_walk(denoise, x, editing.sampling_timesteps(start, steps), alphas,
                                        schedule["prediction_type"], callback=self._progress(emit, cancel, "varying"))
        return self._finish(run, latents, [framed.frame] * self.n, guidance, emit,
                            {"shape": describe(self.shape), "strength": self.strength})


class CompleteJob(_EditJob):
    """``n`` completions of a partial shape (a half cut away, a one-sided scan).

    Sampling from noise with a consistency correction of each x̂0 (:func:`core.diffusion.editing.consistency_correction`).

    Given the ``cut`` that removed the missing part, the partial shape is placed as its whole shape was
    normalised, its extent taken as the kept part and its mirror image in the cut; on the kept side the decoded
    shape must then match the partial one both ways (points: Chamfer restricted to that side; grids: occupancy of
    every cell there), and grid latents keep the partial's own encoding in the latent cells wholly on that side
    (:func:`core.diffusion.editing.known_replacement`; a token latent has no cells of its own, so the
    agreement alone guides it, with more iterations).

    Without a cut only coverage is known: the decoded shape must cover the partial's points (points: their
    one-sided Chamfer distance; grids: the decoded occupancy at them), and the partial's placement (centre and
    scale, per output) is optimised along with it, because a partial shape's own bounding box is not the whole
    shape's. Either way the outputs are moved back to line up with the partial input.
    """

    name = "complete"

    def __init__(self, run_dir: str | Path, partial: Source, out_dir: str | Path, n: int = 4,
                 cut: Cut | None = None, **options: Any) -> None:
        super().__init__(run_dir, n, out_dir, **options)
        self.partial, self.cut = _source(partial), cut

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Encode the partial shape for its frame, sample with the correction, decode and write."""
        run = self._load()
        schedule = run.config.schedule
        alphas = alphas_cumprod(schedule)
        last = int(schedule["num_train_timesteps"]) - 1
        partial = read_input(self.partial)
        reference = None if self.cut is None else mirrored_whole(surface_points(partial), self.cut)
        with torch.no_grad():
            framed, known = self._encode(run, self.partial, reference, partial)
            denoise, guidance = self._denoiser(run)
        if self.cut is None:
            correction, frames = self._placed_correction(run, framed)
        else:
            correction, frames = self._cut_correction(run, framed, known), lambda: [framed.frame] * self.n
        generator = torch.Generator("cpu").manual_seed(self.seed)
        with torch.no_grad():
            x = torch.randn((self.n, *run.autoencoder.latent_shape), generator=generator).to(known.device)
            latents = editing.ddim_walk(denoise, x, editing.sampling_timesteps(last, self.steps), alphas,
                                        schedule["prediction_type"], correction=correction,
                                        callback=self._progress(emit, cancel, "completing"))
        return self._finish(run, latents, frames(), guidance, emit,
                            {"partial": describe(self.partial), "cut": None if self.cut is None else str(self.cut)})

    def _placed_correction(self, run, framed) -> tuple[Callable, Callable[[], list[Normalization]]]:
        """Coverage of the partial's points, its placement optimised with the latents; and the frames it found."""
        kept = torch.from_numpy(framed.points.astype(np.float32))
        center = torch.tensor(framed.frame.center, dtype=torch.float32).repeat(self.n, 1).requires_grad_(True)
        log_scale = torch.full((self.n, 1), math.log(framed.frame.scale)).requires_grad_(True)
        decode = run.pipeline().decode
        distance = _point_loss if run.representation.name == "points" else _grid_loss

        def loss(x0: torch.Tensor) -> torch.Tensor:
            placed = (kept[None] - center[:, None]) * log_scale.exp()[:, :, None]
            return distance(decode(x0), placed).sum()

        def frames() -> list[Normalization]:
            return [Normalization(tuple(float(v) for v in c), float(s)) for c, s in
                    zip(center.detach().cpu().numpy(), log_scale.detach().exp().cpu().numpy()[:, 0])]

        return editing.consistency_correction(loss, COMPLETION_STEP_SIZE, COMPLETION_ITERATIONS,
                                              (center, log_scale)), frames

    def _cut_correction(self, run, framed, known: torch.Tensor) -> Callable:
        """Agreement with the partial shape on the cut's kept side (model frame); grid latents (not token ones)
        also keep its latent cells there."""
        region = self.cut.in_frame(framed.frame)
        decode = run.pipeline().decode
        if run.representation.name == "points":
            kept = torch.from_numpy(framed.array[0])
            return editing.consistency_correction(lambda x0: _kept_side_point_loss(decode(x0), kept, region).sum(),
                                                  COMPLETION_STEP_SIZE, COMPLETION_ITERATIONS)
        target = torch.from_numpy(framed.array[:, :1])
        cells = torch.from_numpy(region.kept_cells(target.shape[-1])).to(target.device)
        iterations = TOKEN_COMPLETION_ITERATIONS if run.autoencoder.tokens else COMPLETION_ITERATIONS
        guided = editing.consistency_correction(lambda x0: _kept_side_grid_loss(decode(x0), target, cells).sum(),
                                                COMPLETION_STEP_SIZE, iterations)
        if run.autoencoder.tokens:  # one code for the whole shape: no latent cells belong to the kept side
            return guided
        latent_cells = torch.from_numpy(region.kept_cells(known.shape[-1], LATENT_MARGIN_CELLS)).to(known.device)
        return editing.chained(editing.known_replacement(known, latent_cells), guided)


def _point_loss(decoded: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """Per shape, the mean squared distance from each kept point to the nearest decoded point (B,)."""
    return torch.cdist(kept, decoded).min(dim=2).values.square().mean(dim=1)


def _grid_loss(decoded: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """Per shape, the binary cross-entropy of "occupied" at the kept points, read trilinearly from the decoded
    occupancy logits (channel 0 of voxel and splat grids over [-1, 1]³) (B,)."""
    import torch.nn.functional as F

    # grid_sample reads (x, y, z) as (W, H, D); our grids index (x, y, z) as (D, H, W)
    where = kept.flip(-1)[:, :, None, None, :]
    logits = F.grid_sample(decoded[:, :1], where, mode="bilinear", padding_mode="border", align_corners=False)
    return F.softplus(-logits.reshape(len(decoded), -1)).mean(dim=1)


def _kept_side_point_loss(decoded: torch.Tensor, kept: torch.Tensor, region: Cut) -> torch.Tensor:
    """Per shape, Chamfer on the cut's kept side: kept points to the decoded cloud, plus the decoded points on
    that side to the kept points (the second term stops a shape from merely enveloping the partial one) (B,)."""
    coverage = torch.cdist(kept[None], decoded).min(dim=2).values.square().mean(dim=1)
    inside = region.kept(decoded).to(decoded.dtype)
    nearest = torch.cdist(decoded, kept[None]).min(dim=2).values.square()
    return coverage + (inside * nearest).sum(dim=1) / inside.sum(dim=1).clamp_min(1.0)


def _kept_side_grid_loss(decoded: torch.Tensor, target: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """Per shape, the binary cross-entropy of the decoded occupancy logits (channel 0) against the partial's
    occupancy over the cells on the kept side, occupied and empty cells weighing the same in total (a chair
    fills a few percent of its grid, so plain BCE would mostly ask for empty space) (B,)."""
    import torch.nn.functional as F

    logits = decoded[:, :1]
    target = target.expand_as(logits)
    errors = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return _masked_mean(errors, target * cells) + _masked_mean(errors, (1 - target) * cells)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per shape, the mean of ``values`` where the 0/1 ``mask`` is 1 (0 where it is nowhere) (B,)."""
    return (values * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1.0)
