"""Guidance math, the ε/v objective, x̂0 recovery and the sampling pipeline on toy networks."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from core.diffusion import (SAMPLERS, LatentDiffusionPipeline, LatentNorm, build_scheduler, classifier_free_guidance,
                            diffusion_loss, noise_schedule_config, predicted_x0)
from core.diffusion.guidance import drop_condition, guidance_at, null_condition
from core.diffusion.parameterization import data_prediction, training_target
from core.diffusion.schedulers import alpha_bar_at, alphas_cumprod

NUM_CLASSES = 3


class ToyDenoiser(nn.Module):
    """Output depends on x, t and the class, so guidance and conditioning are observable."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(0.1))
        self.calls: list[int] = []

    def forward(self, x, t, cond=None):
        self.calls.append(x.shape[0])
        offset = 0 if cond is None else cond.float().view(-1, *([1] * (x.ndim - 1)))
        return self.scale * x + 0.01 * offset + 1e-4 * t.float().view(-1, *([1] * (x.ndim - 1)))


class ToyAutoencoder(nn.Module):
    latent_shape = (4, 2)

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(2, 3)

    def decode(self, z):
        return self.proj(z)


def test_guidance_is_one_batched_forward_with_the_cfg_formula():
    net = ToyDenoiser()
    x, t = torch.randn(2, 4, 2), torch.tensor([10, 10])
    cond = torch.tensor([1, 2])
    null = null_condition(cond, NUM_CLASSES)
    guided = classifier_free_guidance(net, x, t, cond, null, 3.0)
    assert net.calls == [4]
    eps_c, eps_u = net(x, t, cond), net(x, t, null)
    assert torch.allclose(guided, eps_u + 3.0 * (eps_c - eps_u))
    assert torch.equal(classifier_free_guidance(net, x, t, cond, null, 1.0), eps_c)
    assert torch.equal(classifier_free_guidance(net, x, t, cond, null, 0.0), eps_u)


def test_null_condition_and_dropout():
    labels = torch.tensor([0, 1, 2, 1])
    assert null_condition(labels, NUM_CLASSES).tolist() == [NUM_CLASSES] * 4
    assert not null_condition(torch.ones(2, 384), NUM_CLASSES).any()
    assert torch.equal(drop_condition(labels, null_condition(labels, 3), 0.0), labels)
    assert drop_condition(labels, null_condition(labels, 3), 1.0).tolist() == [3] * 4
    text = torch.ones(1000, 8)
    kept = drop_condition(text, torch.zeros_like(text), 0.1, torch.Generator().manual_seed(0)).sum(1) > 0
    assert 0.85 < kept.float().mean() < 0.95


PREDICTION_TYPES = ["epsilon", "v_prediction", "flow_prediction"]


@pytest.mark.parametrize("prediction_type", PREDICTION_TYPES)
def test_predicted_x0_inverts_the_forward_process(prediction_type):
    alphas = alphas_cumprod(noise_schedule_config())
    x0, eps = torch.randn(3, 5), torch.randn(3, 5)
    a = float(alphas[400])
    x_t = a ** 0.5 * x0 + (1 - a) ** 0.5 * eps
    output = {"epsilon": eps, "v_prediction": a ** 0.5 * eps - (1 - a) ** 0.5 * x0, "flow_prediction": eps - x0}[
        prediction_type]
    assert torch.allclose(predicted_x0(x_t, output, a, prediction_type), x0, atol=1e-5)
    assert alpha_bar_at(alphas, 400) == pytest.approx(a)


