"""DPM-Solver++(2M) and its SDE variant, in plain torch: importing diffusers costs more than torch itself.

``import diffusers`` plus its DPM-Solver++ module pulls ``torch._dynamo`` and ``scipy.stats`` and took
2–6 s on the 2-core machines (more than ``import torch``), which alone broke the 5 s budget of
``python -m core sample``. This is an exact re-implementation of diffusers' ``DPMSolverMultistepScheduler``
for the schedules runs are trained with (:func:`core.diffusion.noise_schedule_config`: every beta schedule,
with or without its zero terminal SNR) and the
options :func:`core.diffusion.build_scheduler` gives it (``algorithm_type="dpmsolver++"``, ``solver_order=2``,
midpoint solver, final step to σ = 0; ``algorithm_type="sde-dpmsolver++"`` for ``dpmpp_sde``): the same
float32 arithmetic and the same noise draws in the same order, so the same
samples bit for bit, checked against diffusers step by step in ``tests/unit/test_dpm_solver.py``. diffusers stays the reference and the
sampler for everything else (:func:`sampling_scheduler` falls back to it).

Update rules: Lu et al. 2022, "DPM-Solver++" (arXiv:2211.01095), eq. (5) for the first-order step
(= DDIM) and Algorithm 2 for the second-order multistep one, in the half-log-SNR λ = log(α/σ). The SDE
variant (Lu et al. 2022, appendix; diffusers' ``sde-dpmsolver++``) integrates the reverse SDE instead of the
probability-flow ODE: each step keeps e^{-h} of the current noise and adds fresh noise of variance
σ_t²(1 − e^{-2h}), so errors of earlier steps are partly forgotten rather than carried to the end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.diffusion.parameterization import data_prediction, scheduler_prediction
from core.diffusion.schedulers import (BETA_RANGES, FLOW_PATH, PREDICTIONS, RESCALE_ZERO_SNR, build_scheduler,
                                       noise_schedule_config, rectified_flow_betas, zero_terminal_snr_betas)

#: ᾱ of the last step of a zero-terminal-SNR schedule as diffusers' DPM-Solver sets it: "close to 0 without
#: being 0 so first sigma is not inf" (float16's smallest subnormal)
ZERO_SNR_ALPHA_BAR = 2 ** -24


@dataclass(frozen=True)
class StepOutput:
    """What ``step`` returns, named like diffusers' ``SchedulerOutput`` so the pipeline loop is the same."""

    prev_sample: torch.Tensor


