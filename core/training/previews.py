"""Preview samples while stage 2 trains: after each denoiser checkpoint, a few shapes from its EMA weights.

Hooked around a TrainJob's event handler, so neither the trainer nor the run needs to know: the trainer
writes ``ldm_last`` (EMA weights included) every ``checkpoint_every`` steps and at the end, then reports
``Progress(step, total, "ldm")``; at that moment the checkpoint on disk *is* the current EMA denoiser, and
the previews are drawn from it with a short deterministic sampler. The cadence therefore follows the run's
checkpoints (tiny preset: every 20 steps, small: 250, base: 2000), and the preview costs one small load
plus ``PREVIEW_STEPS`` denoising steps (≈ 0.2–1 s on CPU for the tiny and small networks).
"""
from __future__ import annotations

from pathlib import Path

from core.choices import PREVIEW_SAMPLER, PREVIEW_STEPS
from core.events import EventHandler, Log, Preview, Progress
from core.models.text_encoder import TEXT_DIM
from core.training import load_trained
from core.training.checkpoint import checkpoint_path
from core.training.run_config import read_run_config

#: stage whose checkpoints trigger previews (the denoiser; stage 1 has nothing to sample)
STAGE = "ldm"
#: shapes per preview: few, so a preview costs a fraction of a checkpoint interval (steps and sampler:
#: :data:`core.choices.PREVIEW_STEPS` / :data:`~core.choices.PREVIEW_SAMPLER`, which the app names too)
PREVIEW_SHAPES = 4
#: one seed for every preview, so successive previews show the same noise as the model learns
PREVIEW_SEED = 0
#: guidance of class-conditional previews (moderate: the early model over-saturates at high weights)
PREVIEW_GUIDANCE = 2.0


def with_previews(run_dir: str | Path, emit: EventHandler, count: int = PREVIEW_SHAPES) -> EventHandler:
    """``emit``, plus a ``Preview(step, total, shapes)`` after each stage-2 checkpoint of the run in ``run_dir``."""
    run_dir = Path(run_dir)
    cadence: list[int] = []  # the run's stage-2 checkpoint interval, read once its config exists

    def handler(event) -> None:
        emit(event)
        if isinstance(event, Progress) and event.message == STAGE and event.done > 0 and _checkpointed(
                run_dir, cadence, event.done, event.total):
            try:
                shapes = preview_shapes(run_dir, count)
            except Exception as exc:  # a preview must never end the training
                emit(Log(f"no preview at step {event.done}: {type(exc).__name__}: {exc}", level="warning"))
                return
            emit(Preview(event.done, event.total, shapes))

    return handler


def _checkpointed(run_dir: Path, cadence: list[int], step: int, total: int) -> bool:
    """Whether the trainer has just written ``ldm_last`` for ``step`` (its checkpoint cadence, or the end)."""
    if not cadence:
        cadence.append(int(read_run_config(run_dir).train[STAGE]["checkpoint_every"]))
    return (step % cadence[0] == 0 or step == total) and checkpoint_path(run_dir, STAGE).exists()


def preview_shapes(run_dir: str | Path, count: int = PREVIEW_SHAPES) -> list:
    """``count`` shapes sampled from the run's last denoiser checkpoint (EMA weights), one class each in turn."""
    import torch

    run = load_trained(run_dir)
    cond, guidance = None, 1.0
    if run.config.cond == "class":
        cond, guidance = torch.arange(count) % len(run.classes), PREVIEW_GUIDANCE
    elif run.config.cond == "text":  # the null prompt: unconditional, no text encoder needed
        cond = torch.zeros(count, TEXT_DIM)
    decoded = run.pipeline()(count, cond, guidance, PREVIEW_STEPS, PREVIEW_SAMPLER, PREVIEW_SEED)
    rep = run.representation
    return rep.to_shapes(rep.to_array(decoded))
