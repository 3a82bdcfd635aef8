"""What a finished training hands back: where the run and its final checkpoints are."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainResult:
    """The run folder, the last checkpoints of both stages, the latent scale factor and the metrics log.

    Named fields rather than a dict, like diffusers' ``SchedulerOutput``: a consumer that misspells one
    fails at once instead of reading ``None``.
    """

    run_dir: str
    autoencoder: str
    denoiser: str
    scale_factor: float
    metrics: str
