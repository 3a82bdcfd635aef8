"""The auction EMD is a feasible upper bound within its tolerance of the exact assignment, on real shapes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data import open_dataset
from core.metrics.distances import emd_auction, emd_exact, pairwise_emd
from core.metrics.normalisation import normalise_clouds

POINTS = 256


def test_auction_emd_matches_exact_on_modelnet_shapes(shared_data):
    data = open_dataset(shared_data / "modelnet10_pointclouds_1024").subset(classes=["chair", "sofa", "table"],
                                                                           split="test")
    clouds = torch.from_numpy(normalise_clouds(data.points(n_points=POINTS)[[0, 100, 200, 50, 150, 250]]))
    a, b = clouds[:3], clouds[3:]
    exact, auction = emd_exact(a, b), emd_auction(a, b)
    relative = (auction - exact) / exact
    assert torch.all(relative > -1e-5)  # a feasible bijection never beats the optimum
    assert torch.all(relative < 0.005), relative  # well inside the 2 %


def test_auction_by_hand_and_in_the_pairwise_matrix():
    a = torch.tensor([[[0.0, 0, 0], [1, 0, 0]]])
    b = torch.tensor([[[1.0, 1, 0], [0, 1, 0]]])
    assert emd_auction(a, b).item() == pytest.approx(1.0, rel=1e-3)
    x = torch.from_numpy(np.random.default_rng(0).random((4, 32, 3)).astype(np.float32))
    d = pairwise_emd(x, x)
    assert torch.allclose(d, d.T) and d.diag().abs().max() < 1e-6
    assert d[0, 3].item() == pytest.approx(emd_exact(x[:1], x[3:]).item(), rel=5e-3)
