"""The noise schedule a run is trained with, and the ``diffusers`` samplers that invert it.

A run stores one plain dict (:func:`noise_schedule_config`) in its ``config.json``; every sampler is
built from that same dict, so training and all samplers agree on the betas and the prediction type.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.choices import DEFAULT_BETA_SCHEDULE
from core.diffusion.parameterization import data_prediction, scheduler_prediction

#: ``--sampler`` name -> diffusers scheduler class
SAMPLERS: dict[str, str] = {
    "ddpm": "DDPMScheduler",
    "ddim": "DDIMScheduler",
    "dpmpp": "DPMSolverMultistepScheduler",
    "dpmpp_sde": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
}
#: extra settings per sampler; dpmpp is the data-prediction multistep solver of Lu et al. 2022
#: ("DPM-Solver++", arXiv:2211.01095), second order as recommended there for guided sampling
_SAMPLER_OPTIONS: dict[str, dict[str, Any]] = {
    "dpmpp": {"algorithm_type": "dpmsolver++", "solver_order": 2},
    "dpmpp_sde": {"algorithm_type": "sde-dpmsolver++", "solver_order": 2},
}

#: ``--prediction`` name -> diffusers ``prediction_type``
PREDICTIONS: dict[str, str] = {"epsilon": "epsilon", "v": "v_prediction", "flow": "flow_prediction"}
#: the "beta schedule" of flow matching: the VP image of the straight path y_τ = (1 − τ) x0 + τ ε at τ = (t + 1) / T,
#: ᾱ_t = (1 − τ)² / ((1 − τ)² + τ²) (Liu et al. 2022; Esser et al. 2024, "Scaling Rectified Flow Transformers",
#: sec. 2, with τ uniform as in Liu et al.), given to diffusers as its ``trained_betas``; it ends in pure noise
FLOW_PATH = "rectified_flow"

NUM_TRAIN_TIMESTEPS = 1000
#: ``--beta-schedule`` name (diffusers' ``beta_schedule``) -> (β_1, β_T) over 1,000 steps: the latent-diffusion
#: schedule of Rombach et al. 2022 (LDM, arXiv:2112.10752, Stable Diffusion's config), linear in √β, and DDPM's
#: linear betas (Ho et al. 2020, sec. 4), whose ᾱ_T are 0.0047 and 4.3e-5, and the cosine schedule (ᾱ_T ≈ 0).
BETA_RANGES: dict[str, tuple[float, float]] = {"scaled_linear": (0.00085, 0.012), "linear": (1e-4, 0.02),
                                               # the cosine ᾱ of Nichol & Dhariwal 2021 (eq. 17), β capped at 0.999;
                                               # diffusers ignores the range here, so its defaults are stored
                                               "squaredcos_cap_v2": (1e-4, 0.02),
                                               # flow matching's path, by :func:`rectified_flow_betas`; defaults stored
                                               FLOW_PATH: (1e-4, 0.02)}
#: the schedule key (diffusers' name) of a run trained with ``--zero-terminal-snr``
RESCALE_ZERO_SNR = "rescale_betas_zero_snr"


def noise_schedule_config(prediction: str = "epsilon", zero_terminal_snr: bool = False,
                          beta_schedule: str = DEFAULT_BETA_SCHEDULE) -> dict[str, Any]:
    """The schedule dict stored in a run; ``prediction`` is ``epsilon``, ``v`` or ``flow``, ``beta_schedule`` a key
    of :data:`BETA_RANGES`.

    ``flow`` is flow matching: its own path (:data:`FLOW_PATH`, which ends in pure noise) and the velocity target
    u = ε − x0 (:mod:`core.diffusion.parameterization`); another beta schedule with it is refused.

    ``zero_terminal_snr`` rescales the betas so the last training step is pure noise (Lin et al. 2024,
    Algorithm 1; diffusers' ``rescale_betas_zero_snr``): LDM's betas leave √ᾱ_T ≈ 0.068 of the latent in
    x_T, which training sees and sampling from pure noise never gives. Only v-prediction can learn that
    step (an ε-prediction of pure noise says nothing about x0), so it is refused with ε.

    ``linear`` spends more of the 1,000 steps at high noise. Under one global scale a latent whose variance sits
    in a few directions keeps those directions visible until late: ``builtin:points``' train latents have their
    3 main principal components (64 % of the variance) at stds 5.1, 4.1 and 3.3, and with LDM's betas the first
    one's signal-to-noise ratio falls below 1 only after step 800 (the average element's after step 354), so
    the steps that decide which kind of shape a sample becomes are the last fifth of training's timesteps; with
    DDPM's betas it does so after step 569 (``python benchmarks/latent_spectrum.py builtin:points``).
    ``squaredcos_cap_v2`` (the cosine schedule) goes the other way: it keeps more of the latent through the middle
    steps (ᾱ = 0.49 at step 500, LDM's 0.28), the first component visible until step 875, and ends in pure noise.
    """
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {sorted(PREDICTIONS)}, got {prediction!r}")
    if prediction == "flow":
        if beta_schedule not in (DEFAULT_BETA_SCHEDULE, FLOW_PATH):
            raise ValueError(f"flow matching has its own path; it takes no beta_schedule {beta_schedule!r}")
        beta_schedule = FLOW_PATH
    ends_in_noise = zero_terminal_snr or beta_schedule == FLOW_PATH
    if ends_in_noise and prediction == "epsilon":
        raise ValueError("a zero terminal SNR needs v- or flow prediction (Lin et al. 2024, sec. 3.2)")
    if beta_schedule not in BETA_RANGES:
        raise ValueError(f"beta_schedule must be one of {sorted(BETA_RANGES)}, got {beta_schedule!r}")
    beta_start, beta_end = BETA_RANGES[beta_schedule]
    # on the flow path the flag only makes the samplers start at diffusers' ᾱ of 2⁻²⁴ rather than 0 (the
    # rescaling itself leaves betas that already end in pure noise as they are)
    rescale = {RESCALE_ZERO_SNR: True} if ends_in_noise else {}
    return {
        "num_train_timesteps": NUM_TRAIN_TIMESTEPS,
        "beta_start": beta_start,
        "beta_end": beta_end,
        "beta_schedule": beta_schedule,
        "prediction_type": PREDICTIONS[prediction],
        # "trailing" spacing starts sampling at the last training step, which few-step samplers need
        # (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", table 2)
        "timestep_spacing": "trailing",
        **rescale,
    }


def zero_terminal_snr_betas(betas: torch.Tensor) -> torch.Tensor:
    """``betas`` rescaled so √ᾱ keeps its first value and reaches exactly 0 at the last step (Lin et al. 2024,
    Algorithm 1), in diffusers' float32 arithmetic and order (its ``rescale_zero_terminal_snr``)."""
    alphas_bar_sqrt = torch.cumprod(1.0 - betas, dim=0).sqrt()
    first, last = alphas_bar_sqrt[0].clone(), alphas_bar_sqrt[-1].clone()
    alphas_bar_sqrt -= last
    alphas_bar_sqrt *= first / (first - last)
    alphas_bar = alphas_bar_sqrt ** 2
    alphas = torch.cat([alphas_bar[0:1], alphas_bar[1:] / alphas_bar[:-1]])
    return 1 - alphas


def rectified_flow_betas(steps: int = NUM_TRAIN_TIMESTEPS) -> torch.Tensor:
    """The float32 betas whose ᾱ is :data:`FLOW_PATH`'s, computed in float64; the last one is 1 (pure noise)."""
    tau = torch.arange(1, steps + 1, dtype=torch.float64) / steps
    alpha_bar = (1 - tau) ** 2 / ((1 - tau) ** 2 + tau ** 2)
    previous = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
    return (1 - alpha_bar / previous).to(torch.float32)


def scheduler_config(config: dict[str, Any]) -> dict[str, Any]:
    """The run's schedule as a diffusers scheduler takes it: its prediction type as the samplers step with it
    (:func:`~core.diffusion.parameterization.scheduler_output`), the flow path as ``trained_betas``."""
    options = {**config, "prediction_type": scheduler_prediction(config["prediction_type"])}
    if config.get("beta_schedule") == FLOW_PATH:
        options["trained_betas"] = rectified_flow_betas(config["num_train_timesteps"]).tolist()
    return options


def build_scheduler(config: dict[str, Any], sampler: str = "ddpm"):
    """A fresh diffusers scheduler for ``sampler`` over the run's schedule ``config``, stepping with
    :func:`~core.diffusion.parameterization.scheduler_output`."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {sorted(SAMPLERS)}, got {sampler!r}")
    import diffusers

    options = {**scheduler_config(config), **_SAMPLER_OPTIONS.get(sampler, {})}
    if sampler in ("ddpm", "ddim"):
        options["clip_sample"] = False  # latents are not images in [-1, 1]
    return getattr(diffusers, SAMPLERS[sampler])(**options)


def alphas_cumprod(config: dict[str, Any]) -> torch.Tensor:
    """ᾱ_t for t = 0 … T−1 (float64), taken from diffusers so training and sampling share one source."""
    return build_scheduler(config, "ddpm").alphas_cumprod.to(torch.float64)


def sigma_at(alphas: torch.Tensor, timestep: torch.Tensor | float) -> float:
    """The noise level σ = √((1−ᾱ)/ᾱ) at a possibly fractional timestep, interpolated linearly in σ like Euler's
    sigmas; infinite where ᾱ is 0 (a zero terminal SNR's last step in diffusers' samplers)."""
    sigmas = ((1 - alphas) / alphas).sqrt().numpy()
    return float(np.interp(float(timestep), np.arange(len(sigmas)), sigmas))


def alpha_bar_at(alphas: torch.Tensor, timestep: torch.Tensor | float) -> float:
    """ᾱ at a possibly fractional timestep, from :func:`sigma_at`'s noise level."""
    sigma = sigma_at(alphas, timestep)
    return 1.0 / (1.0 + sigma * sigma)


def predicted_x0(x_t: torch.Tensor, model_output: torch.Tensor, alpha_bar: float, prediction_type: str) -> torch.Tensor:
    """The clean-sample estimate x̂0 implied by the network output at noise level ᾱ (x_t in VP scaling)."""
    return data_prediction(prediction_type, x_t, model_output, alpha_bar ** 0.5, (1.0 - alpha_bar) ** 0.5)