@pytest.mark.parametrize("prediction_type", PREDICTION_TYPES)
def test_objective_is_zero_for_an_oracle(prediction_type):
    """A network returning exactly the target (recovered from x_t and z0) has zero loss."""
    alphas = alphas_cumprod(noise_schedule_config()).float()
    z0 = torch.randn(6, 4, 2)

    def oracle(x_t, t, cond):
        a = alphas[t].view(-1, 1, 1)
        eps = (x_t - a.sqrt() * z0) / (1 - a).sqrt()
        return training_target(prediction_type, z0, eps, a.sqrt(), (1 - a).sqrt())

    loss = diffusion_loss(oracle, z0, alphas, prediction_type, generator=torch.Generator().manual_seed(0))
    assert float(loss) < 1e-8
    assert float(diffusion_loss(lambda x, t, c: torch.zeros_like(x), z0, alphas, prediction_type)) > 0.1


@pytest.mark.parametrize("prediction_type", PREDICTION_TYPES)
def test_min_snr_weights_each_step_so_its_x0_error_counts_min_snr_gamma(prediction_type):
    """The same draws as plain MSE, each example weighted: its x̂0 error then weighs min(SNR, γ) (Hang et al.)."""
    alphas = alphas_cumprod(noise_schedule_config()).float()
    z0, gamma = torch.randn(64, 4, 2), 5.0

    def blind(x_t, t, cond):  # predicts zeros, so every example has an x0 error to weigh
        return torch.zeros_like(x_t)

    weighted = diffusion_loss(blind, z0, alphas, prediction_type, generator=torch.Generator().manual_seed(1),
                              min_snr_gamma=gamma)
    generator = torch.Generator().manual_seed(1)  # the objective's draws replayed: steps, then noise
    t = torch.randint(0, len(alphas), (64,), generator=generator)
    noise = torch.randn(z0.shape, generator=generator)
    a = alphas[t].view(-1, 1, 1)
    x_t = a.sqrt() * z0 + (1 - a).sqrt() * noise
    x0_error = (data_prediction(prediction_type, x_t, torch.zeros_like(x_t), a.sqrt(), (1 - a).sqrt()) - z0
                ).square().flatten(1).mean(1)
    snr = alphas[t] / (1 - alphas[t])
    assert float(weighted) == pytest.approx(float((snr.clamp(max=gamma) * x0_error).mean()), rel=1e-4)
    plain = diffusion_loss(blind, z0, alphas, prediction_type, generator=torch.Generator().manual_seed(1))
    assert float(weighted) < float(plain)  # the capped clean steps no longer dominate


