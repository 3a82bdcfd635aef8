"""LatentNorm: what the denoiser sees has unit scale, the decoder gets the latents back, the manifest round-trips."""
from __future__ import annotations

import json

import pytest
import torch

from core.diffusion.latent_norm import MIN_ELEMENT_STD, LatentNorm

LATENT_SHAPE = (8, 4)


def _uneven_latents(n: int = 512) -> torch.Tensor:
    """Latents whose elements have different means and spreads, as builtin:points' do."""
    generator = torch.Generator().manual_seed(0)
    means = torch.linspace(-2.0, 2.0, 32).view(LATENT_SHAPE)
    stds = torch.linspace(0.2, 1.5, 32).view(LATENT_SHAPE)
    return means + stds * torch.randn((n, *LATENT_SHAPE), generator=generator)


def test_element_norm_gives_every_element_zero_mean_and_unit_std() -> None:
    latents = _uneven_latents()
    normalised = LatentNorm.fit(latents, "element").normalize(latents)
    assert normalised.mean(0).abs().max() < 1e-5
    assert (normalised.std(0) - 1).abs().max() < 1e-5
    # the global factor leaves the elements as uneven as they were
    globally = LatentNorm.fit(latents, "global").normalize(latents)
    assert globally.mean(0).abs().max() > 0.5 and globally.std(0).min() < 0.5


@pytest.mark.parametrize("mode", ["global", "element"])
def test_denormalize_inverts_normalize(mode: str) -> None:
    latents = _uneven_latents(64)
    norm = LatentNorm.fit(latents, mode)
    assert torch.allclose(norm.denormalize(norm.normalize(latents)), latents, atol=1e-5)


def test_global_norm_is_ldms_one_factor() -> None:
    latents = _uneven_latents()
    norm = LatentNorm.fit(latents, "global")
    assert norm.mode == "global"
    assert norm.to_stats()["scale_factor"] == pytest.approx(1 / latents.double().std().item(), rel=1e-12)
    assert torch.equal(norm.normalize(latents), latents * norm.to_stats()["scale_factor"])


@pytest.mark.parametrize("mode", ["global", "element"])
def test_stats_round_trip_through_json(mode: str) -> None:
    latents = _uneven_latents(64)
    norm = LatentNorm.fit(latents, mode)
    back = LatentNorm.from_stats(json.loads(json.dumps(norm.to_stats())), LATENT_SHAPE)
    assert back.mode == mode
    assert torch.allclose(back.normalize(latents), norm.normalize(latents), atol=1e-6)


def test_a_checkpoint_with_only_a_scale_factor_reads_as_global() -> None:
    """Every run trained before per-element statistics existed holds just ``scale_factor``."""
    norm = LatentNorm.from_stats({"scale_factor": 0.5, "latent_std": 2.0}, LATENT_SHAPE)
    assert norm.mode == "global"
    assert torch.equal(norm.normalize(torch.ones(2, *LATENT_SHAPE)), torch.full((2, *LATENT_SHAPE), 0.5))


def test_a_constant_element_is_shifted_not_blown_up() -> None:
    latents = _uneven_latents(64)
    latents[:, 0, 0] = 3.0
    norm = LatentNorm.fit(latents, "element")
    assert norm.scale[0, 0] == pytest.approx(1 / MIN_ELEMENT_STD)
    assert torch.isfinite(norm.normalize(latents)).all() and norm.normalize(latents)[:, 0, 0].abs().max() == 0


def test_stats_of_another_latent_shape_or_a_zero_scale_are_refused() -> None:
    stats = LatentNorm.fit(_uneven_latents(64), "element").to_stats()
    with pytest.raises(ValueError, match="do not fit"):
        LatentNorm.from_stats(stats, (4, 8))
    with pytest.raises(ValueError, match="zero"):
        LatentNorm.from_stats({**stats, "latent_scale": [[0.0] * 4] * 8}, LATENT_SHAPE)
    with pytest.raises(ValueError, match="positive"):
        LatentNorm.from_stats({"scale_factor": 0.0}, LATENT_SHAPE)
    with pytest.raises(ValueError, match="unknown"):
        LatentNorm.fit(_uneven_latents(8), "channel")
