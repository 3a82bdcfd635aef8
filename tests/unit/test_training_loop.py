"""The shared trainer on a toy regression: resume retraces an uninterrupted run, NaN stops cleanly, cancel saves."""
from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from core.jobs import CancelToken, Cancelled, Metric
from core.training.batching import batch_indices
from core.training.checkpoint import load_checkpoint
from core.training.schedule import FINAL_LR_RATIO, learning_rate
from core.training.trainer import TrainConfig, Trainer, TrainingDiverged

STEPS = 12


def _data() -> list[torch.Tensor]:
    x = torch.linspace(-1, 1, 40).unsqueeze(1)
    return [x, 3 * x + 0.5]


def _loss(model, batch, generator):
    noise = 0.01 * torch.randn(batch[0].shape, generator=generator)  # uses the per-step generator
    prediction = model(batch[0] + noise)
    return ((prediction - batch[1]) ** 2).mean(), {"extra": 1.0}


def _trainer(run_dir, loss=_loss, cancel=None, events=None, steps=STEPS) -> Trainer:
    torch.manual_seed(0)
    config = TrainConfig(steps=steps, batch_size=8, lr=0.05, warmup_steps=2, log_every=1, val_every=3,
                         checkpoint_every=3, seed=5)
    return Trainer("toy", nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)), loss, _data(), _data(),
                   config, run_dir, {"kind": "toy"}, torch.device("cpu"),
                   (events.append if events is not None else lambda e: None), cancel or CancelToken())


def _losses(run_dir) -> list[tuple]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["stage"], r["step"], r["epoch"], r["loss"], r.get("val_loss"), r["lr"]) for r in records]


def test_resume_retraces_an_uninterrupted_run(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    for folder in (straight, split):
        folder.mkdir()
    _trainer(straight).fit()

    cancel = CancelToken()
    stop_at_half = lambda e: isinstance(e, Metric) and e.step == STEPS // 2 and cancel.cancel()
    first = _trainer(split, cancel=cancel)
    first.emit = stop_at_half
    with pytest.raises(Cancelled):
        first.fit()
    assert load_checkpoint(first.checkpoint_path("last")).manifest["step"] == STEPS // 2
    second = _trainer(split)
    second.restore(load_checkpoint(second.checkpoint_path("last")))
    second.fit()

    assert _losses(split) == _losses(straight)
    a = load_checkpoint(straight / "checkpoints" / "toy_last.safetensors")
    b = load_checkpoint(split / "checkpoints" / "toy_last.safetensors")
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    def poisoned(model, batch, generator):
        loss, logs = _loss(model, batch, generator)
        return (loss * math.nan if trainer.step >= 4 else loss), logs

    trainer = _trainer(tmp_path, loss=poisoned)
    with pytest.raises(TrainingDiverged, match="loss became nan at step 5.*toy_last.safetensors"):
        trainer.fit()
    kept = load_checkpoint(trainer.checkpoint_path("last"))
    assert kept.manifest["step"] == 3
    assert all(torch.isfinite(t).all() for t in kept.group("model").values())


def test_cancel_leaves_a_checkpoint_that_restores(tmp_path):
    cancel = CancelToken()
    events = []
    trainer = _trainer(tmp_path, cancel=cancel, events=events)
    trainer.emit = lambda e: (events.append(e), isinstance(e, Metric) and e.step == 2 and cancel.cancel())
    with pytest.raises(Cancelled):
        trainer.fit()
    restored = _trainer(tmp_path)
    restored.restore(load_checkpoint(trainer.checkpoint_path("last")))
    assert restored.step == 2
    assert torch.equal(restored.model[0].weight, trainer.model[0].weight)


def test_metrics_and_best_checkpoint(tmp_path):
    events = []
    _trainer(tmp_path, events=events).fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    assert {"stage", "step", "epoch", "loss", "lr", "time", "extra", "grad_norm"} <= set(records[0])
    assert [r["step"] for r in records if "val_loss" in r] == [3, 6, 9, 12]
    assert len([e for e in events if isinstance(e, Metric)]) == STEPS
    best = load_checkpoint(tmp_path / "checkpoints" / "toy_best.safetensors").manifest
    assert best["best_val"] == min(r["val_loss"] for r in records if "val_loss" in r)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    rates = [learning_rate(s, 1.0, 10, 100) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:]))
    assert learning_rate(100, 1.0, 10, 100) == pytest.approx(FINAL_LR_RATIO)


def test_batches_cover_each_epoch_once_and_shard_across_ranks():
    n, batch = 10, 5
    epoch = torch.cat([batch_indices(n, batch, step, seed=1) for step in range(2)])
    assert sorted(epoch.tolist()) == list(range(n))
    ranks = torch.cat([batch_indices(n, batch, 0, seed=1, rank=r, world_size=2) for r in range(2)])
    assert sorted(ranks.tolist()) == list(range(n))
    assert torch.equal(batch_indices(n, 7, 3, seed=1), batch_indices(n, 7, 3, seed=1))


def test_bf16_autocast_runs_the_forward_in_bfloat16(tmp_path):
    seen = []

    def loss(model, batch, generator):
        prediction = model(batch[0])
        seen.append(prediction.dtype)
        return ((prediction.float() - batch[1]) ** 2).mean(), {}

    trainer = _trainer(tmp_path, loss=loss, steps=2)
    trainer.config.bf16 = True
    trainer.fit()
    assert seen[0] == torch.bfloat16 and trainer.model[0].weight.dtype == torch.float32
