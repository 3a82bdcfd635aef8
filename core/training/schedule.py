"""Learning-rate schedule: linear warm-up, then cosine decay."""
from __future__ import annotations

import math

#: the cosine ends at this fraction of the peak rate rather than 0, so the last steps still learn
#: (the "10x decay" of Hoffmann et al. 2022, Chinchilla, sec. 3)
FINAL_LR_RATIO = 0.1


def learning_rate(step: int, peak: float, warmup_steps: int, total_steps: int) -> float:
    """The rate for optimiser step ``step`` (0-based).

    Linear warm-up from peak/warmup to peak (Goyal et al. 2017, sec. 2.2) keeps AdamW's early,
    badly-estimated second moments from blowing up; the half-cosine after it is SGDR's
    (Loshchilov & Hutter 2017) without restarts.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    floor = peak * FINAL_LR_RATIO
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
