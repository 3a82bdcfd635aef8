"""TrainJob(previews=True): a few shapes from the EMA denoiser after every stage-2 checkpoint, none otherwise."""
from __future__ import annotations

import numpy as np
import pytest

from core.jobs import Preview
from core.jobs.train import TrainJob
from core.shapes import PointCloud
from core.training import RunSpec
from core.training.previews import PREVIEW_SHAPES, preview_shapes

pytestmark = pytest.mark.slow
MODELNET = "modelnet10_pointclouds_1024"


def _spec(shared_data, ldm_steps: int) -> RunSpec:
    return RunSpec(data=str(shared_data / MODELNET), representation="points", classes=["chair", "sofa"],
                   cond="class", preset="tiny", ae_steps=2, ldm_steps=ldm_steps, max_shapes=8)


def test_previews_follow_the_stage_two_checkpoints(tmp_path, shared_data):
    events = []
    TrainJob(tmp_path / "run", _spec(shared_data, 25), previews=True).run(events.append)
    previews = [e for e in events if isinstance(e, Preview)]
    # the tiny preset checkpoints every 20 steps, and the last step always writes one
    assert [(p.step, p.total) for p in previews] == [(20, 25), (25, 25)]
    for preview in previews:
        assert len(preview.shapes) == PREVIEW_SHAPES
        assert all(isinstance(s, PointCloud) and np.isfinite(s.points).all() for s in preview.shapes)
    # the last preview is exactly what the finished run samples (same seed, same EMA weights)
    again = preview_shapes(tmp_path / "run")
    assert all(np.allclose(a.points, b.points, atol=1e-5) for a, b in zip(previews[-1].shapes, again))


def test_no_previews_unless_asked(tmp_path, shared_data):
    events = []
    TrainJob(tmp_path / "run", _spec(shared_data, 3)).run(events.append)
    assert not [e for e in events if isinstance(e, Preview)]