def _alpha_sigma(sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """VP coefficients (α_t, σ_t) of the VE noise level σ = σ_t/α_t (diffusers' ``_sigma_to_alpha_sigma_t``)."""
    alpha = 1 / ((sigma ** 2 + 1) ** 0.5)
    return alpha, sigma * alpha


def _log_snr(alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """λ = log α − log σ; +inf at the final σ = 0, where the step returns the x0 estimate itself."""
    return torch.log(alpha) - torch.log(sigma)


class DPMSolverPlusPlus:
    """The part of the diffusers scheduler interface the pipeline uses, for DPM-Solver++(2M).

    ``set_timesteps(n)``, then ``step(model_output, t, sample, generator)`` once per entry of ``timesteps``,
    in order (like diffusers the step counter is internal; ``t`` is accepted for the same call shape).
    ``stochastic=True`` is the SDE variant; its noise comes from ``generator``.
    """

    init_noise_sigma = 1.0

    def __init__(self, config: dict[str, Any], stochastic: bool = False) -> None:
        if not self.supports(config):
            raise ValueError(f"the built-in DPM-Solver++ does not cover the schedule {config}; use diffusers'")
        # it steps with what diffusers' would: a flow's u arrives as v (the pipeline's scheduler_output)
        self.config = {**config, "prediction_type": scheduler_prediction(config["prediction_type"])}
        self.stochastic = stochastic
        steps = config["num_train_timesteps"]
        betas = _betas(config["beta_schedule"], config["beta_start"], config["beta_end"], steps)
        if config.get(RESCALE_ZERO_SNR):
            betas = zero_terminal_snr_betas(betas)
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        if config.get(RESCALE_ZERO_SNR):
            self.alphas_cumprod[-1] = ZERO_SNR_ALPHA_BAR
        self.timesteps = torch.empty(0, dtype=torch.int64)
        self.sigmas = torch.empty(0)
        self._index, self._previous = 0, None

    @staticmethod
    def supports(config: dict[str, Any]) -> bool:
        """Whether ``config`` is a schedule this solver reproduces (anything else goes to diffusers): the runs'
        own, of every beta schedule and prediction type, with or without a zero terminal SNR."""
        if config.get("beta_schedule") not in BETA_RANGES or config.get("prediction_type") not in PREDICTIONS.values():
            return False
        free = ("prediction_type", RESCALE_ZERO_SNR)
        runs_own = noise_schedule_config("v", beta_schedule=config["beta_schedule"])
        return ({k: v for k, v in config.items() if k not in free} ==
                {k: v for k, v in runs_own.items() if k not in free})

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Trailing timesteps (the run's ``timestep_spacing``) and their noise levels, ending at σ = 0."""
        total = self.config["num_train_timesteps"]
        timesteps = np.arange(total, 0, -total / num_inference_steps).round().astype(np.int64) - 1
        train_sigmas = (((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5).numpy()
        sigmas = np.interp(timesteps, np.arange(len(train_sigmas)), train_sigmas)
        self.sigmas = torch.from_numpy(np.concatenate([sigmas, [0.0]]).astype(np.float32))
        self.timesteps = torch.from_numpy(timesteps)
        self._index, self._previous = 0, None

    def scale_model_input(self, sample: torch.Tensor, timestep: torch.Tensor | None = None) -> torch.Tensor:
        """DPM-Solver works on the VP sample as it is."""
        return sample

    def step(self, model_output: torch.Tensor, timestep: torch.Tensor | int, sample: torch.Tensor,
             generator: torch.Generator | None = None) -> StepOutput:
        """One solver step from ``timesteps[i]`` to the next level: first order at the first and last step
        (diffusers' ``lower_order_final`` with a final σ of zero), second-order multistep between."""
        i = self._index
        alpha_s, sigma_s = _alpha_sigma(self.sigmas[i])
        alpha_t, sigma_t = _alpha_sigma(self.sigmas[i + 1])
        # DPM-Solver++ integrates the data-prediction model: x̂0 from the network output
        x0 = data_prediction(self.config["prediction_type"], sample, model_output, alpha_s, sigma_s)
        sample = sample.to(torch.float32)
        lambda_s = _log_snr(alpha_s, sigma_s)
        h = _log_snr(alpha_t, sigma_t) - lambda_s
        first_order = self._previous is None or i == len(self.timesteps) - 1
        d1 = None
        if not first_order:
            x0_before, lambda_before = self._previous
            d1 = (1.0 / ((lambda_s - lambda_before) / h)) * (x0 - x0_before)
        if self.stochastic:
            prev = self._sde_update(sample, x0, d1, h, sigma_s, alpha_t, sigma_t, _noise(model_output, generator))
        else:
            prev = self._ode_update(sample, x0, d1, h, sigma_s, alpha_t, sigma_t)
        self._previous = (x0, lambda_s)
        self._index += 1
        return StepOutput(prev.to(model_output.dtype))

    @staticmethod
    def _ode_update(sample, x0, d1, h, sigma_s, alpha_t, sigma_t) -> torch.Tensor:
        """One DPM-Solver++ step (first order where ``d1`` is None), term by term as diffusers adds them."""
        prev = (sigma_t / sigma_s) * sample - (alpha_t * (torch.exp(-h) - 1.0)) * x0
        if d1 is not None:
            prev = prev - 0.5 * (alpha_t * (torch.exp(-h) - 1.0)) * d1
        return prev

    @staticmethod
    def _sde_update(sample, x0, d1, h, sigma_s, alpha_t, sigma_t, noise) -> torch.Tensor:
        """One SDE-DPM-Solver++ step (first order where ``d1`` is None), term by term as diffusers adds them."""
        prev = (sigma_t / sigma_s * torch.exp(-h)) * sample + (alpha_t * (1 - torch.exp(-2.0 * h))) * x0
        if d1 is not None:
            prev = prev + 0.5 * (alpha_t * (1 - torch.exp(-2.0 * h))) * d1
        return prev + sigma_t * torch.sqrt(1.0 - torch.exp(-2 * h)) * noise


#: the cosine schedule's offset s and largest β (Nichol & Dhariwal 2021, eq. 17; diffusers' ``betas_for_alpha_bar``)
COSINE_OFFSET, COSINE_MAX_BETA = 0.008, 0.999


def _betas(schedule: str, start: float, end: float, steps: int) -> torch.Tensor:
    """The betas exactly as diffusers builds them, in float32: "linear" from ``start`` to ``end``,
    "scaled_linear" linear in √β, "squaredcos_cap_v2" from the cosine ᾱ in float64 arithmetic, the flow path's
    as :func:`~core.diffusion.schedulers.scheduler_config` hands them to diffusers."""
    if schedule == FLOW_PATH:
        return rectified_flow_betas(steps)
    if schedule == "scaled_linear":
        return torch.linspace(start ** 0.5, end ** 0.5, steps, dtype=torch.float32) ** 2
    if schedule == "squaredcos_cap_v2":
        def alpha_bar(t: float) -> float:
            return math.cos((t + COSINE_OFFSET) / (1 + COSINE_OFFSET) * math.pi / 2) ** 2

        return torch.tensor([min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), COSINE_MAX_BETA)
                             for i in range(steps)], dtype=torch.float32)
    return torch.linspace(start, end, steps, dtype=torch.float32)


def _noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal float32 noise shaped like ``like``, drawn where ``generator`` lives (diffusers'
    ``randn_tensor``: a CPU generator gives the same draws whatever device the sample is on)."""
    device = generator.device if generator is not None else like.device
    return torch.randn(like.shape, generator=generator, device=device, dtype=torch.float32).to(like.device)


#: the ``--sampler`` names :class:`DPMSolverPlusPlus` reproduces -> whether it adds SDE noise
BUILT_IN_SAMPLERS: dict[str, bool] = {"dpmpp": False, "dpmpp_sde": True}


def sampling_scheduler(config: dict[str, Any], sampler: str = "dpmpp"):
    """The scheduler the pipeline samples with: the built-in DPM-Solver++ where it reproduces diffusers'
    (it spares the 2–6 s diffusers import), else :func:`core.diffusion.schedulers.build_scheduler`."""
    if sampler in BUILT_IN_SAMPLERS and DPMSolverPlusPlus.supports(config):
        return DPMSolverPlusPlus(config, stochastic=BUILT_IN_SAMPLERS[sampler])
    return build_scheduler(config, sampler)
