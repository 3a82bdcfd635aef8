"""``with_occupancy_logit``: where a voxel model's cells start, and the inputs it refuses."""
from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from core.training.representations import representation, with_occupancy_logit


def test_cells_are_occupied_above_the_logit():
    logits = torch.tensor([-1.0, -0.3, -0.1, 0.0, 0.2]).view(1, 1, 1, 1, 5)
    voxels = representation("voxels")
    assert voxels.to_array(logits).ravel().tolist() == [0, 0, 0, 0, 1]  # the default: probability above 0.5
    assert with_occupancy_logit(voxels, -0.25, "x").to_array(logits).ravel().tolist() == [0, 0, 1, 1, 1]
    assert with_occupancy_logit(voxels, None, "x") is voxels


@pytest.mark.parametrize("name, logit, says", [("points", -0.25, "voxel models, not to points"),
                                               ("splats", 0.0, "not to splats"),
                                               ("voxels", math.nan, "finite number")])
def test_a_logit_a_model_cannot_use_is_bad_input_naming_its_source(name, logit, says):
    with pytest.raises(InputError, match=says) as error:
        with_occupancy_logit(representation(name), logit, "run/config.json")
    assert "run/config.json" in str(error.value)
