"""The window at 1280x800 shows what each page is for without scrolling, and grows with larger windows; the log
follows its newest line; the viewport's controls and caption match the shape on view."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint

from core.io import write_point_cloud
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

MODELNET = "modelnet10_pointclouds_1024"
JOB_TIMEOUT_MS = 120_000
#: the metrics a voxel evaluation with every distance fills: the longest table the Evaluate page shows
VOXEL_METRICS = ("1-NNA-CD", "1-NNA-IoU", "COV-CD", "COV-IoU", "JSD", "MMD-CD", "MMD-IoU", "floaters", "one_piece")


def _inside(widget, container) -> bool:
    """Whether all of ``widget`` lies inside ``container`` (both shown), in window coordinates."""
    top_left = widget.mapTo(container.window(), QPoint(0, 0))
    box = container.mapTo(container.window(), QPoint(0, 0))
    return (widget.isVisible() and box.y() <= top_left.y() and top_left.y() + widget.height() <= box.y() + container.height()
            and box.x() <= top_left.x() and top_left.x() + widget.width() <= box.x() + container.width())


def _rows_visible(table) -> bool:
    """Every row of ``table`` lies inside its viewport (none hidden below the fold)."""
    height = table.viewport().height()
    return all(0 <= table.visualRect(table.model().index(r, 0)).bottom() < height for r in range(table.rowCount()))


def test_all_ten_modelnet_classes_are_visible_and_the_grid_stretches(qtbot, window, shared_data, error_boxes):
    page = window.datasets
    page.open(shared_data / MODELNET)
    qtbot.waitUntil(lambda: page.table.rowCount() == 10, timeout=JOB_TIMEOUT_MS)
    qtbot.wait(50)
    assert _rows_visible(page.table) and _inside(page.table, page)
    assert all(page.table.columnWidth(c) >= page.table.horizontalHeader().sectionSizeHint(c) for c in range(4))
    narrow = page.grid.width()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: page.grid.width() > narrow + 200, timeout=5000)
    assert error_boxes == []


def test_the_train_form_and_its_start_button_fit_without_scrolling(window):
    window.show_page("train")
    page = window.train
    assert _inside(page.form.data_edit, page) and _inside(page.form.out_edit, page)
    page.form.setCurrentIndex(1)  # the Advanced tab, the taller one
    assert window.height() == 800  # no page asks the window for more height than 800
    assert _inside(page.start_button, page) and _inside(page.curves, page)
    assert _inside(page.form.ae_from_combo, page) and _inside(page.form.min_snr, page)


def test_the_loss_curves_keep_a_data_area_beside_the_advanced_form(qtbot, window):
    """With the advanced rows shown and all four loss curves in the legend, the loss plot still draws its data
    in a band a curve can be read in (a title and a two-row legend once left it a few pixels)."""
    window.show_page("train")
    page = window.train
    page.form.setCurrentIndex(1)
    for stage, step in (("ae", 1), ("ae", 2), ("ldm", 3), ("ldm", 4)):
        page.curves.add(stage, step, {"loss": 1.0 / step, "val_loss": 1.2 / step, "lr": 1e-3})
    qtbot.wait(50)
    view = page.curves.loss_plot.getPlotItem().getViewBox().sceneBoundingRect()
    assert view.height() >= 80, view  # 98 px now; 46 px with the title and two-row legend
    assert page.curves.loss_plot.getPlotItem().legend.sceneBoundingRect().top() >= view.bottom()


def test_every_metric_row_of_a_voxel_evaluation_is_visible(window):
    window.show_page("evaluate")
    page = window.evaluate
    metrics = {name: 0.5 for name in VOXEL_METRICS}
    page._on_result("samples", {"metrics": metrics, "n_samples": 8, "n_ref": 100, "split": "test"})
    page._on_result("oracle", {"metrics": metrics, "n_samples": 32, "n_ref": 100, "split": "test"})
    assert page.table.rowCount() == len(VOXEL_METRICS) and window.height() == 800
    assert _rows_visible(page.table) and _inside(page.table, page) and _inside(page.tabs, page)
    assert page.table.horizontalHeaderItem(1).text() == "samples\nn=8"
    assert page.table.horizontalHeaderItem(2).text() == "oracle\nn=32"


def test_the_results_gallery_wraps_into_rows(qtbot, window):
    window.show_page("sample")
    page = window.sample
    shapes = [PointCloud(np.random.default_rng(i).normal(size=(64, 3)).astype(np.float32)) for i in range(12)]
    page._on_done(type("Result", (), {"shapes": shapes, "array": np.stack([s.points for s in shapes])})())
    qtbot.wait(50)
    first, later = page.gallery.visualItemRect(page.gallery.item(0)), page.gallery.visualItemRect(page.gallery.item(11))
    assert later.top() > first.bottom()  # a second row, not one long strip
    assert _inside(page.gallery, page)


def test_the_log_follows_its_newest_line(window):
    for line in range(300):
        window.jobs.append(f"line {line}")
    bar = window.jobs.log_view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()


@pytest.mark.parametrize("shape, sized, colored", [
    (PointCloud(np.eye(3, dtype=np.float32)), True, True),
    (VoxelGrid(np.ones((4, 4, 4), dtype=bool)), False, True),
    (Mesh(np.eye(3), np.array([[0, 1, 2]])), False, False),
])
def test_point_size_and_colouring_are_offered_only_where_they_change_the_picture(window, shape, sized, colored):
    viewport = window.viewport
    viewport.show_shape(shape)
    assert viewport.point_size.isEnabled() is sized and viewport.color_combo.isEnabled() is colored
    assert sized or "have no points" in viewport.point_size.toolTip()


def test_splats_with_their_own_colours_disable_both_controls(window):
    rng = np.random.default_rng(0)
    n = 50
    splats = GaussianSplats(positions=rng.normal(size=(n, 3)).astype(np.float32),
                            sh_dc=rng.normal(size=(n, 3)).astype(np.float32),
                            opacity_logit=np.zeros(n, np.float32), log_scales=np.full((n, 3), -3, np.float32),
                            rotations=np.tile([1, 0, 0, 0], (n, 1)).astype(np.float32))
    window.viewport.show_shape(splats)
    assert not window.viewport.point_size.isEnabled() and not window.viewport.color_combo.isEnabled()


def test_opening_a_file_replaces_the_shape_at_once_with_its_real_point_count(qtbot, window, tmp_path, error_boxes):
    path = tmp_path / "cloud.ply"
    write_point_cloud(PointCloud(np.random.default_rng(1).normal(size=(1024, 3)).astype(np.float32)), path)
    window.viewport.show_shape(PointCloud(np.eye(3, dtype=np.float32)))
    window.datasets.open(path)  # as File > Open shape file… does: no thumbnail click
    qtbot.waitUntil(lambda: window.viewport.canvas.caption.endswith("1,024 points"), timeout=JOB_TIMEOUT_MS)
    assert len(window.viewport.shape.points) == 1024 and error_boxes == []
