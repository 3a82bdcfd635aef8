"""Vector quantiser with an EMA codebook and dead-code restarts.

* VQ-VAE: nearest-code quantisation, straight-through gradients, commitment loss
  ``beta * |z_e - sg(z_q)|^2`` with beta = 0.25 (van den Oord et al., "Neural Discrete
  Representation Learning", NeurIPS 2017, eq. 3).
* The codebook is not trained by gradients but as exponential moving averages of the assigned
  encoder outputs, with Laplace smoothing of the counts (van den Oord et al. 2017, appendix A.1;
  Razavi et al., "Generating Diverse High-Fidelity Images with VQ-VAE-2", NeurIPS 2019), decay 0.99.
* Codes whose EMA count drops below a threshold are restarted on random encoder outputs of the
  current batch (Dhariwal et al., "Jukebox", 2020, section 2.3), so the codebook stays in use.

Under ``torch.distributed`` the training-mode counts and sums are all-reduced and initial codes
and restarts come from rank 0, so every rank keeps the same codebook.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

#: Laplace smoothing of the EMA counts (Sonnet's VectorQuantizerEMA epsilon).
LAPLACE_EPS = 1e-5
#: EMA count a restarted code starts with: a grace period of ~log(threshold)/log(decay) steps.
RESTART_COUNT = 1.0


def _all_reduce(tensor: Tensor) -> Tensor:
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor)
    return tensor


class VectorQuantizer(nn.Module):
    """Quantise channel-last vectors (..., dim) to the nearest of ``size`` codes."""

    def __init__(self, size: int, dim: int, beta: float = 0.25, decay: float = 0.99, dead_threshold: float = 1e-2) -> None:
        super().__init__()
        self.size, self.dim = size, dim
        self.beta, self.decay, self.dead_threshold = beta, decay, dead_threshold
        codebook = torch.randn(size, dim)
        self.register_buffer("codebook", codebook)
        self.register_buffer("ema_count", torch.full((size,), RESTART_COUNT))
        self.register_buffer("ema_sum", codebook.clone())
        self.register_buffer("initialized", torch.tensor(False))

    def nearest(self, flat: Tensor) -> Tensor:
        """Index of the nearest code for each row of ``flat`` (N, dim)."""
        dists = torch.addmm(self.codebook.square().sum(1)[None], flat, self.codebook.t(), alpha=-2.0)
        return dists.argmin(dim=1)

    def quantize(self, z_e: Tensor) -> Tensor:
        """Deterministic quantisation (no codebook update): the latent a trained model encodes to."""
        flat = z_e.reshape(-1, self.dim).float()
        return self.codebook[self.nearest(flat)].view_as(z_e).to(z_e.dtype)

    def forward(self, z_e: Tensor) -> tuple[Tensor, Tensor, dict[str, float]]:
        """Quantise with straight-through gradients; in training also update the codebook.

        Returns (z_q, commitment loss, logs with ``vq``, ``codebook_usage`` (fraction of codes used
        in this batch), ``perplexity`` (exp of the code-assignment entropy) and ``dead_restarts``).
        """
        flat = z_e.reshape(-1, self.dim).float()
        if self.training and not bool(self.initialized):
            self._init_from(flat.detach())
        codes = self.nearest(flat.detach())
        one_hot = F.one_hot(codes, self.size).to(flat.dtype)
        counts = one_hot.sum(0)
        restarts = 0
        if self.training:  # only training syncs ranks: evaluation may run on one rank alone
            counts = _all_reduce(counts)
            restarts = self._ema_update(flat.detach(), one_hot, counts)
        z_q = self.codebook[codes].view_as(z_e).to(z_e.dtype)
        loss = self.beta * F.mse_loss(z_e, z_q.detach())
        probs = counts / counts.sum()
        perplexity = torch.exp(-(probs * torch.log(probs + 1e-10)).sum())
        logs = {
            "vq": loss.item(),
            "codebook_usage": (counts > 0).float().mean().item(),
            "perplexity": perplexity.item(),
            "dead_restarts": float(restarts),
        }
        return z_e + (z_q - z_e).detach(), loss, logs

    @torch.no_grad()
    def _init_from(self, flat: Tensor) -> None:
        """Start the codebook on random encoder outputs (data-dependent init), not on noise of the wrong scale."""
        replacement = flat[torch.randint(flat.shape[0], (self.size,), device=flat.device)]
        if dist.is_available() and dist.is_initialized():
            dist.broadcast(replacement, src=0)
        self.codebook.copy_(replacement)
        self.ema_sum.copy_(replacement * RESTART_COUNT)
        self.ema_count.fill_(RESTART_COUNT)
        self.initialized.fill_(True)

    @torch.no_grad()
    def _ema_update(self, flat: Tensor, one_hot: Tensor, counts: Tensor) -> int:
        """EMA of counts and sums, Laplace-smoothed codebook, then restart dead codes. Returns #restarts."""
        self.ema_count.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(_all_reduce(one_hot.t() @ flat), alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + LAPLACE_EPS) / (total + self.size * LAPLACE_EPS) * total
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        return self._restart_dead(flat)

    def _restart_dead(self, flat: Tensor) -> int:
        dead = self.ema_count < self.dead_threshold
        n_dead = int(dead.sum())
        if n_dead == 0:
            return 0
        picks = torch.randint(flat.shape[0], (n_dead,), device=flat.device)
        replacement = flat[picks]
        if dist.is_available() and dist.is_initialized():
            dist.broadcast(replacement, src=0)
        self.codebook[dead] = replacement
        self.ema_sum[dead] = replacement * RESTART_COUNT
        self.ema_count[dead] = RESTART_COUNT
        return n_dead
