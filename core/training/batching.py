"""Which examples step ``k`` of rank ``r`` trains on, and with which seed: pure functions of the step.

Drawing both from (seed, step, rank) instead of a running RNG means a run resumed at step k sees
exactly the batches and noise of an uninterrupted run, with no RNG state to save or restore, and
that DDP ranks see disjoint shards of each epoch.
"""
from __future__ import annotations

import numpy as np
import torch


def step_seed(seed: int, stage: str, step: int, rank: int = 0) -> int:
    """A well-mixed 63-bit seed for one step of one stage on one rank."""
    words = [seed, step, rank, *stage.encode()]
    return int(np.random.SeedSequence(words).generate_state(2, np.uint64)[0] >> np.uint64(1))


def epoch_permutation(num_items: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of the examples in ``epoch``."""
    generator = torch.Generator().manual_seed(step_seed(seed, "epoch", epoch))
    return torch.randperm(num_items, generator=generator)


def batch_indices(num_items: int, batch_size: int, step: int, seed: int, rank: int = 0,
                  world_size: int = 1) -> torch.Tensor:
    """Indices of the batch of ``rank`` at ``step``: the global batch is a window of the endless stream
    of shuffled epochs, cut into ``world_size`` consecutive per-rank slices."""
    start = (step * world_size + rank) * batch_size
    positions = torch.arange(start, start + batch_size)
    epochs = positions // num_items
    indices = torch.empty(batch_size, dtype=torch.long)
    for epoch in epochs.unique().tolist():
        mask = epochs == epoch
        indices[mask] = epoch_permutation(num_items, seed, epoch)[positions[mask] % num_items]
    return indices


def epoch_of(step: int, batch_size: int, world_size: int, num_items: int) -> int:
    """The epoch that step ``step`` starts in."""
    return step * batch_size * world_size // max(1, num_items)
