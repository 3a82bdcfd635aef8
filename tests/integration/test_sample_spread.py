"""``benchmarks/sample_spread.py``: 1-NNA's two halves, which tell samples too alike from references missed."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def spread_benchmark(load_benchmark):
    return load_benchmark("sample_spread")


def test_copies_of_the_references_are_indistinguishable_and_one_shape_repeated_finds_itself(spread_benchmark):
    from core.metrics.distances import pairwise_chamfer
    from core.training import load_trained

    model = load_trained("builtin:points")
    refs = spread_benchmark.shapes("chair", "test", 8, 0, model)
    jitter = 1e-4 * torch.randn(refs.shape, generator=torch.Generator().manual_seed(0))
    copies = spread_benchmark.spread(refs + jitter, refs, pairwise_chamfer)
    assert copies["1-NNA"] == 0 and copies["samples_own"] == 0 and copies["references_own"] == 0
    one_train_chair = spread_benchmark.shapes("chair", "train", 1, 0, model)
    alike = spread_benchmark.spread(one_train_chair.repeat(8, 1, 1) + jitter, refs, pairwise_chamfer)
    assert alike["samples_own"] == 1 and alike["samples_nearest"] < alike["references_nearest"]


def test_train_shapes_are_their_own_nearest_train_shapes(spread_benchmark):
    from core.metrics.distances import pairwise_chamfer
    from core.training import load_trained

    model = load_trained("builtin:points")
    train = spread_benchmark.shapes("sofa", "train", 12, 0, model)
    copies = spread_benchmark.closeness_to_train(train[:5], train, pairwise_chamfer)
    assert copies == {"train_nearest_median": 0.0, "train_shapes_hit": 5}
    one_shape = spread_benchmark.closeness_to_train(train[:1].repeat(4, 1, 1), train, pairwise_chamfer)
    assert one_shape["train_shapes_hit"] == 1


def test_a_point_model_is_scored_beside_its_oracle(spread_benchmark):
    report = spread_benchmark.run("builtin:points", "chair", 8, 0, None)
    near = report["to_train"]["CD"]
    assert near["samples"]["train_nearest_median"] > 0 and 1 <= near["references"]["train_shapes_hit"] <= 8
    for side in ("samples", "oracle"):
        assert set(report[side]) == {"CD"}
        scores = report[side]["CD"]
        assert scores["1-NNA"] == pytest.approx((scores["samples_own"] + scores["references_own"]) / 2)
        assert scores["samples_nearest"] > 0 and scores["references_nearest"] > 0


def test_a_voxel_model_is_scored_by_chamfer_and_iou_as_eval_scores_it(spread_benchmark):
    from core.metrics.evaluation import voxel_set_metrics
    from core.training import load_trained

    report = spread_benchmark.run("builtin:voxels", "sofa", 6, 0, None, occupancy_logit=0.0)
    assert set(report["samples"]) == set(report["oracle"]) == {"CD", "IoU"}
    model = load_trained("builtin:voxels")
    refs = spread_benchmark.shapes("sofa", "test", 6, 0, model)
    oracle = spread_benchmark.shapes("sofa", "train", 6, 1, model)
    scores = voxel_set_metrics(oracle, refs, ("cd", "iou")).scores
    for name in ("CD", "IoU"):
        assert report["oracle"][name]["1-NNA"] == pytest.approx(scores[f"1-NNA-{name}"])
        assert 0 < report["oracle"][name]["references_nearest"]


def test_a_splat_model_is_refused_by_name(spread_benchmark):
    with pytest.raises(SystemExit, match="builtin:splats: a splats model"):
        spread_benchmark.run("builtin:splats", "chair", 4, 0, None)
