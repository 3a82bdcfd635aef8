"""MMD, COV, 1-NNA and JSD on sets with known answers (PointFlow's definitions)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.metrics.distributions import (_jsd_grid, jensen_shannon_divergence, jsd_point_sets, jsd_voxel_sets,
                                        mmd_cov, occupancy_counts, one_nn_accuracy, one_nn_sides,
                                        voxel_centres)
from core.metrics.evaluation import point_set_metrics, voxel_set_metrics
from core.metrics.normalisation import normalise_clouds


def _clouds(n: int, seed: int, offset: float = 0.0) -> torch.Tensor:
    return torch.rand(n, 32, 3, generator=torch.Generator().manual_seed(seed)) * 0.2 - 0.1 + offset


def test_a_set_against_itself_is_perfect_on_mmd_cov_and_jsd():
    x = _clouds(6, 0)
    m = point_set_metrics(x, x, ("cd", "jsd")).scores
    assert m["MMD-CD"] == pytest.approx(0.0, abs=1e-6)
    assert m["COV-CD"] == 1.0
    assert m["JSD"] == pytest.approx(0.0, abs=1e-12)
    # every shape's nearest other shape is its exact copy in the other set: all misclassified
    assert m["1-NNA-CD"] == 0.0


def test_two_far_apart_clusters_give_1nna_of_one():
    m = point_set_metrics(_clouds(5, 1, offset=-0.3), _clouds(7, 2, offset=0.3), ("cd",)).scores
    assert m["1-NNA-CD"] == 1.0


def test_collapsed_set_of_copies_covers_one_over_n():
    refs = _clouds(8, 3)
    collapsed = refs[2:3].expand(8, -1, -1).clone()
    m = point_set_metrics(collapsed, refs, ("cd",)).scores
    assert m["COV-CD"] == pytest.approx(1 / 8)


def test_mmd_cov_by_hand():
    # rows: samples, columns: references
    dist = torch.tensor([[1.0, 4.0, 9.0], [2.0, 3.0, 8.0]])
    mmd, cov = mmd_cov(dist)
    assert mmd == pytest.approx((1 + 3 + 8) / 3)  # per reference, nearest sample
    assert cov == pytest.approx(1 / 3)  # both samples pick reference 0


def test_one_nn_accuracy_by_hand():
    d_rr = torch.tensor([[0.0, 5.0], [5.0, 0.0]])
    d_ss = torch.tensor([[0.0, 5.0], [5.0, 0.0]])
    d_rs = torch.tensor([[1.0, 9.0], [9.0, 9.0]])  # ref0 <-> sample0 close; ref1 and sample1 nearest their own set
    assert one_nn_accuracy(d_rr, d_rs, d_ss) == pytest.approx(0.5)


def test_one_nn_sides_tell_samples_too_alike_from_references_missed():
    """Two references far apart, two samples beside each other and beside reference 0: both samples find a
    sample, reference 0 finds a sample and reference 1 (missed) only reference 0."""
    d_rr = torch.tensor([[0.0, 9.0], [9.0, 0.0]])
    d_ss = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    d_rs = torch.tensor([[2.0, 2.0], [10.0, 10.0]])
    assert one_nn_sides(d_rr, d_rs, d_ss) == (pytest.approx(0.5), pytest.approx(1.0))
    assert one_nn_accuracy(d_rr, d_rs, d_ss) == pytest.approx(0.75)  # the mean of the halves for equal sets


def test_jsd_grid_counts_match_brute_force_nearest_cell():
    points = torch.rand(2, 500, 3, generator=torch.Generator().manual_seed(5)) * 1.2 - 0.6
    centres, inside = _jsd_grid(28)
    kept = centres[inside]
    nearest = torch.cdist(points.reshape(-1, 3).double(), kept).argmin(1)
    assert torch.equal(occupancy_counts(points), torch.bincount(nearest, minlength=len(kept)).double())


def test_jsd_of_disjoint_sets_is_one_bit():
    left, right = _clouds(3, 6, offset=-0.25), _clouds(3, 7, offset=0.25)
    assert jsd_point_sets(left, right) == pytest.approx(1.0)
    assert jensen_shannon_divergence(torch.tensor([1.0, 0]), torch.tensor([0, 1.0])) == pytest.approx(1.0)


def test_voxel_metrics_kaist_jsd_and_centres():
    grids = torch.zeros(3, 8, 8, 8, dtype=torch.bool)
    grids[0, :2] = True
    grids[1, 2:5] = True
    grids[2, 6:] = True
    assert jsd_voxel_sets(grids, grids) == pytest.approx(0.0, abs=1e-8)
    assert jsd_voxel_sets(grids[:1], grids[2:]) == pytest.approx(math.log(2), rel=1e-6)  # natural log, as KAIST
    centres = voxel_centres(grids[2])
    assert centres.max() == 1.0 and centres[:, 0].min() == pytest.approx(6 / 7)  # scaled by R-1 = 7
    m = voxel_set_metrics(grids, grids).scores
    assert m["MMD-CD"] == pytest.approx(0.0, abs=1e-6) and m["COV-CD"] == 1.0
    assert m["MMD-IoU"] == 0.0 and m["COV-IoU"] == 1.0 and m["1-NNA-IoU"] == 0.0


def test_bbox_normalisation_centres_and_fits_the_longest_side():
    points = np.random.default_rng(0).normal(size=(2, 100, 3)) * [1, 5, 2] + 7
    out = normalise_clouds(points, "bbox")
    extent = out.max(1) - out.min(1)
    assert np.allclose(extent.max(1), 1.0, atol=1e-6)
    assert np.allclose(out.max(1) + out.min(1), 0.0, atol=1e-6)
    with pytest.raises(ValueError):
        normalise_clouds(points, "cube")
