"""``benchmarks/quality.py --recon``: train shapes passed through a shipped autoencoder, as sampling exports them."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import open_dataset

pytestmark = pytest.mark.slow  # voxelises the 889 train chairs without a cache


@pytest.fixture(scope="module")
def quality(load_benchmark):
    return load_benchmark("quality")


def test_each_reconstruction_is_of_the_train_shape_drawn_for_it(quality, shared_data):
    recon = quality.reconstructions("builtin:voxels", "chair", 6, seed=3)

    assert recon.shape == (6, 32, 32, 32) and recon.dtype == np.uint8
    train = open_dataset(shared_data / "modelnet10_pointclouds_1024").subset(classes=["chair"], split="train")
    drawn = train.voxels(resolution=32)[np.random.default_rng(3).choice(len(train), size=6, replace=False)]
    iou = np.array([[(r & d).sum() / (r | d).sum() for d in drawn] for r in recon.astype(bool)])
    assert np.all(iou.argmax(axis=1) == np.arange(6))  # each matches its own shape best: rows line up
    assert iou.diagonal().mean() > 0.5  # and the autoencoder rebuilds it (shipped: ~0.7 on train chairs)
