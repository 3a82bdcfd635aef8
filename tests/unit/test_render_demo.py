"""``ProceduralDemoJob``: built-in shapes converted, written and rendered to a contact sheet (two classes, small pictures)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from core.io import read_shape
from core.jobs import Done, Progress
from core.jobs.demo_procedural import ProceduralDemoJob
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid


def test_demo_writes_every_representation_and_a_contact_sheet(tmp_path):
    events = []
    result = ProceduralDemoJob(tmp_path / "demo", classes=2, image_size=64, splats=1024).run(events.append)
    assert isinstance(events[-1], Done)
    assert any(isinstance(e, Progress) and e.message == "render" and e.done == e.total == 8 for e in events)
    kinds = {"points": PointCloud, "voxels": VoxelGrid, "splats": GaussianSplats, "mesh": Mesh}
    assert len(result["files"]) == 8
    for path in result["files"]:
        representation = path.rsplit("_", 1)[1].split(".")[0]
        assert isinstance(read_shape(path), kinds[representation])
    sheet = np.asarray(Image.open(result["sheet"]))
    assert sheet.shape[0] > 2 * 64 and sheet.shape[1] > 4 * 64
    tiles = [sheet[4 + r * (64 + 22 + 4): 4 + r * (64 + 22 + 4) + 64, 4 + c * 68: 4 + c * 68 + 64]
             for r in range(2) for c in range(4)]
    for tile in tiles:  # every picture shows an object
        assert (tile < 240).any(axis=2).mean() > 0.05
    assert set(result["timings"]) == {"generate built-in dataset", "convert", "write files", "render contact sheet"}
