"""The built-in DPM-Solver++ against diffusers' DPMSolverMultistepScheduler (the reference), step by step."""
import pytest
import torch

from core.diffusion import build_scheduler, noise_schedule_config
from core.diffusion.dpm_solver import DPMSolverPlusPlus, sampling_scheduler
from core.diffusion.schedulers import alphas_cumprod


#: every schedule a run can be trained with (core.diffusion.noise_schedule_config's arguments)
SCHEDULES = [{"prediction": "epsilon"}, {"prediction": "v"}, {"prediction": "v", "zero_terminal_snr": True},
             {"prediction": "v", "beta_schedule": "linear"},
             {"prediction": "v", "zero_terminal_snr": True, "beta_schedule": "linear"},
             {"prediction": "v", "beta_schedule": "squaredcos_cap_v2"}, {"prediction": "flow"}]
SCHEDULE_IDS = ["epsilon", "v", "v-zero-snr", "v-linear", "v-zero-snr-linear", "v-cosine", "flow"]


def _toy_output(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A deterministic stand-in for the network, different at every step (so multistep history matters)."""
    return torch.tanh(0.7 * x + 0.001 * t.float()) + 0.1 * torch.sin(3 * x)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=SCHEDULE_IDS)
@pytest.mark.parametrize("steps", [1, 2, 7, 20, 50])
def test_every_step_equals_diffusers(schedule, steps):
    config = noise_schedule_config(**schedule)
    ours, reference = DPMSolverPlusPlus(config), build_scheduler(config, "dpmpp")
    assert torch.equal(ours.alphas_cumprod, reference.alphas_cumprod)
    ours.set_timesteps(steps)
    reference.set_timesteps(steps)
    assert torch.equal(ours.timesteps, reference.timesteps)
    assert torch.equal(ours.sigmas, reference.sigmas)
    x = torch.randn(3, 8, 4, generator=torch.Generator().manual_seed(steps))
    x_ref = x.clone()
    for t in ours.timesteps:
        x = ours.step(_toy_output(x, t), t, ours.scale_model_input(x, t)).prev_sample
        x_ref = reference.step(_toy_output(x_ref, t), t, reference.scale_model_input(x_ref, t)).prev_sample
        assert torch.equal(x, x_ref)  # the same float32 operations in the same order: bit for bit
    assert torch.isfinite(x).all()


@pytest.mark.parametrize("schedule", SCHEDULES, ids=SCHEDULE_IDS)
@pytest.mark.parametrize("steps", [1, 2, 20])
def test_the_sde_variant_equals_diffusers_with_the_same_noise(schedule, steps):
    config = noise_schedule_config(**schedule)
    ours, reference = DPMSolverPlusPlus(config, stochastic=True), build_scheduler(config, "dpmpp_sde")
    ours.set_timesteps(steps)
    reference.set_timesteps(steps)
    ours_noise, reference_noise = (torch.Generator().manual_seed(11) for _ in range(2))
    x = torch.randn(3, 8, 4, generator=torch.Generator().manual_seed(steps))
    x_ref = x.clone()
    for t in ours.timesteps:
        x = ours.step(_toy_output(x, t), t, x, generator=ours_noise).prev_sample
        x_ref = reference.step(_toy_output(x_ref, t), t, x_ref, generator=reference_noise).prev_sample
        assert torch.equal(x, x_ref)
    deterministic = DPMSolverPlusPlus(config)
    deterministic.set_timesteps(steps)
    x_ode = torch.randn(3, 8, 4, generator=torch.Generator().manual_seed(steps))
    for t in deterministic.timesteps:
        x_ode = deterministic.step(_toy_output(x_ode, t), t, x_ode).prev_sample
    assert steps == 1 or not torch.allclose(x, x_ode)  # the noise it adds changes the end point


def test_pipeline_uses_it_only_where_it_reproduces_diffusers():
    config = noise_schedule_config()
    assert isinstance(sampling_scheduler(config, "dpmpp"), DPMSolverPlusPlus)
    assert sampling_scheduler(config, "dpmpp_sde").stochastic and not sampling_scheduler(config, "dpmpp").stochastic
    other = {**config, "timestep_spacing": "leading"}
    assert not DPMSolverPlusPlus.supports(other)
    assert type(sampling_scheduler(other, "dpmpp")).__name__ == "DPMSolverMultistepScheduler"
    assert type(sampling_scheduler(config, "ddim")).__name__ == "DDIMScheduler"
    with pytest.raises(ValueError):
        DPMSolverPlusPlus(other)
    assert isinstance(sampling_scheduler(noise_schedule_config("v", zero_terminal_snr=True)), DPMSolverPlusPlus)
    assert isinstance(sampling_scheduler(noise_schedule_config("v", beta_schedule="linear")), DPMSolverPlusPlus)
    assert isinstance(sampling_scheduler(noise_schedule_config("flow")), DPMSolverPlusPlus)
    assert not DPMSolverPlusPlus.supports({**noise_schedule_config("v", beta_schedule="linear"), "beta_end": 0.012})


def test_a_zero_terminal_snr_schedule_ends_in_pure_noise_and_needs_v():
    plain, rescaled = (build_scheduler(noise_schedule_config("v", zero_terminal_snr=z), "ddpm").alphas_cumprod
                       for z in (False, True))
    assert plain[-1] > 0.004 and rescaled[-1] == 0  # LDM's betas leave √ᾱ_T ≈ 0.068 of the latent in x_T
    assert torch.isclose(rescaled[0], plain[0])  # the first step is unchanged (Lin et al. 2024, Algorithm 1)
    with pytest.raises(ValueError, match="needs v- or flow prediction"):
        noise_schedule_config("epsilon", zero_terminal_snr=True)


def test_ddpm_linear_betas_keep_less_of_the_latent_at_every_late_step():
    ldm, ddpm = (alphas_cumprod(noise_schedule_config("v", beta_schedule=b)) for b in ("scaled_linear", "linear"))
    assert ddpm[-1] < 1e-4 < 4e-3 < ldm[-1]  # Ho et al.'s ᾱ_T ≈ 4.3e-5, LDM's ≈ 0.0047
    # a latent direction of variance 26 (the point latent's first principal component) sinks below the noise
    # (ᾱ·26 < 1 − ᾱ) only after step 800 under LDM's betas, after step 569 under DDPM's
    visible = [int((a * 26 > 1 - a).sum()) for a in (ldm, ddpm)]
    assert visible == [800, 569]
    with pytest.raises(ValueError, match="beta_schedule"):
        noise_schedule_config("v", beta_schedule="cosine")


def test_the_flow_path_is_the_straight_line_from_the_shape_to_pure_noise():
    """Step t of the flow schedule is y_τ = (1 − τ) x0 + τ ε at τ = (t + 1) / T, scaled to VP: σ / (α + σ) = τ."""
    config = noise_schedule_config("flow")
    assert config["prediction_type"] == "flow_prediction" and config["beta_schedule"] == "rectified_flow"
    alpha_bar = alphas_cumprod(config)
    alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    tau = torch.arange(1, 1001, dtype=torch.float64) / 1000
    assert torch.allclose(sigma / (alpha + sigma), tau, atol=1e-4)
    assert alpha_bar[-1] == 0 and alpha_bar[499] == pytest.approx(0.5, abs=1e-3)  # τ = 1/2: α = σ
    with pytest.raises(ValueError, match="its own path"):
        noise_schedule_config("flow", beta_schedule="linear")
    with pytest.raises(ValueError, match="needs v- or flow prediction"):
        noise_schedule_config("epsilon", beta_schedule="rectified_flow")
