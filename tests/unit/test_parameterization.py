"""The one ε / v / x0 / flow table: each prediction type's target, fed back as the output, recovers x0."""
from __future__ import annotations

import pytest
import torch

from core.diffusion.parameterization import PARAMETERIZATIONS, data_prediction, scheduler_output, training_target


@pytest.mark.parametrize("prediction_type", sorted(PARAMETERIZATIONS))
def test_the_target_as_output_gives_back_the_clean_sample(prediction_type: str) -> None:
    generator = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(4, 8, generator=generator), torch.randn(4, 8, generator=generator)
    alpha_bar = torch.tensor([0.9, 0.5, 0.1, 0.01]).view(-1, 1)
    alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    x_t = alpha * x0 + sigma * noise
    output = training_target(prediction_type, x0, noise, alpha, sigma)
    assert torch.allclose(data_prediction(prediction_type, x_t, output, alpha, sigma), x0, atol=1e-5)


def test_an_unknown_prediction_type_is_named() -> None:
    with pytest.raises(ValueError, match="'score'"):
        data_prediction("score", torch.zeros(1), torch.zeros(1), 1.0, 0.0)


@pytest.mark.parametrize("prediction_type", sorted(PARAMETERIZATIONS))
def test_samplers_step_with_v_where_the_output_is_a_flow_velocity(prediction_type: str) -> None:
    generator = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(4, 8, generator=generator), torch.randn(4, 8, generator=generator)
    alpha_bar = torch.tensor([0.999, 0.5, 0.1, 2 ** -24]).view(-1, 1)
    alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
    x_t = alpha * x0 + sigma * noise
    output = training_target(prediction_type, x0, noise, alpha, sigma)
    stepped = scheduler_output(prediction_type, x_t, output, alpha, sigma)
    if prediction_type == "flow_prediction":  # u = ε − x0 is handed on as the v of the same (x0, ε)
        assert torch.allclose(output, noise - x0)
        assert torch.allclose(stepped, training_target("v_prediction", x0, noise, alpha, sigma), atol=1e-5)
    else:
        assert stepped is output