def _pipeline(prediction="epsilon") -> LatentDiffusionPipeline:
    torch.manual_seed(0)
    return LatentDiffusionPipeline(ToyAutoencoder(), ToyDenoiser(), noise_schedule_config(prediction),
                                   LatentNorm.global_factor(2.0),
                                   num_classes=NUM_CLASSES)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_runs_and_reports_previews(sampler):
    pipe, steps = _pipeline(), []
    out = pipe(3, cond=torch.tensor([0, 1, 2]), guidance=2.0, steps=6, sampler=sampler, seed=1,
               callback=steps.append, callback_every=2)
    assert out.shape == (3, 4, 3) and torch.isfinite(out).all()
    assert [s.step for s in steps] == [2, 4, 6] and all(s.total == 6 for s in steps)
    assert steps[-1].decoded.shape == (3, 4, 3) and steps[0].latents.shape == (3, 4, 2)
    assert type(build_scheduler(noise_schedule_config(), sampler)).__name__ == SAMPLERS[sampler]


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_takes_a_flow_model_to_the_shape_it_knows(sampler):
    """A flow denoiser that knows the data is one latent z* (its exact u = ε̂ − z* at every step) is sampled to z*
    by every sampler: the flow's velocity reaches each scheduler as the v it implies."""
    schedule = noise_schedule_config("flow")
    alphas = alphas_cumprod(schedule)
    target = torch.randn(4, 2, generator=torch.Generator().manual_seed(3))

    class OracleDenoiser(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.anchor = nn.Parameter(torch.zeros(1))  # the pipeline reads its device from a parameter

        def forward(self, x, t, cond=None):
            alpha_bar = torch.tensor([alpha_bar_at(alphas, float(step)) for step in t]).view(-1, 1, 1).float()
            alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
            noise = (x - alpha * target) / sigma
            return training_target("flow_prediction", target.expand_as(x), noise, alpha, sigma)

    pipe = LatentDiffusionPipeline(ToyAutoencoder(), OracleDenoiser(), schedule, LatentNorm.global_factor(1.0))
    last = []
    pipe(3, steps=8, sampler=sampler, seed=2, callback=last.append)
    assert torch.allclose(last[-1].latents, target.expand(3, 4, 2), atol=1e-3)


def test_progress_only_callbacks_skip_decoding():
    steps = []
    _pipeline()(2, steps=3, sampler="ddim", seed=0, callback=steps.append, decode_previews=False)
    assert [s.step for s in steps] == [1, 2, 3] and all(s.decoded is None for s in steps)


def test_same_seed_same_bytes_other_seed_other_samples():
    a = _pipeline()(2, steps=5, sampler="ddpm", seed=3)
    b = _pipeline()(2, steps=5, sampler="ddpm", seed=3)
    c = _pipeline()(2, steps=5, sampler="ddpm", seed=4)
    assert a.numpy().tobytes() == b.numpy().tobytes()
    assert not torch.equal(a, c)


def test_guidance_interval_guides_only_the_steps_whose_noise_level_lies_in_it():
    assert guidance_at(2.0, 3.0, None) == 2.0
    assert guidance_at(2.0, 3.0, (0.3, 5.1)) == 2.0 and guidance_at(2.0, 5.1, (0.3, 5.1)) == 2.0
    assert guidance_at(2.0, 6.0, (0.3, 5.1)) == 1.0 and guidance_at(2.0, 0.3, (0.3, 5.1)) == 1.0
    pipe = _pipeline("v")
    cond = torch.tensor([0, 1])
    everywhere = pipe(2, cond=cond, guidance=2.0, steps=20, sampler="dpmpp", seed=0)
    assert pipe.denoiser.calls == [4] * 20  # every step one batched conditional + unconditional pass
    pipe.denoiser.calls.clear()
    limited = pipe(2, cond=cond, guidance=2.0, steps=20, sampler="dpmpp", seed=0, guidance_interval=(0.3, 5.1))
    # the runs' 20 trailing steps have sigma 14.6, 10.9, 8.3, 6.4, 5.09, ..., 0.34, 0.22: the first four and the
    # last fall outside (0.3, 5.1] and take the plain conditional pass
    assert pipe.denoiser.calls == [2] * 4 + [4] * 15 + [2]
    assert not torch.equal(everywhere, limited)
    pipe.denoiser.calls.clear()
    plain = pipe(2, cond=cond, guidance=1.0, steps=20, sampler="dpmpp", seed=0)
    assert torch.equal(pipe(2, cond=cond, guidance=2.0, steps=20, sampler="dpmpp", seed=0,
                            guidance_interval=(100.0, 200.0)), plain)  # an interval no step reaches: unguided
    zero_snr = LatentDiffusionPipeline(ToyAutoencoder(), ToyDenoiser(), noise_schedule_config("v", True),
                                       LatentNorm.global_factor(2.0), num_classes=NUM_CLASSES)
    zero_snr(2, cond=cond, guidance=2.0, steps=4, sampler="dpmpp", seed=0, guidance_interval=(0.3, 5.1))
    assert zero_snr.denoiser.calls[0] == 2  # the pure-noise first step (sigma infinite) lies above any interval


def test_dpmpp_is_the_multistep_data_prediction_solver():
    scheduler = build_scheduler(noise_schedule_config("v"), "dpmpp")
    assert scheduler.config.algorithm_type == "dpmsolver++"
    assert scheduler.config.prediction_type == "v_prediction"
    assert build_scheduler(noise_schedule_config(), "ddim").config.clip_sample is False
