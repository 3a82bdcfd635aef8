"""Every Sample-page export for every representation, read back by our readers and by Open3D, in the sample's
own frame (a PLY and an OBJ of one sample overlay); one shape or all, as the page says."""
from __future__ import annotations

import numpy as np
import open3d as o3d
import pytest

from core.io import read_array, read_shape
from core.jobs.sample import SampleJob
from core.render import shape_bounds
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

#: a surface meshed from a sample may reach this far past the sample's own bounds (a cell of the 32³ meshing
#: grid over [-1, 1]³ is 0.0625): the OBJ of a ±0.66 cloud at ±0.94 was the bug
FRAME_TOLERANCE = 0.1
REPRESENTATIONS = ("points", "voxels", "splats")
#: meshing and writing a sample takes about a second; the shared machine may be loaded
JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> dict:
    """Two chairs from each built-in model (2 sampler steps: the shapes only need to be of the right kind)."""
    out = tmp_path_factory.mktemp("samples")
    return {name: SampleJob(f"builtin:{name}", 2, out / name, class_name="chair", steps=2, fmt="npy",
                            previews=False).run() for name in REPRESENTATIONS}


def _export(qtbot, page, path, fmt=None) -> list:
    """Run the page's export and return the files its job wrote."""
    with qtbot.waitSignal(page.export(path, fmt).done, timeout=JOB_TIMEOUT_MS) as written:
        pass
    return written.args[0]


def _open3d_count(path, kind) -> int:
    """What Open3D reads from a file: triangles of a mesh, points of a cloud, Gaussians of a splat PLY."""
    if isinstance(kind, Mesh):
        return len(o3d.io.read_triangle_mesh(str(path)).triangles)
    if isinstance(kind, GaussianSplats):
        return len(o3d.t.io.read_point_cloud(str(path)).point.positions)
    return len(o3d.io.read_point_cloud(str(path)).points)


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_each_export_of_the_selected_shape_reads_back_in_the_samples_frame(qtbot, window, sampled, tmp_path,
                                                                           representation, error_boxes):
    page = window.sample
    result = sampled[representation]
    page._on_done(result)
    page.gallery.setCurrentRow(1)
    shape = result.shapes[1]
    low, high = shape_bounds(shape)
    assert "shape #1" in page.export_note.text()
    for fmt, button in page.export_buttons.items():
        assert button.isEnabled() and "#1" in button.toolTip()

    (npy,) = _export(qtbot, page, tmp_path / "one.npy")
    assert np.array_equal(read_array(npy), result.array[1:2])

    (ply,) = _export(qtbot, page, tmp_path / "one.ply")
    back = read_shape(ply)
    expected = {"points": PointCloud, "voxels": Mesh, "splats": GaussianSplats}[representation]
    assert isinstance(back, expected)
    if isinstance(back, PointCloud):
        assert np.allclose(back.points, shape.points, atol=1e-6)
    if isinstance(back, GaussianSplats):
        assert np.allclose(back.positions, shape.positions, atol=1e-6)
    assert _open3d_count(ply, back) == len(back.faces if isinstance(back, Mesh) else back)

    for fmt in ("obj", "glb"):
        (path,) = _export(qtbot, page, tmp_path / f"one.{fmt}")
        mesh = read_shape(path)
        assert isinstance(mesh, Mesh) and len(mesh.faces) > 100
        assert _open3d_count(path, mesh) == len(mesh.faces)
        mesh_low, mesh_high = shape_bounds(mesh)
        assert np.all(np.abs(mesh_low - low) < FRAME_TOLERANCE) and np.all(np.abs(mesh_high - high) < FRAME_TOLERANCE)
    assert error_boxes == []


def test_all_shapes_go_to_one_array_or_one_file_each(qtbot, window, sampled, tmp_path, error_boxes):
    page = window.sample
    result = sampled["voxels"]
    page._on_done(result)
    page.export_scope.setCurrentIndex(1)
    assert "all 2 shapes" in page.export_note.text()
    assert "one file per shape" in page.export_note.text()
    (npy,) = _export(qtbot, page, tmp_path / "all.npy")
    assert read_array(npy).shape == (2, 32, 32, 32) and read_array(npy).dtype == np.uint8
    files = _export(qtbot, page, tmp_path / "objs", "obj")
    assert [f.name for f in files] == ["sample_000.obj", "sample_001.obj"]
    assert all(isinstance(read_shape(f), Mesh) for f in files)
    assert isinstance(result.shapes[0], VoxelGrid) and error_boxes == []


def test_export_buttons_wait_for_samples_and_say_why(window):
    page = window.sample
    for button in page.export_buttons.values():
        assert not button.isEnabled() and "Generate shapes first" in button.toolTip()


def test_the_splat_npy_layout_is_described(qtbot, window, sampled):
    page = window.sample
    page._on_done(sampled["splats"])
    assert "(N, 15, R, R, R) splat grids" in page.export_buttons["npy"].toolTip()
    assert "occupancy" in page.export_buttons["npy"].toolTip()
