"""The Evaluate page scores the oracle with every distance the samples get (CD, EMD, IoU), states the real n on
both sides with the COV ceiling, and shows a sample beside its nearest reference; the Sample page offers the
same view against the model's training shapes."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import open_dataset
from core.io import write_array
from core.jobs.sample import SampleJob
from core.shapes import PointCloud, VoxelGrid

MODELNET = "modelnet10_pointclouds_1024"
YCB = "pointnet_h5_ycb"
JOB_TIMEOUT_MS = 300_000


def _evaluate(qtbot, window, samples, ref, class_name, n, metrics) -> dict:
    page = window.evaluate
    page.set_samples(samples)
    page.ref_edit.setText(str(ref))
    page.class_combo.setCurrentText(class_name)
    page.n_spin.setValue(n)
    for metric, box in page.metric_boxes.items():
        box.setChecked(metric in metrics)
    page.oracle_box.setChecked(True)
    page.evaluate()
    qtbot.waitUntil(lambda: len(page.results) == 2 and page.run_button.isEnabled(), timeout=JOB_TIMEOUT_MS)
    return page.results


def _table(page) -> dict[str, tuple[str, str]]:
    return {page.table.item(r, 0).text(): (page.table.item(r, 1).text(), page.table.item(r, 2).text())
            for r in range(page.table.rowCount())}


@pytest.fixture(scope="module")
def voxel_samples(tmp_path_factory) -> np.ndarray:
    """Four chairs of the built-in voxel model (4 sampler steps)."""
    return SampleJob("builtin:voxels", 4, tmp_path_factory.mktemp("vox"), class_name="chair", steps=4, fmt="npy",
                     previews=False).run().array


def test_point_samples_get_an_oracle_for_cd_and_emd_and_see_their_nearest_reference(qtbot, window, shared_data,
                                                                                    tmp_path, error_boxes):
    dataset = open_dataset(shared_data / YCB).subset(split="test")  # six shapes, one per class
    clouds = np.stack([dataset.load(i).points for i in range(3)]).astype(np.float32)
    write_array(clouds, tmp_path / "samples.npy")
    results = _evaluate(qtbot, window, tmp_path / "samples.npy", shared_data / YCB, "all", 3, ("cd", "emd"))
    page = window.evaluate
    table = _table(page)
    for name in ("MMD-CD", "COV-CD", "1-NNA-CD", "MMD-EMD", "COV-EMD", "1-NNA-EMD"):
        assert "—" not in table[name], name
    n_ref = results["samples"]["n_ref"]
    assert results["oracle"]["n_samples"] == 3 and n_ref > 3
    assert f"3 samples and 3 oracle train shapes against {n_ref} reference shapes" in page.note.text()
    assert "COV cannot exceed" in page.note.text()

    # the samples are test shapes themselves: each one's nearest reference is itself, at distance 0
    page.histogram_metric.setCurrentText("CD")
    assert len(page.sample_dots.data) == 3
    with qtbot.waitSignal(page.show_pair(1).done, timeout=JOB_TIMEOUT_MS):
        pass
    index, row = page.pair
    assert index == 1 and page.scored["samples"].ref_names[row] == dataset.records[1].name
    assert np.isclose(results["samples"]["nearest"]["CD"][1], 0.0, atol=1e-5)
    shown = window.viewport.shape
    assert isinstance(shown, PointCloud) and len(shown.points) == 2 * clouds.shape[1]
    assert "nearest reference" in window.viewport.canvas.caption and error_boxes == []


def test_voxel_samples_get_an_oracle_for_iou_and_a_voxel_pair(qtbot, window, shared_data, tmp_path, voxel_samples,
                                                            error_boxes):
    write_array(voxel_samples, tmp_path / "voxels.npy")
    results = _evaluate(qtbot, window, tmp_path / "voxels.npy", shared_data / MODELNET, "chair", 4, ("cd", "iou"))
    assert results["oracle"]["representation"] == "voxels"
    table = _table(window.evaluate)
    for name in ("MMD-CD", "COV-CD", "1-NNA-CD", "MMD-IoU", "COV-IoU", "1-NNA-IoU", "floaters", "one_piece"):
        assert "—" not in table[name], name
    page = window.evaluate
    page.histogram_metric.setCurrentText("IoU")
    with qtbot.waitSignal(page.show_pair(0).done, timeout=JOB_TIMEOUT_MS) as found:
        pass
    assert np.isclose(found.args[0][1], results["samples"]["nearest"]["IoU"][0], atol=1e-5)
    assert isinstance(window.viewport.shape, VoxelGrid) and error_boxes == []


def test_an_oracle_alone_with_iou_is_scored_on_voxels(qtbot, window, shared_data, error_boxes):
    page = window.evaluate
    page.set_samples("")
    page.ref_edit.setText(str(shared_data / MODELNET))
    page.class_combo.setCurrentText("chair")
    page.n_spin.setValue(4)
    for metric, box in page.metric_boxes.items():
        box.setChecked(metric == "iou")
    page.evaluate()
    qtbot.waitUntil(lambda: "oracle" in page.results and page.run_button.isEnabled(), timeout=JOB_TIMEOUT_MS)
    assert "—" not in _table(page)["MMD-IoU"][1] and error_boxes == []


def test_the_sample_page_shows_a_sample_beside_its_nearest_training_shape(qtbot, window, error_boxes):
    window.show_page("sample")
    page = window.sample
    page.model_combo.setCurrentText("builtin:points")
    page.class_combo.setCurrentText("chair")
    page.count.setValue(2)
    page.steps.setValue(2)
    assert not page.nearest_button.isEnabled()
    page.generate_button.click()
    qtbot.waitUntil(lambda: page.result is not None and page.nearest_button.isEnabled(), timeout=JOB_TIMEOUT_MS)
    page.gallery.setCurrentRow(1)
    page.nearest_button.click()
    qtbot.waitUntil(lambda: page.nearest is not None, timeout=JOB_TIMEOUT_MS)
    assert page.nearest.class_name == "chair" and page.nearest.metric == "CD" and page.nearest.distance > 0
    caption = window.viewport.canvas.caption
    assert caption.startswith("sample #1") and page.nearest.name in caption
    assert len(window.viewport.shape.points) == len(page.result.shapes[1].points) + len(page.nearest.reference.points)
    assert error_boxes == []
