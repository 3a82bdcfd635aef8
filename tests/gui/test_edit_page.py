"""The Edit page in the real window: interpolate and scrub, vary at a strength, complete a cut shape, cancel."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from app.pages.edit import KEPT_COLOR

JOB_TIMEOUT_MS = 180_000


@pytest.fixture
def chair_files(shared_data, tmp_path):
    """Two ModelNet10 test chairs as point-cloud .npy files."""
    folder = shared_data / "modelnet10_pointclouds_1024"
    names = (folder / "shape_names.txt").read_text().split()
    with h5py.File(folder / "modelnet10_pcd1024_test.h5") as file:
        rows = np.flatnonzero(file["label"][:, 0] == names.index("chair"))[:2]
        clouds = file["data"][rows]
    paths = [tmp_path / "a.npy", tmp_path / "b.npy"]
    for path, cloud in zip(paths, clouds):
        np.save(path, cloud)
    return paths


@pytest.fixture
def page(window):
    """The Edit page, shown, on builtin:points with few steps."""
    window.show_page("edit")
    window.edit.steps_spin.setValue(3)
    return window.edit


def _finish(qtbot, window, runner) -> None:
    """Wait until the jobs panel has seen ``runner``'s thread end, so its results reached the page. A condition, not
    ``waitSignal(runner.finished)``: a short job can end before the test starts waiting, and the signal is then gone
    (the CI of 2026-12-07 timed out so, the runner already deleted)."""
    qtbot.waitUntil(lambda: all(r is not runner for r in window.jobs.runners) and not window.jobs.busy,
                    timeout=JOB_TIMEOUT_MS)


def test_interpolation_is_computed_once_and_scrubbing_shows_each_shape(qtbot, window, page, chair_files,
                                                                      error_boxes):
    page.a_edit.setText(str(chair_files[0]))
    page.b_edit.setText(str(chair_files[1]))
    page.k_spin.setValue(4)
    _finish(qtbot, window, page.interpolate())
    shapes = page.results["interpolate"]
    assert len(shapes) == 4 and page.sliders["interpolate"].maximum() == 3
    for k in (3, 1, 2):
        page.sliders["interpolate"].setValue(k)
        assert window.viewport.shape is shapes[k]  # straight from memory: no job ran
        assert not window.jobs.busy
    assert error_boxes == []


def test_variations_follow_the_strength_slider(qtbot, window, page, chair_files):
    page.tabs.setCurrentIndex(1)
    page.shape_edit.setText(str(chair_files[0]))
    page.strength_slider.setValue(20)
    page.vary_n.setValue(2)
    runner = page.vary()
    assert runner.job.strength == pytest.approx(0.2)
    _finish(qtbot, window, runner)
    assert len(page.results["vary"]) == 2
    page.sliders["vary"].setValue(1)
    assert window.viewport.shape is page.results["vary"][1]


def test_completion_of_a_cut_shape_draws_the_kept_part_in_its_colour(qtbot, window, page, chair_files):
    page.tabs.setCurrentIndex(2)
    page.partial_edit.setText(str(chair_files[0]))
    page.cut_check.setChecked(True)
    page.complete_n.setValue(1)
    _finish(qtbot, window, page.complete())
    full = np.load(chair_files[0])
    assert len(page.kept) < len(full) and page.kept[:, 0].max() <= (full[:, 0].min() + full[:, 0].max()) / 2 + 1e-4
    drawn = window.viewport.shape
    assert window.viewport.style.color_by == "uniform"  # the cloud's own colours are drawn
    kept_rows = np.all(np.isclose(drawn.colors, KEPT_COLOR), axis=1)
    assert kept_rows.sum() == len(page.kept) and (~kept_rows).sum() > 0
    np.testing.assert_allclose(drawn.points[kept_rows], page.kept)


def test_a_running_edit_can_be_cancelled_and_the_page_stays_usable(qtbot, window, page, chair_files):
    page.steps_spin.setValue(200)
    page.tabs.setCurrentIndex(1)
    page.shape_edit.setText(str(chair_files[0]))
    page.strength_slider.setValue(100)
    runner = page.vary()
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=JOB_TIMEOUT_MS)
    failures = []
    runner.failed.connect(failures.append)
    page.cancel_button.click()
    _finish(qtbot, window, runner)
    assert failures and failures[0].cancelled
    assert page.vary_button.isEnabled() and not page.cancel_button.isEnabled()
    assert page.results["vary"] == []


def test_a_missing_file_is_reported_on_the_page(qtbot, window, page, tmp_path):
    page.tabs.setCurrentIndex(2)
    page.partial_edit.setText(str(tmp_path / "nope.ply"))
    assert page.complete() is None
    assert "no such shape file" in page.status.text()


def test_the_page_and_its_cancel_button_have_their_icons(window, page):
    assert not window.nav.item(list(window.pages).index("edit")).icon().isNull()
    assert not page.cancel_button.icon().isNull()


def test_inputs_are_picked_from_the_datasets_browser_and_the_sample_gallery(qtbot, window, page, shared_data,
                                                                            tmp_path, error_boxes):
    from PySide6.QtCore import Qt

    from core.jobs.sample import SampleJob
    from core.shapes import PointCloud

    datasets = window.datasets
    datasets.open(shared_data / "modelnet10_pointclouds_1024")
    qtbot.waitUntil(lambda: datasets.grid.count() > 1, timeout=JOB_TIMEOUT_MS)
    datasets.grid.setCurrentRow(1)
    page.a_field.dataset_action.trigger()  # loaded by a job: the field fills in when it is done
    qtbot.waitUntil(lambda: page.a_field.shape is not None, timeout=JOB_TIMEOUT_MS)
    stored = datasets.dataset.load(datasets.grid.item(1).data(Qt.ItemDataRole.UserRole)).points
    picked = page.a_field.shape.points
    assert isinstance(page.a_field.shape, PointCloud) and picked.shape == stored.shape
    np.testing.assert_allclose(_unit(picked), _unit(stored), atol=1e-5)  # the selected shape, as the page shows it
    assert page.a_edit.text().startswith("dataset: ")

    result = SampleJob("builtin:points", 2, tmp_path / "samples", class_name="chair", steps=3, fmt="npy",
                       previews=False).run()
    window.sample._on_done(result)  # as a finished Generate leaves the Sample page
    window.sample.gallery.setCurrentRow(1)
    page.b_field.sample_action.trigger()
    assert page.b_field.shape is result.shapes[1] and page.b_edit.text() == "sample #1"

    page.k_spin.setValue(3)
    runner = page.interpolate()
    assert runner.job.a is page.a_field.shape and runner.job.b is result.shapes[1]
    _finish(qtbot, window, runner)
    assert len(page.results["interpolate"]) == 3 and error_boxes == []

    qtbot.keyClicks(page.a_edit, "x")  # typing makes the field a file name again
    assert page.a_field.shape is None and page.a_field.source() == page.a_edit.text()


def test_picking_with_nothing_selected_says_where_to_select(window, page):
    assert page.use_dataset_shape(page.shape_field) is None
    assert "Datasets page" in page.status.text()
    page.use_selected_sample(page.shape_field)
    assert "Sample page" in page.status.text() and page.shape_field.shape is None


def _unit(points: np.ndarray) -> np.ndarray:
    """``points`` centred on their bounding box and scaled into the unit sphere."""
    from core.shapes import Normalization

    return Normalization.unit_sphere(points).apply(points)
