"""The Sinkhorn EMD approximation agrees with the exact assignment within 2 % on real shapes."""
from __future__ import annotations

import numpy as np
import torch

from core.data import open_dataset
from core.metrics.distances import emd_exact, emd_sinkhorn
from core.metrics.normalisation import normalise_clouds

POINTS = 96  # subsampled so the exact solve and the Sinkhorn rounds stay fast


def test_sinkhorn_emd_within_two_percent_of_exact_on_modelnet_shapes(shared_data):
    data = open_dataset(shared_data / "modelnet10_pointclouds_1024").subset(classes=["chair", "sofa", "table"],
                                                                           split="test")
    clouds = data.points(n_points=1024)[[0, 100, 200, 50, 150, 250]]
    pick = np.random.default_rng(0).choice(1024, POINTS, replace=False)
    clouds = torch.from_numpy(normalise_clouds(clouds[:, pick]))
    a, b = clouds[:3], clouds[3:]  # chair-chair, sofa-sofa, table-table at different shapes
    exact, approx = emd_exact(a, b), emd_sinkhorn(a, b)
    assert torch.all(exact > 0.01)
    relative = (approx - exact) / exact
    assert torch.all(relative.abs() < 0.02), relative
    assert torch.all(relative > -1e-4)  # a feasible plan never beats the optimum
