"""Training presets: the Models engineer's network sizes plus steps, batch sizes and learning rates.

``tiny`` trains in seconds (CI, smoke tests), ``small`` in at most an hour on 2 CPU cores and
``base`` is meant for a GPU. Network sizes come from :mod:`core.models.presets` under the same name.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.choices import PRESETS as PRESET_NAMES


@dataclass(frozen=True)
class TrainingPreset:
    """Steps, batch sizes and peak learning rates of both stages, points per shape, validation size.

    ``val_examples`` held-out shapes are enough for a stable validation number; more only costs time.
    """

    ae_steps: int
    ldm_steps: int
    ae_batch_size: int
    ldm_batch_size: int
    ae_lr: float
    ldm_lr: float
    n_points: int
    val_examples: int
    warmup_steps: int
    log_every: int
    val_every: int
    checkpoint_every: int


PRESETS: dict[str, TrainingPreset] = {
    "tiny": TrainingPreset(ae_steps=100, ldm_steps=100, ae_batch_size=8, ldm_batch_size=32, ae_lr=2e-3,
                           ldm_lr=1e-3, n_points=512, val_examples=16, warmup_steps=10, log_every=5, val_every=20,
                           checkpoint_every=20),
    "small": TrainingPreset(ae_steps=2000, ldm_steps=6000, ae_batch_size=16, ldm_batch_size=64, ae_lr=1e-3,
                            ldm_lr=5e-4, n_points=1024, val_examples=64, warmup_steps=100, log_every=25, val_every=250,
                            checkpoint_every=250),
    "base": TrainingPreset(ae_steps=40000, ldm_steps=100000, ae_batch_size=64, ldm_batch_size=256, ae_lr=4e-4,
                           ldm_lr=2e-4, n_points=2048, val_examples=256, warmup_steps=1000, log_every=100,
                           val_every=2000, checkpoint_every=2000),
}


def training_preset(name: str) -> TrainingPreset:
    """The named preset."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {PRESET_NAMES}, got {name!r}")
    return PRESETS[name]
