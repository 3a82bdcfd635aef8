"""Editing in latent space: DDIM walks both ways, SDEdit starts, slerp, and guided completion.

Plain functions in the k-diffusion manner: a ``denoise(x, t)`` callable (the guided network), latents,
a sequence of timesteps, an optional ``callback(i, total)``. None of them knows the autoencoder's
representation; completion takes its consistency loss on the decoded shape as a callable.
"""
from __future__ import annotations

from typing import Callable

import torch

from core.diffusion.schedulers import predicted_x0

Denoise = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Callback = Callable[[int, int], None]
#: (x0 estimate) -> corrected x0 estimate; completion's consistency step
Correction = Callable[[torch.Tensor], torch.Tensor]

#: the timestep that stands for "clean": ᾱ = 1 (DDIM's ᾱ_0 of Song et al. 2021, eq. 12, with t = -1)
CLEAN = -1


def alpha_bar(alphas: torch.Tensor, t: int) -> float:
    """ᾱ_t of the training schedule, 1 at :data:`CLEAN`."""
    return 1.0 if t <= CLEAN else float(alphas[t])


def ddim_walk(denoise: Denoise, x: torch.Tensor, timesteps: list[int], alphas: torch.Tensor, prediction_type: str,
              correction: Correction | None = None, callback: Callback | None = None) -> torch.Tensor:
    """Deterministic DDIM (Song et al. 2021, "Denoising Diffusion Implicit Models", eq. 12 with η = 0) along
    ``timesteps``: x_next = √ᾱ_next x̂0 + √(1−ᾱ_next) ε̂.

    Descending timesteps ending at :data:`CLEAN` sample; ascending ones (:func:`inversion_timesteps`) invert
    (DDIM inversion, Mokady et al. 2023, "Null-text Inversion", sec. 3), the same update read the other way.
    ``correction`` replaces each x̂0 before the update (guided completion).
    """
    total = len(timesteps) - 1
    for i, (t, t_next) in enumerate(zip(timesteps[:-1], timesteps[1:])):
        a = alpha_bar(alphas, t)
        output = denoise(x, torch.full((len(x),), t, device=x.device))
        x0 = predicted_x0(x, output, a, prediction_type)
        if correction is not None:
            x0 = correction(x0)
        eps = (x - a ** 0.5 * x0) / (1 - a) ** 0.5
        a_next = alpha_bar(alphas, t_next)
        x = a_next ** 0.5 * x0 + (1 - a_next) ** 0.5 * eps
        if callback is not None:
            callback(i + 1, total)
    return x


def inversion_timesteps(end: int, steps: int) -> list[int]:
    """``steps`` + 1 evenly spaced timesteps from 0 up to ``end``: the clean latent stands in for x at t = 0
    (ᾱ_0 ≈ 0.999), the usual start of DDIM inversion."""
    return list(dict.fromkeys(torch.linspace(0, end, max(1, steps) + 1).round().long().tolist()))


def sampling_timesteps(start: int, steps: int) -> list[int]:
    """``steps`` evenly spaced timesteps from ``start`` down to 0, then :data:`CLEAN`."""
    count = max(1, steps)
    values = torch.linspace(start, 0, count).round().long().tolist()
    return [*dict.fromkeys(values), CLEAN]


def strength_timestep(strength: float, num_train_timesteps: int) -> int:
    """The timestep SDEdit noises to for ``strength`` ∈ (0, 1] (Meng et al. 2022, "SDEdit", sec. 3: t₀ ∈ (0, 1])."""
    return max(0, min(num_train_timesteps - 1, round(strength * num_train_timesteps) - 1))


def noised(x0: torch.Tensor, alphas: torch.Tensor, t: int, noise: torch.Tensor) -> torch.Tensor:
    """x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε: the forward process in one jump (Ho et al. 2020, eq. 4)."""
    a = alpha_bar(alphas, t)
    return a ** 0.5 * x0 + (1 - a) ** 0.5 * noise


def slerp(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation per weight (Shoemake 1985), the path between Gaussian noises that keeps their
    norm (DDIM, Song et al. 2021, sec. 5.3); (K, …) for K weights between single tensors ``a`` and ``b``."""
    flat_a, flat_b = a.reshape(-1).double(), b.reshape(-1).double()
    cosine = torch.dot(flat_a, flat_b) / (flat_a.norm() * flat_b.norm()).clamp_min(1e-12)
    theta = torch.arccos(cosine.clamp(-1.0, 1.0))
    w = weights.double().view(-1, *([1] * a.dim()))
    if theta < 1e-6:
        return ((1 - w) * a.double() + w * b.double()).to(a.dtype)
    mixed = (torch.sin((1 - w) * theta) * a.double() + torch.sin(w * theta) * b.double()) / torch.sin(theta)
    return mixed.to(a.dtype)


def lerp(a: torch.Tensor, b: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Straight-line interpolation per weight between single tensors: (K, …)."""
    w = weights.to(a.dtype).view(-1, *([1] * a.dim()))
    return (1 - w) * a + w * b


def consistency_correction(loss: Callable[[torch.Tensor], torch.Tensor], step_size: float, iterations: int,
                           extra: tuple[torch.Tensor, ...] = ()) -> Correction:
    """x̂0 moved ``iterations`` Adam steps (Kingma & Ba 2015) down ``loss(x̂0)``, together with the leaf tensors
    ``extra`` the loss also depends on (completion's placement of the partial shape), which keep their values
    from call to call.

    The backward guidance of Bansal et al. 2023 ("Universal Guidance for Diffusion Models", sec. 3.2):
    the clean estimate itself is corrected, so the next DDIM step carries the constraint into x_t. Adam's
    steps are about ``step_size`` per element whatever the loss's scale, so one setting serves every
    representation's loss.
    """

    def correct(x0: torch.Tensor) -> torch.Tensor:
        x0 = x0.detach().clone()
        with torch.enable_grad():
            x0.requires_grad_(True)
            optimizer = torch.optim.Adam([x0, *extra], lr=step_size)
            for _ in range(iterations):
                optimizer.zero_grad()
                loss(x0).backward()
                optimizer.step()
        return x0.detach()

    return correct


def known_replacement(known: torch.Tensor, mask: torch.Tensor) -> Correction:
    """x̂0 with the cells where ``mask`` holds replaced by the ``known`` latent (broadcast over the batch).

    Inpainting by replacement (Song et al. 2021, "Score-Based Generative Modeling through SDEs", app. I.2;
    RePaint, Lugmayr et al. 2022, eq. 8) done on the clean estimate: the DDIM step then re-noises the known
    cells consistently with the current noise estimate, so no fresh noise is drawn for them.
    """
    weight = mask.to(known.dtype)

    def replace(x0: torch.Tensor) -> torch.Tensor:
        return weight * known + (1 - weight) * x0

    return replace


def chained(*corrections: Correction) -> Correction:
    """The corrections applied one after another."""

    def correct(x0: torch.Tensor) -> torch.Tensor:
        for correction in corrections:
            x0 = correction(x0)
        return x0

    return correct
