"""``benchmarks/autoguidance.py``: a model guided by another model's conditional output instead of its own
unconditional one (Karras et al. 2024), through the pipeline ``sample`` uses."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from core.diffusion import classifier_free_guidance


@pytest.fixture(scope="module")
def autoguidance(load_benchmark):
    return load_benchmark("autoguidance")


class Affine(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x, t, cond):
        return self.scale * x + cond.float().view(-1, 1)


def test_cfg_over_the_wrapper_is_guide_plus_w_times_model_minus_guide(autoguidance):
    model, guide = Affine(2.0), Affine(0.5)
    x, t, cond = torch.randn(3, 4), torch.zeros(3), torch.tensor([0, 1, 2])
    null = torch.full_like(cond, 6)  # the null class: the guide must see the real condition, not this
    out = classifier_free_guidance(autoguidance.AutoGuided(model, guide), x, t, cond, null, 3.0)
    assert torch.allclose(out, guide(x, t, cond) + 3.0 * (model(x, t, cond) - guide(x, t, cond)))


def test_a_model_guided_by_itself_samples_as_it_does_unguided(autoguidance):
    pipeline, run = autoguidance.autoguided_pipeline("builtin:points", "builtin:points")
    cond = torch.full((4,), run.classes.index("chair"), dtype=torch.long)
    self_guided = pipeline(4, cond, 2.5, 10, "dpmpp", 3)
    plain = run.pipeline()(4, cond, 1.0, 10, "dpmpp", 3)
    assert torch.allclose(self_guided, plain, atol=1e-4)  # guide + w·0: only the batch's rounding differs
    report = autoguidance.score("builtin:points", "builtin:points", [2.0], ["monitor"], [0], "train")
    monitor = report["weights"]["2.0"]["classes"]["monitor"]["mean"]
    assert 0.4 <= monitor["1-NNA-CD"] <= 0.8 and report["weights"]["2.0"]["summed_1nna"] == pytest.approx(
        100 * monitor["1-NNA-CD"])
