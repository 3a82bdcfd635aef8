"""Distances on cases with hand-computed answers: Chamfer, pairwise Chamfer, EMD, IoU, F-score."""
from __future__ import annotations

import pytest
import torch

from core.metrics import chamfer_distance
from core.metrics.distances import (emd_exact, f_score, pairwise_chamfer, pairwise_chamfer_ragged, pairwise_emd,
                                    pairwise_iou, voxel_iou)


def _brute_chamfer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d = (a[:, :, None] - b[:, None]).square().sum(-1)
    return d.min(2).values.mean(1) + d.min(1).values.mean(1)


def test_chamfer_of_three_point_clouds_by_hand():
    a = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    b = torch.tensor([[[0.0, 0, 0], [2, 0, 0]]])
    # a->b squared NN distances 0, 1, 1 (mean 2/3); b->a: 0, 1 (mean 1/2)
    assert chamfer_distance(a, b).item() == pytest.approx(2 / 3 + 1 / 2)


def test_chamfer_is_zero_against_itself_and_symmetric():
    x = torch.randn(3, 50, 3, generator=torch.Generator().manual_seed(0))
    y = torch.randn(3, 40, 3, generator=torch.Generator().manual_seed(1))
    assert torch.all(chamfer_distance(x, x) < 1e-6)
    assert torch.allclose(chamfer_distance(x, y), chamfer_distance(y, x))


def test_chamfer_chunks_and_gradient_match_the_brute_force():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 300, 3, generator=gen, requires_grad=True)
    y = torch.randn(2, 200, 3, generator=gen)
    chunked = chamfer_distance(x, y, chunk_elements=1000)
    assert torch.allclose(chunked, _brute_chamfer(x, y), atol=1e-6)
    (grad,) = torch.autograd.grad(chunked.sum(), x)
    (expected,) = torch.autograd.grad(_brute_chamfer(x, y).sum(), x)
    assert torch.allclose(grad, expected, atol=1e-6)


def test_pairwise_chamfer_equals_paired_chamfer_including_the_symmetric_path():
    gen = torch.Generator().manual_seed(3)
    x, y = torch.rand(7, 64, 3, generator=gen), torch.rand(5, 48, 3, generator=gen)
    expected = torch.stack([_brute_chamfer(x[i:i + 1].expand(5, -1, -1), y) for i in range(7)])
    assert torch.allclose(pairwise_chamfer(x, y, chunk_elements=5000), expected, atol=1e-6)
    square = pairwise_chamfer(x, x, chunk_elements=5000)
    assert torch.allclose(square, square.T) and square.diag().abs().max() < 1e-5
    assert torch.allclose(square[0, 3], _brute_chamfer(x[:1], x[3:4])[0], atol=1e-6)


def test_ragged_chamfer_ignores_padding():
    a = [torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])]
    b = [torch.tensor([[0.0, 0, 0], [2, 0, 0]]), torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])]
    out = pairwise_chamfer_ragged(a, b)
    assert out[0, 0].item() == pytest.approx(2 / 3 + 1 / 2) and out[0, 1].item() == pytest.approx(0.0)


def test_emd_exact_by_hand_and_order_invariant():
    a = torch.tensor([[[0.0, 0, 0], [1, 0, 0]]])
    b = torch.tensor([[[1.0, 1, 0], [0, 1, 0]]])
    assert emd_exact(a, b).item() == pytest.approx(1.0)  # each point moves 1 straight up
    far = torch.tensor([[[0.0, 0, 0], [3, 0, 0]]])
    assert emd_exact(far, a).item() == pytest.approx(1.0)  # (0 + 2) / 2


def test_pairwise_emd_is_symmetric_with_zero_diagonal():
    x = torch.rand(4, 16, 3, generator=torch.Generator().manual_seed(4))
    d = pairwise_emd(x, x)
    assert torch.allclose(d, d.T) and d.diag().abs().max() < 1e-6
    assert d[1, 2].item() == pytest.approx(emd_exact(x[1:2], x[2:3]).item(), rel=1e-5)


def test_voxel_iou_by_hand():
    a = torch.zeros(1, 4, 4, 4, dtype=torch.bool)
    b = torch.zeros(1, 4, 4, 4, dtype=torch.bool)
    a[0, 0, 0, :3] = True  # 3 voxels
    b[0, 0, 0, 1:] = True  # 3 voxels, 2 shared -> 2 / 4
    assert voxel_iou(a, b).item() == pytest.approx(0.5)
    assert voxel_iou(a, a).item() == 1.0
    grids = torch.cat([a, b])
    assert torch.allclose(pairwise_iou(grids, grids), torch.tensor([[1.0, 0.5], [0.5, 1.0]]))


def test_f_score_by_hand():
    ref = torch.tensor([[[0.0, 0, 0], [1, 0, 0]]])
    pred = torch.tensor([[[0.0, 0, 0.005], [0, 0, 0.5], [5, 5, 5], [1, 0, 0]]])
    # precision 2/4 (two predictions within 0.01), recall 2/2 -> F = 2 * 0.5 * 1 / 1.5
    assert f_score(pred, ref, threshold=0.01).item() == pytest.approx(2 / 3)
