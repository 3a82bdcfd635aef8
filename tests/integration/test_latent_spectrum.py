"""``benchmarks/latent_spectrum.py``: where a model's latent variance sits and how long each beta schedule shows it."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def spectrum_benchmark(load_benchmark):
    return load_benchmark("latent_spectrum")


def test_a_latent_of_known_spectrum_is_read_back(spectrum_benchmark):
    generator = torch.Generator().manual_seed(0)
    stds = torch.tensor([5.0, 2.0] + [0.1] * 30, dtype=torch.float64)
    latents = torch.randn(20_000, 32, generator=generator, dtype=torch.float64) * stds + 3.0
    report = spectrum_benchmark.spectrum(latents, "v", components=2)
    assert report["component_variance"] == pytest.approx([25.0, 4.0], rel=0.05)
    assert report["dims_for_share"]["0.9"] == 2 and report["share_of_leading"] > 0.97
    steps = report["steps_above_noise"]
    # a direction of variance 25 outlasts one of variance 4, and LDM's betas show both longer than DDPM's
    assert steps["scaled_linear"]["components"][0] > steps["scaled_linear"]["components"][1]
    assert steps["scaled_linear"]["components"][0] > steps["linear"]["components"][0] + 150


def test_the_point_model_keeps_its_main_directions_visible_to_late_steps(spectrum_benchmark):
    latents, prediction = spectrum_benchmark.train_latents("builtin:points", ["monitor"])
    assert latents.shape == (465, 256) and prediction == "v"
    steps = spectrum_benchmark.spectrum(latents, prediction, components=3)["steps_above_noise"]
    assert steps["scaled_linear"]["components"][0] > steps["scaled_linear"]["unit_element"]
    assert steps["linear"]["components"][0] < steps["scaled_linear"]["components"][0]


def test_a_voxel_model_is_read_through_its_grid_encoder(spectrum_benchmark):
    latents, _ = spectrum_benchmark.train_latents("builtin:voxels", ["toilet"])
    assert latents.shape == (344, 256) and bool(torch.isfinite(latents).all())
    report = spectrum_benchmark.spectrum(latents, "v", components=2)
    assert report["component_variance"][0] >= report["component_variance"][1] > report["mean_element_variance"]
