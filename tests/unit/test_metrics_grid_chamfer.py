"""The candidate-grid Chamfer matrix equals brute force on random and real clouds (PointFlow's definition)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data import open_dataset
from core.metrics import grid_chamfer
from core.metrics.distances import pairwise_chamfer, pairwise_chamfer_dense
from core.metrics.normalisation import normalise_clouds


def _brute(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Every squared difference in float64: the definition itself, without the matmul form's rounding."""
    rows = []
    for cloud in x.double():
        d = torch.cdist(cloud[None].expand(len(y), -1, -1), y.double(),
                        compute_mode="donot_use_mm_for_euclid_dist").square()  # (m, P, Q)
        rows.append(d.amin(2).mean(1) + d.amin(1).mean(1))
    return torch.stack(rows).float()


def _assert_exact(got: torch.Tensor, expected: torch.Tensor) -> None:
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, rtol=2e-5, atol=1e-9), (got - expected).abs().max()


@pytest.mark.parametrize("kind", ["uniform", "clustered", "outliers"])
def test_grid_chamfer_equals_brute_force_on_random_clouds(kind):
    gen = torch.Generator().manual_seed({"uniform": 0, "clustered": 1, "outliers": 2}[kind])
    x, y = torch.rand(6, 300, 3, generator=gen) - 0.5, torch.rand(5, 200, 3, generator=gen) - 0.5
    if kind == "clustered":  # tight blobs far apart: most cells are far from every site
        x, y = x * 0.05 + torch.sign(x), y * 0.05 - 0.3
    if kind == "outliers":  # a few points far outside the others' box, and exact duplicates
        x[:, :3] *= 40.0
        y[:, 100:] = y[:, :100]
    _assert_exact(pairwise_chamfer(x, y), _brute(x, y))
    _assert_exact(pairwise_chamfer(x, x), _brute(x, x))


def test_grid_chamfer_equals_brute_force_on_real_shapes(shared_data):
    data = open_dataset(shared_data / "modelnet10_pointclouds_1024").subset(classes=["chair", "sofa", "table"],
                                                                           split="test")
    clouds = data.points(n_points=1024)[np.r_[0:3, 100:103, 200:203]]
    for mode in ("bbox", "sphere"):
        x = torch.from_numpy(normalise_clouds(clouds, mode))
        expected = _brute(x, x)
        _assert_exact(pairwise_chamfer(x, x), expected)
        _assert_exact(pairwise_chamfer(x[:4], x[4:]), expected[:4, 4:])
        assert torch.allclose(pairwise_chamfer_dense(x, x), expected, atol=1e-6)  # the matmul form, as before


def test_grid_levels_and_query_chunks_do_not_change_the_result(monkeypatch):
    gen = np.random.default_rng(3)
    x, y = gen.normal(size=(7, 256, 3)).astype(np.float32), gen.normal(size=(4, 128, 3)).astype(np.float32)
    reference = grid_chamfer.nearest_means(x, y, level=1)
    for level in (3, 5, 7):
        assert np.allclose(grid_chamfer.nearest_means(x, y, level=level), reference, rtol=1e-6)
    monkeypatch.setattr(grid_chamfer, "QUERY_CHUNK_POINTS", 600)  # two clouds per chunk
    steps = []
    chunked = grid_chamfer.nearest_means(x, y, on_progress=lambda done, total: steps.append((done, total)))
    assert np.allclose(chunked, reference, rtol=1e-6)
    assert steps[-1] == (16, 16) == (grid_chamfer.work_units(x.shape, len(y)),) * 2  # 4 chunks x 4 sites


def test_pairwise_chamfer_reports_both_directions_as_one_count():
    x, y = torch.rand(3, 64, 3), torch.rand(5, 64, 3)
    steps = []
    pairwise_chamfer(x, y, on_progress=lambda done, total: steps.append((done, total)))
    assert steps[-1] == (8, 8) and all(total == 8 for _, total in steps)
