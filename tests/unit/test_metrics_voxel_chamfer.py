"""The distance-transform Chamfer between voxel centres equals the point-by-point ragged Chamfer."""
from __future__ import annotations

import pytest
import torch

from core.metrics.distances import pairwise_chamfer_ragged, pairwise_voxel_chamfer
from core.metrics.distributions import voxel_centres


def _grids(n: int, resolution: int, seed: int) -> torch.Tensor:
    """Random blobs and shells: sparse, dense and one-voxel grids."""
    gen = torch.Generator().manual_seed(seed)
    grids = torch.rand(n, resolution, resolution, resolution, generator=gen) < torch.linspace(0.01, 0.4, n)[:, None,
                                                                                                      None, None]
    grids[0] = False
    grids[0, 1, 2, 3] = True  # a single voxel
    return grids


@pytest.mark.parametrize("resolution", [8, 13])
def test_voxel_chamfer_equals_ragged_centre_chamfer(resolution):
    x, y = _grids(5, resolution, 0), _grids(4, resolution, 1)
    expected = pairwise_chamfer_ragged([voxel_centres(g) for g in x], [voxel_centres(g) for g in y])
    got = pairwise_voxel_chamfer(x, y)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-8)
    chunked = pairwise_voxel_chamfer(x, y, chunk_elements=4 * 2 * resolution ** 3)  # two grids per chunk
    assert torch.allclose(chunked, got)
    assert torch.allclose(pairwise_voxel_chamfer(x, x).diag(), torch.zeros(5))


def test_voxel_chamfer_by_hand_and_empty_grids():
    a = torch.zeros(1, 5, 5, 5, dtype=torch.bool)
    b = torch.zeros(1, 5, 5, 5, dtype=torch.bool)
    a[0, 0, 0, 0] = True
    b[0, 0, 0, 0] = b[0, 0, 0, 4] = True  # centres 0 and (0,0,1) after scaling by R-1 = 4
    # a->b: 0; b->a: (0 + 1) / 2
    assert pairwise_voxel_chamfer(a, b).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="empty"):
        pairwise_voxel_chamfer(a, torch.zeros_like(b))
