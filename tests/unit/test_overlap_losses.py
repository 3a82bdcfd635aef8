"""Soft Dice scores overlap, clDice scores the skeleton: a broken thin bar costs clDice more than a fat one."""
from __future__ import annotations

import torch

from core.models import autoencoder_config, build_autoencoder
from core.models.overlap_losses import cldice_loss, soft_dice_loss, soft_skeleton


def _bar(thickness: int = 1, gap: bool = False) -> torch.Tensor:
    """A bar along x through a 24³ grid, ``thickness`` cells square, optionally cut by a 2-cell gap."""
    grid = torch.zeros(1, 1, 24, 24, 24)
    low = 12 - thickness // 2
    grid[:, :, 2:22, low:low + thickness, low:low + thickness] = 1
    if gap:
        grid[:, :, 11:13] = 0
    return grid


def test_soft_dice_is_zero_for_the_shape_itself_and_near_one_for_a_disjoint_one():
    target = _bar()
    assert soft_dice_loss(target, target) < 1e-6
    assert soft_dice_loss(torch.roll(target, 5, dims=3), target) > 0.9


def test_the_soft_skeleton_of_a_thick_bar_is_thin_and_keeps_its_length():
    skeleton = soft_skeleton(_bar(thickness=3))
    assert skeleton.sum() < 0.5 * _bar(thickness=3).sum()  # thinner than the bar
    assert (skeleton.amax(dim=(3, 4)) > 0.5).sum() >= 16  # still spans (nearly) the bar's 20 cells


def test_cldice_charges_a_break_in_a_thin_part_where_dice_charges_thickness():
    target, broken, fat = _bar(), _bar(gap=True), _bar(thickness=3)
    assert soft_dice_loss(broken, target) < soft_dice_loss(fat, target)  # Dice: two lost cells are cheap
    assert cldice_loss(broken, target) > cldice_loss(fat, target) + 0.05  # clDice: the cut skeleton is not


def test_a_voxel_autoencoder_trains_on_focal_plus_cldice_and_logs_each_term():
    torch.manual_seed(0)
    ae = build_autoencoder(autoencoder_config("tiny", "voxels", "ae", resolution=16, loss="focal_cldice"))
    x = (torch.rand(2, 1, 16, 16, 16) > 0.8).float()
    out = ae(x)
    out.loss.backward()
    assert {"dice", "cldice", "iou"} <= set(out.logs) and 0 < out.logs["cldice"] < 1
    assert all(p.grad is not None for p in ae.parameters() if p.requires_grad)
