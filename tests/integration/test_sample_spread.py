"""``benchmarks/sample_spread.py``: 1-NNA-CD's two halves, which tell samples too alike from references missed."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def spread_benchmark(load_benchmark):
    return load_benchmark("sample_spread")


def test_copies_of_the_references_are_indistinguishable_and_one_shape_repeated_finds_itself(spread_benchmark):
    from core.training import load_trained

    model = load_trained("builtin:points")
    refs = spread_benchmark.shapes("chair", "test", 8, 0, model)
    jitter = 1e-4 * torch.randn(refs.shape, generator=torch.Generator().manual_seed(0))
    copies = spread_benchmark.spread(refs + jitter, refs)
    assert copies["1-NNA-CD"] == 0 and copies["samples_own"] == 0 and copies["references_own"] == 0
    one_train_chair = spread_benchmark.shapes("chair", "train", 1, 0, model)
    alike = spread_benchmark.spread(one_train_chair.repeat(8, 1, 1) + jitter, refs)
    assert alike["samples_own"] == 1 and alike["samples_nearest_cd"] < alike["references_nearest_cd"]


def test_a_point_model_is_scored_beside_its_oracle(spread_benchmark):
    report = spread_benchmark.run("builtin:points", "chair", 8, 0, None)
    for side in ("samples", "oracle"):
        scores = report[side]
        assert scores["1-NNA-CD"] == pytest.approx((scores["samples_own"] + scores["references_own"]) / 2)
        assert scores["samples_nearest_cd"] > 0 and scores["references_nearest_cd"] > 0


def test_a_voxel_model_is_refused_by_name(spread_benchmark):
    with pytest.raises(SystemExit, match="builtin:voxels: a voxels model"):
        spread_benchmark.run("builtin:voxels", "chair", 4, 0, None)
