"""``python -m core render`` through the CLI on real files: every shape file type the project reads or writes to a
picture of the asked size, colourings that differ, a contact sheet of a dataset folder, bad input exits 2."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.render.sheet import GAP, LABEL_HEIGHT

BATHTUB = Path("modelnet_off") / "ModelNet10" / "bathtub" / "train" / "bathtub_0002.off"
CLOUD = Path("modelnet10_pointclouds_1024") / "pcd_samples" / "chair" / "train" / "chair_0001.pcd"
#: a pixel darker than this in any channel is drawn, not the white background
DRAWN_BELOW = 240


def picture(path: Path) -> np.ndarray:
    """The PNG as an RGB array."""
    return np.asarray(Image.open(path).convert("RGB"))


def drawn_share(image: np.ndarray) -> float:
    """Share of pixels that are not background."""
    return float((image < DRAWN_BELOW).any(axis=2).mean())


def render(*args: str) -> int:
    """``python -m core render …``."""
    return main(["render", *map(str, args)])


@pytest.mark.parametrize("target, name", [("points", "cloud.ply"), ("points", "cloud.pcd"), ("points", "cloud.npy"),
                                          ("mesh", "mesh.obj"), ("mesh", "mesh.off"), ("mesh", "mesh.stl"),
                                          ("mesh", "mesh.glb"), ("voxels", "grid.npy"), ("splats", "splats.ply")])
def test_every_shape_file_type_renders_at_the_asked_size(shared_data, tmp_path, target, name):
    shape = tmp_path / name
    assert main(["convert", str(shared_data / BATHTUB), "--to", target, "--out", str(shape), "--points", "512",
                 "--res", "24"]) == 0
    out = tmp_path / "picture.png"
    assert render(shape, "--out", out, "--size", "160x120") == 0
    image = picture(out)
    assert image.shape == (120, 160, 3)
    assert drawn_share(image) > 0.03


def test_colourings_differ(shared_data, tmp_path):
    images = {}
    for color in ("height", "normals", "rgb"):
        out = tmp_path / f"{color}.png"
        assert render(shared_data / CLOUD, "--out", out, "--size", "96", "--color", color) == 0
        images[color] = picture(out).astype(np.int16)
    assert drawn_share(images["height"]) > 0.01
    for a, b in (("height", "normals"), ("height", "rgb"), ("normals", "rgb")):
        assert np.abs(images[a] - images[b]).mean() > 1, (a, b)


def test_a_dataset_folder_renders_as_a_contact_sheet(shared_data, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    folder = shared_data / "modelnet10_pointclouds_1024" / "pcd_samples"
    assert render(folder, "--grid", "--n", "6", "--columns", "3", "--size", "64", "--out", out) == 0
    assert "first 6 of 20" in capsys.readouterr().err
    sheet = picture(out)
    assert sheet.shape == (2 * (64 + LABEL_HEIGHT) + 3 * GAP, 3 * 64 + 4 * GAP, 3)
    for row in range(2):
        for column in range(3):
            top, left = GAP + row * (64 + LABEL_HEIGHT + GAP), GAP + column * (64 + GAP)
            assert drawn_share(sheet[top:top + 64, left:left + 64]) > 0.01, (row, column)


def test_bad_requests_exit_2_with_one_line(shared_data, tmp_path, capsys):
    folder = shared_data / "modelnet10_pointclouds_1024" / "pcd_samples"
    cases = [((folder, "--out", tmp_path / "a.png"), "--grid"),
             ((shared_data / CLOUD, "--out", tmp_path / "a.jpg"), ".png"),
             ((tmp_path / "missing.ply", "--out", tmp_path / "a.png"), "no such file")]
    for args, problem in cases:
        capsys.readouterr()
        assert render(*args) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and problem in lines[0], lines
    with pytest.raises(SystemExit) as refused:
        render(shared_data / CLOUD, "--out", tmp_path / "a.png", "--size", "wide")
    assert refused.value.code == 2
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.jpg"))
