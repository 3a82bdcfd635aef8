"""core.choices names exactly what the models, schedulers and loaders accept, and imports no torch."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core import choices
from core.data.conversions import REPRESENTATIONS as CONVERSION_TARGETS
from core.data.representations import REPRESENTATIONS as DATASET_REPRESENTATIONS
from core.diffusion.schedulers import (BETA_RANGES, FLOW_PATH, PREDICTIONS, SAMPLERS, build_scheduler,
                                       noise_schedule_config)
from core.models.config import AutoencoderConfig, DenoiserConfig
from core.models.presets import AUTOENCODER_PRESETS, DENOISER_PRESETS
from core.training.presets import PRESETS as TRAINING_PRESETS
from core.training.representations import REPRESENTATIONS as TRAINING_REPRESENTATIONS

#: modules whose import would make the app's GUI thread wait seconds
HEAVY_MODULES = ("torch", "diffusers", "open3d", "scipy")


def test_importing_choices_loads_no_heavy_module() -> None:
    code = ("import sys, core.choices; "
            f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_building_the_cli_parser_loads_no_heavy_module() -> None:
    """Every command registers its options from core.choices, so ``python -m core sample`` pays for torch only
    when it samples (the 5 s budget), and ``--help`` not at all."""
    code = ("import sys, core.cli; core.cli.build_parser(); "
            f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_samplers_and_predictions_match_the_schedulers() -> None:
    assert set(choices.SAMPLERS) == set(SAMPLERS)
    assert choices.DEFAULT_SAMPLER in choices.SAMPLERS and choices.PREVIEW_SAMPLER in choices.SAMPLERS
    assert set(choices.PREDICTIONS) == set(PREDICTIONS)
    assert choices.DEFAULT_PREDICTION in choices.PREDICTIONS
    # flow matching's path comes with --prediction flow, never from --beta-schedule
    assert set(choices.BETA_SCHEDULES) == set(BETA_RANGES) - {FLOW_PATH}
    assert choices.DEFAULT_BETA_SCHEDULE in choices.BETA_SCHEDULES
    build_scheduler(noise_schedule_config(choices.DEFAULT_PREDICTION), choices.PREVIEW_SAMPLER)


def test_representations_match_the_loaders_and_conversions() -> None:
    assert set(choices.MODEL_REPRESENTATIONS) == set(TRAINING_REPRESENTATIONS)
    assert set(choices.SHAPE_REPRESENTATIONS) == set(DATASET_REPRESENTATIONS) == set(CONVERSION_TARGETS)
    assert set(choices.MODEL_REPRESENTATIONS) < set(choices.SHAPE_REPRESENTATIONS)


def test_voxel_losses_are_grid_losses() -> None:
    from core.models.losses import GRID_LOSSES

    assert set(choices.VOXEL_LOSSES) <= set(GRID_LOSSES) and choices.DEFAULT_VOXEL_LOSS in choices.VOXEL_LOSSES


def test_presets_match_both_preset_tables() -> None:
    assert set(choices.PRESETS) == set(TRAINING_PRESETS) == set(AUTOENCODER_PRESETS) == set(DENOISER_PRESETS)
    assert choices.DEFAULT_PRESET in choices.PRESETS
    for preset in choices.PRESETS:
        assert set(AUTOENCODER_PRESETS[preset]) == set(choices.MODEL_REPRESENTATIONS)


@pytest.mark.parametrize("representation", choices.MODEL_REPRESENTATIONS)
@pytest.mark.parametrize("kind", choices.AUTOENCODER_KINDS)
def test_every_representation_and_autoencoder_kind_is_a_valid_config(representation: str, kind: str) -> None:
    assert AutoencoderConfig(representation=representation, kind=kind).kind == kind


def test_every_conditioning_is_a_valid_denoiser_config() -> None:
    for cond in choices.CONDITIONINGS:
        assert DenoiserConfig(cond=cond, num_classes=1).cond == cond
    with pytest.raises(ValueError):
        DenoiserConfig(cond="unknown")
    with pytest.raises(ValueError):
        AutoencoderConfig(kind="unknown")


def test_defaults_are_among_the_choices() -> None:
    assert choices.DEFAULT_REPRESENTATION in choices.MODEL_REPRESENTATIONS
    assert choices.DEFAULT_AUTOENCODER in choices.AUTOENCODER_KINDS
    assert choices.DEFAULT_CONDITIONING in choices.CONDITIONINGS
    assert choices.DEFAULT_GUIDANCE >= 0 and choices.DEFAULT_SAMPLE_STEPS >= 1 and choices.PREVIEW_STEPS >= 1
