"""``TrainClassifierJob``: fit the PointNet classifier on a dataset's train split, report test accuracy."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from core.data import open_dataset
from core.errors import InputError
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Metric, Progress

#: PointNet's training augmentation (Qi et al. 2017, ``provider.py``): per-axis scale in [0.8, 1.25],
#: shift up to 0.1, Gaussian jitter sigma 0.01 clipped at 0.05. No rotation: ModelNet is aligned.
SCALE_RANGE = (0.8, 1.25)
MAX_SHIFT = 0.1
JITTER_SIGMA, JITTER_CLIP = 0.01, 0.05


class TrainClassifierJob(Job):
    """Train on ``split_train`` of ``data``, test on ``split_test``, save into ``out_dir``."""

    name = "train-classifier"

    def __init__(self, data: str | Path, out_dir: str | Path, epochs: int = 8, batch_size: int = 32,
                 lr: float = 2e-3, seed: int = 0, n_points: int = 256) -> None:
        self.data, self.out_dir = data, Path(out_dir)
        self.epochs, self.batch_size, self.lr, self.seed, self.n_points = epochs, batch_size, lr, seed, n_points

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Train with AdamW and a cosine schedule; the result is the manifest's figures."""
        import torch
        import torch.nn.functional as F

        # torch-backed, imported on the job's thread: the CLI's parser imports this module (issue 21's lazy point)
        from core.models.classifier import ClassifierConfig, PointNetClassifier, prepare_clouds, save_classifier

        if self.epochs < 1 or self.batch_size < 1:
            raise InputError("--epochs/--batch-size", "need at least one epoch and a batch of one")
        start = time.perf_counter()
        dataset = open_dataset(self.data)
        train, test = dataset.subset(split="train"), dataset.subset(split="test")
        classes = dataset.classes
        train_x = prepare_clouds(train.points(n_points=self.n_points, seed=self.seed), self.n_points)
        test_x = prepare_clouds(test.points(n_points=self.n_points, seed=self.seed), self.n_points)
        train_y = torch.from_numpy(_labels(train, classes))
        test_y = _labels(test, classes)
        emit(Log(f"{len(train_x)} train / {len(test_x)} test shapes, {len(classes)} classes"))

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        model = PointNetClassifier(ClassifierConfig(n_classes=len(classes), n_points=self.n_points))
        optimiser = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=1e-4)
        steps_per_epoch = -(-len(train_x) // self.batch_size)
        total = self.epochs * steps_per_epoch
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=self.lr, total_steps=total, pct_start=0.1)
        step = 0
        for epoch in range(self.epochs):
            model.train()
            for batch in np.array_split(rng.permutation(len(train_x)), steps_per_epoch):
                cancel.raise_if_cancelled()
                x = torch.from_numpy(_augment(train_x[batch], rng))
                loss = F.cross_entropy(model(x), train_y[batch], label_smoothing=0.1)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
                step += 1
                emit(Metric("classifier", step, {"loss": float(loss), "epoch": epoch}))
                emit(Progress(step, total, "training classifier"))
        accuracy = float(np.mean(model.predict(test_x) == test_y))
        per_class = {c: float(np.mean(model.predict(test_x[test_y == k]) == k))
                     for k, c in enumerate(classes) if np.any(test_y == k)}
        figures = {"test_accuracy": accuracy, "test_accuracy_per_class": per_class, "data": str(self.data),
                   "epochs": self.epochs, "train_shapes": len(train_x), "test_shapes": len(test_x),
                   "seconds": round(time.perf_counter() - start, 1)}
        save_classifier(model, classes, self.out_dir, figures)
        emit(Log(f"test accuracy {accuracy:.3f}; saved to {self.out_dir}"))
        return figures


def _labels(subset, classes: list[str]) -> np.ndarray:
    """Labels of ``subset`` as indices into the full dataset's ``classes``."""
    index = {name: k for k, name in enumerate(classes)}
    return np.array([index[r.class_name] for r in subset.records], dtype=np.int64)


def _augment(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """PointNet's scale/shift/jitter augmentation of a batch (B, P, 3)."""
    scale = rng.uniform(*SCALE_RANGE, size=(len(points), 1, 3))
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, size=(len(points), 1, 3))
    jitter = np.clip(rng.normal(0.0, JITTER_SIGMA, size=points.shape), -JITTER_CLIP, JITTER_CLIP)
    return (points * scale + shift + jitter).astype(np.float32)
