"""The one training loop both stages share: AdamW, warm-up + cosine, clipping, EMA, checkpoints, DDP.

The loop knows nothing of autoencoders or diffusion: a stage hands it a model, a loss function
``loss_fn(model, batch, generator) -> (loss, logs)`` and tensors to draw batches from.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from core.cancel import CancelToken, Cancelled
from core.errors import InputError
from core.events import EventHandler, Metric, Progress
from core.io.atomic import atomic_write
from core.training.batching import batch_indices, epoch_of, step_seed
from core.training.checkpoint import Checkpoint, checkpoint_path, save_checkpoint
from core.training.distributed import DistInfo, any_rank, gather_digests, mean_across_ranks, wrap_model
from core.training.ema import EMA
from core.training.schedule import learning_rate

LossFn = Callable[[nn.Module, Sequence[torch.Tensor], torch.Generator], tuple[torch.Tensor, dict[str, float]]]

class TrainingDiverged(InputError):
    """The loss became NaN/Inf: training stopped, the last good checkpoint is kept untouched."""


@dataclass
class TrainConfig:
    """Optimisation settings of one stage (stored in the run's config.json)."""

    steps: int
    batch_size: int
    lr: float
    warmup_steps: int = 50
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    log_every: int = 10
    val_every: int = 100
    checkpoint_every: int = 100
    bf16: bool = False
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class StageResult:
    """Where a finished stage left its weights: the EMA network and the checkpoint paths."""

    ema: nn.Module
    last: Path
    best: Path | None
    step: int


class Trainer:
    """Trains ``model`` for ``config.steps`` optimiser steps; rank 0 writes metrics and checkpoints.

    Files: ``metrics.jsonl`` (one JSON object per logged step) and ``checkpoints/<stage>_{last,best}
    .safetensors``; ``manifest`` (model kind, config, data statistics) goes into every checkpoint.
    """

    def __init__(self, stage: str, model: nn.Module, loss_fn: LossFn, train: Sequence[torch.Tensor],
                 val: Sequence[torch.Tensor] | None, config: TrainConfig, run_dir: Path, manifest: dict[str, Any],
                 device: torch.device, emit: EventHandler, cancel: CancelToken, dist: DistInfo = DistInfo()) -> None:
        self.stage, self.model, self.loss_fn, self.config = stage, model.to(device), loss_fn, config
        self.train, self.val = list(train), list(val) if val is not None else None
        self.run_dir, self.manifest, self.device = Path(run_dir), manifest, device
        # under DDP the ranks run in lockstep: rank 0 alone reports, like it alone writes
        self.emit, self.cancel, self.dist = (emit if dist.is_main else lambda event: None), cancel, dist
        self.ema = EMA(self.model, config.ema_decay)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, betas=config.betas,
                                           weight_decay=config.weight_decay)
        self.wrapped = wrap_model(self.model, dist, device)
        self.step = 0
        self.best_val = math.inf
        self._improved = False  # validation improved since the last checkpoint: also write ``best``

    # -- paths -------------------------------------------------------------------------------------
    def checkpoint_path(self, tag: str) -> Path:
        """``checkpoints/<stage>_<tag>.safetensors`` (tag ``last`` or ``best``)."""
        return checkpoint_path(self.run_dir, self.stage, tag)

    @property
    def metrics_path(self) -> Path:
        """The run's ``metrics.jsonl``."""
        return self.run_dir / "metrics.jsonl"

    # -- resume ------------------------------------------------------------------------------------
    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint``: weights, EMA weights, optimiser state, step, best validation loss.

        A finished stage takes no more steps, so its optimiser state is not needed (and a stage 1 taken
        from a built-in model has none).
        """
        checkpoint.expect(stage=self.stage)
        checkpoint.load_weights(self.model, "model")
        checkpoint.load_weights(self.ema.module, "ema")
        self.step = int(checkpoint.manifest["step"])
        if self.step < self.config.steps:
            checkpoint.load_optimizer(self.optimizer)
        best = checkpoint.manifest.get("best_val")
        self.best_val = math.inf if best is None else float(best)

    # -- the loop ----------------------------------------------------------------------------------
    def fit(self) -> StageResult:
        """Run the remaining steps; on cancel (on any rank) save ``last`` at the step reached and raise
        :class:`Cancelled` saying where it is."""
        cfg, total = self.config, self.config.steps
        num_items = len(self.train[0])
        started = time.perf_counter()
        if self.dist.is_main:
            self._forget_metrics_after(self.step)
        self.emit(Progress(self.step, total, self.stage))
        while self.step < total:
            if any_rank(self.cancel.cancelled, self.dist, self.device):
                raise self._stopped()
            lr = learning_rate(self.step, cfg.lr, cfg.warmup_steps, total)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            seed = step_seed(cfg.seed, self.stage, self.step, self.dist.rank)
            torch.manual_seed(seed)  # networks' own randomness (VAE noise, codebook restarts) per step too
            generator = torch.Generator().manual_seed(seed)
            index = batch_indices(num_items, cfg.batch_size, self.step, cfg.seed, self.dist.rank,
                                  self.dist.world_size)
            batch = [t[index].to(self.device) for t in self.train]
            self.model.train()
            with self._autocast():
                loss, logs = self.loss_fn(self.wrapped, batch, generator)
            mean_loss = float(mean_across_ranks(loss.detach().float(), self.dist))
            if not math.isfinite(mean_loss):
                raise self._diverged(mean_loss)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
            self.optimizer.step()
            self.ema.update(self.model, self.step)
            self.step += 1
            if self.step % cfg.log_every == 0 or self.step == total:
                values = {"loss": mean_loss, **logs, "lr": lr, "grad_norm": grad_norm}
                if self.val is not None and (self.step % cfg.val_every == 0 or self.step == total):
                    values["val_loss"] = self.validate()
                self._log(values, num_items, time.perf_counter() - started)
            if self.step % cfg.checkpoint_every == 0 or self.step == total:
                self._checkpoint()
            self.emit(Progress(self.step, total, self.stage))
        best = self.checkpoint_path("best")
        return StageResult(self.ema.module, self.checkpoint_path("last"), best if best.exists() else None, self.step)

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss of the EMA weights on held-out examples, with fixed noise so values are comparable."""
        val = self.val
        count = len(val[0])
        generator = torch.Generator().manual_seed(step_seed(self.config.seed, self.stage + "/val", 0))
        torch.manual_seed(step_seed(self.config.seed, self.stage + "/val", 1))
        total, seen = 0.0, 0
        for start in range(0, count, self.config.batch_size):
            batch = [t[start:min(count, start + self.config.batch_size)].to(self.device) for t in val]
            with self._autocast():
                loss, _ = self.loss_fn(self.ema.module, batch, generator)
            total += float(loss) * len(batch[0])
            seen += len(batch[0])
        return total / seen

    # -- helpers -----------------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self.config.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _log(self, values: dict[str, float], num_items: int, elapsed: float) -> None:
        epoch = epoch_of(self.step - 1, self.config.batch_size, self.dist.world_size, num_items)
        if "val_loss" in values and values["val_loss"] < self.best_val:
            self.best_val = values["val_loss"]
            self._improved = True
        if self.dist.is_main:
            record = {"stage": self.stage, "step": self.step, "epoch": epoch,
                      **{k: float(v) for k, v in values.items()}, "time": round(elapsed, 3)}
            with open(self.metrics_path, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(record) + "\n")
        self.emit(Metric(self.stage, self.step, {k: float(v) for k, v in values.items()}))

    def _forget_metrics_after(self, step: int) -> None:
        """Drop this stage's records past ``step``: logged after the checkpoint a crashed run resumes from."""
        if not self.metrics_path.exists():
            return
        lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.strip()
                and not ((r := json.loads(line))["stage"] == self.stage and r["step"] > step)]
        if len(kept) != len(lines):
            with atomic_write(self.metrics_path) as temporary:
                temporary.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def _checkpoint(self) -> None:
        improved, self._improved = self._improved, False
        final = self.step == self.config.steps
        extra = {"rank_digests": gather_digests(self.model, self.dist)} if final and self.dist.enabled else {}
        self._save("last", **extra)
        if improved:
            self._save("best", **extra)

    def _stopped(self) -> Cancelled:
        """Checkpoint the step reached (rank 0 writes, every rank stops here) and say where it went."""
        self._checkpoint()
        return Cancelled(f"stopped after {self.stage} step {self.step} of {self.config.steps}; checkpoint saved to "
                         f"{self.checkpoint_path('last').absolute()}")

    def _save(self, tag: str, **extra: Any) -> None:
        if not self.dist.is_main:
            return
        manifest = {**self.manifest, "stage": self.stage, "step": self.step, "total_steps": self.config.steps,
                    "best_val": self.best_val if math.isfinite(self.best_val) else None,
                    "world_size": self.dist.world_size, "train": self.config.to_dict(), **extra}
        save_checkpoint(self.checkpoint_path(tag), manifest, self.model, self.ema.module, self.optimizer)

    def _diverged(self, value: float) -> TrainingDiverged:
        last = self.checkpoint_path("last")
        kept = f"the last good checkpoint {last} is kept" if last.exists() else "no checkpoint was written yet"
        return TrainingDiverged(self.run_dir, f"{self.stage} loss became {value} at step {self.step + 1}; "
                                              f"training stopped and {kept} (try a lower --lr)")
