"""Exponential moving average of a network's weights: the weights samples are drawn with."""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """A frozen copy of ``model`` whose parameters trail the trained ones (Polyak averaging).

    Diffusion models sample markedly better from averaged weights (Song & Ermon 2020, "Improved
    techniques", technique 5; every LDM/DiT release ships EMA weights). Buffers (codebooks, norms'
    statistics) are copied, not averaged: they are already running statistics.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.decay = decay
        self.module = copy.deepcopy(model).eval().requires_grad_(False)

    def decay_at(self, step: int) -> float:
        """The decay for update ``step``: ramps up from 0.1 so the average is not stuck at the random init."""
        return min(self.decay, (1 + step) / (10 + step))  # TensorFlow's ExponentialMovingAverage num_updates

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Move the average towards ``model``'s current weights."""
        weight = 1.0 - self.decay_at(step)
        for average, current in zip(self.module.parameters(), model.parameters()):
            average.lerp_(current.detach(), weight)
        for average, current in zip(self.module.buffers(), model.buffers()):
            average.copy_(current)
