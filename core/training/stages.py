"""The two stages as loss functions for :class:`~core.training.trainer.Trainer`, and the latents between them."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from core.diffusion.guidance import null_condition
from core.diffusion.objective import diffusion_loss
from core.training.captions import pick_captions
from core.training.representations import Representation
from core.training.trainer import LossFn

#: shapes per forward when encoding a dataset into latents (memory, not speed, bounds it)
ENCODE_BATCH = 64


def autoencoder_loss(rep: Representation) -> LossFn:
    """Stage 1: the autoencoder's own reconstruction + regulariser loss on a batch of shapes."""

    def loss_fn(model: nn.Module, batch: Sequence[torch.Tensor], generator: torch.Generator):
        output = model(rep.model_input(batch[0]))
        return output.loss, {k: v for k, v in output.logs.items() if k != "loss"}

    return loss_fn


def denoiser_loss(alphas_cumprod: torch.Tensor, prediction_type: str, cond: str, num_classes: int,
                  captions: torch.Tensor | None = None, min_snr_gamma: float | None = None) -> LossFn:
    """Stage 2: ε/v regression on scaled latents, conditioned on the labels in batch[1] and dropped for CFG,
    Min-SNR-γ weighted when ``min_snr_gamma`` is given (core.diffusion.objective).

    ``cond="class"`` uses the labels themselves; ``cond="text"`` the embedding of a random caption template
    of each label's class (``captions``: (classes, templates, dim), core.training.captions).
    """
    if cond == "text" and captions is None:
        raise ValueError("text conditioning needs the caption embeddings table")

    def loss_fn(model: nn.Module, batch: Sequence[torch.Tensor], generator: torch.Generator):
        if cond == "none":
            condition = None
        elif cond == "text":
            condition = pick_captions(captions, batch[1], generator)
        else:
            condition = batch[1]
        null = None if condition is None else null_condition(condition, num_classes)
        return diffusion_loss(model, batch[0], alphas_cumprod, prediction_type, condition, null, generator,
                              min_snr_gamma=min_snr_gamma), {}

    return loss_fn


@torch.no_grad()
def encode_all(autoencoder: nn.Module, rep: Representation, shapes: torch.Tensor,
               device: torch.device) -> torch.Tensor:
    """Deterministic latents of every shape (on the CPU), in batches."""
    autoencoder.eval()
    parts = [autoencoder.encode(rep.model_input(shapes[i:i + ENCODE_BATCH].to(device))).float().cpu()
             for i in range(0, len(shapes), ENCODE_BATCH)]
    return torch.cat(parts)
