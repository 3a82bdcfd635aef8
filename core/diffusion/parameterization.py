"""What the denoiser's output means: the noise ε, the velocity v, the clean sample x0 or a flow's velocity u.

A run's schedule names one diffusers ``prediction_type``; training regresses its
:func:`training_target` and every sampler turns the output back into the clean-sample estimate with
:func:`data_prediction`. Both sides read this one table, so they cannot disagree. ``alpha`` and
``sigma`` are the VP coefficients of x_t = α x0 + σ ε (α = √ᾱ, σ = √(1−ᾱ)); they may be floats or
tensors broadcasting against the sample.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Union

import torch

Coefficient = Union[float, torch.Tensor]


class Parameterization(NamedTuple):
    """The regression target of one prediction type, the x̂0 its output implies, and how much the x̂0 error
    |x̂0 − x0|² weighs in its squared error at a signal-to-noise ratio SNR = α²/σ² (Min-SNR weighting reads
    it)."""

    target: Callable[[torch.Tensor, torch.Tensor, Coefficient, Coefficient], torch.Tensor]
    data: Callable[[torch.Tensor, torch.Tensor, Coefficient, Coefficient], torch.Tensor]
    x0_error_weight: Callable[[torch.Tensor], torch.Tensor]


#: diffusers ``prediction_type`` -> (target from (x0, ε), x̂0 from (x_t, output)).
#: ε: x̂0 = (x_t − σ ε) / α (DDPM); v = α ε − σ x0 and x̂0 = α x_t − σ v (Salimans & Ho 2022, sec. 4);
#: x0 ("sample"): the output is the estimate itself. The x̂0 error weighs SNR times in ε's squared error,
#: SNR + 1 times in v's, once in x0's (Hang et al., "Efficient Diffusion Training via Min-SNR Weighting
#: Strategy", ICCV 2023, sec. 3.4).
#: Flow matching ("flow_prediction", diffusers' name) regresses the velocity u = ε − x0 of the straight path
#: y_τ = (1 − τ) x0 + τ ε (Liu et al. 2022, "Flow Straight and Fast", eq. 1; Lipman et al. 2023). That path is the
#: VP sample scaled: y_τ = x_t / (α + σ) at τ = σ / (α + σ), so the network is given x_t (the path's point at unit
#: scale, EDM's input preconditioning) and x̂0 = y_τ − τ u = (x_t − σ u) / (α + σ); an x̂0 error is τ times a u
#: error, so it weighs 1/τ² = (√SNR + 1)² times in u's squared error.
PARAMETERIZATIONS: dict[str, Parameterization] = {
    "epsilon": Parameterization(target=lambda x0, noise, alpha, sigma: noise,
                                data=lambda x_t, output, alpha, sigma: (x_t - sigma * output) / alpha,
                                x0_error_weight=lambda snr: snr),
    "v_prediction": Parameterization(target=lambda x0, noise, alpha, sigma: alpha * noise - sigma * x0,
                                     data=lambda x_t, output, alpha, sigma: alpha * x_t - sigma * output,
                                     x0_error_weight=lambda snr: snr + 1),
    "sample": Parameterization(target=lambda x0, noise, alpha, sigma: x0,
                               data=lambda x_t, output, alpha, sigma: output,
                               x0_error_weight=torch.ones_like),
    "flow_prediction": Parameterization(target=lambda x0, noise, alpha, sigma: noise - x0,
                                        data=lambda x_t, output, alpha, sigma: (x_t - sigma * output) / (alpha + sigma),
                                        x0_error_weight=lambda snr: (snr.sqrt() + 1) ** 2),
}
#: the prediction types diffusers' VP schedulers step with; a flow's u is handed to them as the v it implies
SCHEDULER_PREDICTIONS: dict[str, str] = {"epsilon": "epsilon", "v_prediction": "v_prediction", "sample": "sample",
                                         "flow_prediction": "v_prediction"}


def parameterization(prediction_type: str) -> Parameterization:
    """The entry of ``prediction_type``; an unknown one is a ``ValueError`` naming it."""
    if prediction_type not in PARAMETERIZATIONS:
        raise ValueError(f"unknown prediction_type {prediction_type!r}")
    return PARAMETERIZATIONS[prediction_type]


def training_target(prediction_type: str, x0: torch.Tensor, noise: torch.Tensor, alpha: Coefficient,
                    sigma: Coefficient) -> torch.Tensor:
    """What the denoiser regresses for clean ``x0`` noised with ``noise`` at (α, σ)."""
    return parameterization(prediction_type).target(x0, noise, alpha, sigma)


def data_prediction(prediction_type: str, x_t: torch.Tensor, model_output: torch.Tensor, alpha: Coefficient,
                    sigma: Coefficient) -> torch.Tensor:
    """The clean-sample estimate x̂0 implied by the denoiser's output at (α, σ)."""
    return parameterization(prediction_type).data(x_t, model_output, alpha, sigma)


def scheduler_prediction(prediction_type: str) -> str:
    """The prediction type the samplers step with for a network trained on ``prediction_type``
    (:data:`SCHEDULER_PREDICTIONS`; a type it does not list passes as it is)."""
    return SCHEDULER_PREDICTIONS.get(prediction_type, prediction_type)


def scheduler_output(prediction_type: str, x_t: torch.Tensor, model_output: torch.Tensor, alpha: Coefficient,
                     sigma: Coefficient) -> torch.Tensor:
    """The output in the terms of :data:`SCHEDULER_PREDICTIONS`, what every sampler steps with: a flow's u becomes
    v = α ε̂ − σ x̂0 = ((α − σ) x_t + u) / (α + σ) (ε̂ and x̂0 of the same u, α² + σ² = 1); other outputs pass."""
    if scheduler_prediction(prediction_type) == prediction_type:
        return model_output
    return ((alpha - sigma) * x_t + model_output) / (alpha + sigma)
