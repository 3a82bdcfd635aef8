"""Drive every page of the window offscreen against the real data: open, train, sample, export, evaluate, cancel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from core.choices import DEFAULT_GUIDANCE, DEFAULT_SAMPLER
from core.io import read_shape
from core.shapes import PointCloud

ROOT = Path(__file__).resolve().parents[2]
MODELNET = "modelnet10_pointclouds_1024"
YCB = "pointnet_h5_ycb"
#: generous: llvmpipe frames and CPU training steps take seconds when the shared machine is loaded
JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_data):
    """A class-conditional point-cloud run trained for a few steps on two ModelNet classes (no GUI)."""
    from core.jobs.train import TrainJob
    from core.training import RunSpec

    run_dir = tmp_path_factory.mktemp("run") / "tiny"
    spec = RunSpec(data=str(shared_data / MODELNET), representation="points", classes=["chair", "sofa"],
                   cond="class", preset="tiny", ae_steps=4, ldm_steps=4, max_shapes=16)
    TrainJob(run_dir, spec).run()
    assert (run_dir / "config.json").is_file()
    return run_dir


def _wait_idle(qtbot, window, timeout=JOB_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not window.jobs.busy, timeout=timeout)


def test_datasets_page_shows_classes_and_thumbnails(qtbot, window, shared_data, error_boxes):
    window.datasets.open(shared_data / MODELNET)
    qtbot.waitUntil(lambda: window.datasets.table.rowCount() == 10, timeout=JOB_TIMEOUT_MS)
    classes = [window.datasets.table.item(r, 0).text() for r in range(10)]
    assert "chair" in classes and "night_stand" in classes
    chair = classes.index("chair")
    headers = [window.datasets.table.horizontalHeaderItem(c).text() for c in range(4)]
    assert window.datasets.table.item(chair, headers.index("train")).text() == "889"
    qtbot.waitUntil(lambda: window.datasets.thumbnails_shown > 0, timeout=JOB_TIMEOUT_MS)
    frames = window.viewport.frames_shown
    window.datasets._show_item(window.datasets.grid.item(0))
    qtbot.waitUntil(lambda: isinstance(window.viewport.shape, PointCloud), timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.viewport.frames_shown > frames and window.render_thread.idle,
                    timeout=JOB_TIMEOUT_MS)
    assert window.train.form.data_edit.text().endswith(MODELNET)  # the other pages follow the opened dataset
    assert error_boxes == []


def test_builtin_meshes_get_thumbnails_without_a_renderer_restart(qtbot, window, error_boxes):
    """The built-in set shown as meshes: the thumbnails that used to hit Filament's stall."""
    restarts: list[str] = []
    window.render_thread.renderer_restarted.connect(restarts.append)
    window.datasets.open("builtin")
    qtbot.waitUntil(lambda: window.datasets.grid.count() > 0, timeout=JOB_TIMEOUT_MS)
    window.datasets.repr_combo.setCurrentText("mesh")
    count = window.datasets.grid.count()
    qtbot.waitUntil(lambda: window.datasets.thumbnails_shown == count, timeout=JOB_TIMEOUT_MS)
    window.render_thread.renderer_restarted.disconnect(restarts.append)
    assert count >= 4 and restarts == [] and error_boxes == []


def test_corrupt_file_shows_one_error_and_the_app_stays_usable(qtbot, window, tmp_path, error_boxes):
    corrupt = tmp_path / "broken.ply"
    corrupt.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 99999999\nend_header\n\x00\x01")
    window.datasets.open(corrupt)
    qtbot.waitUntil(lambda: len(error_boxes) == 1, timeout=JOB_TIMEOUT_MS)
    assert "broken.ply" in error_boxes[0]
    _wait_idle(qtbot, window)
    window.datasets.open("builtin")  # still usable afterwards
    qtbot.waitUntil(lambda: window.datasets.table.rowCount() > 0, timeout=JOB_TIMEOUT_MS)
    assert len(error_boxes) == 1


def test_tiny_training_feeds_the_loss_curve(qtbot, window, shared_data, tmp_path, error_boxes):
    page = window.train
    page.form.data_edit.setText(str(shared_data / MODELNET))
    page.form.classes_edit.setText("chair")
    page.form.repr_combo.setCurrentText("points")
    page.form.cond_combo.setCurrentText("none")
    page.form.ae_steps.setValue(3)
    page.form.ldm_steps.setValue(3)
    page.form.max_shapes.setValue(12)
    page.form.out_edit.setText(str(tmp_path / "run"))
    page.start_button.click()
    qtbot.waitUntil(lambda: page.curves.points("ae") > 0, timeout=JOB_TIMEOUT_MS)
    _wait_idle(qtbot, window)
    assert page.curves.points("ldm") > 0
    assert (tmp_path / "run" / "config.json").is_file()
    # the last stage-2 step writes a checkpoint, so one round of preview samples arrives and is drawn; its signal is
    # queued from the job's thread and may be delivered just after that thread has ended
    qtbot.waitUntil(lambda: page.previews_shown > 0, timeout=JOB_TIMEOUT_MS)
    assert page.previews_shown == 1 and page.preview_strip.count() == 4
    assert isinstance(window.viewport.shape, PointCloud)
    qtbot.waitUntil(lambda: all(not page.preview_strip.item(i).icon().isNull() for i in range(4)),
                    timeout=JOB_TIMEOUT_MS)
    assert error_boxes == []


def test_cancel_a_running_training(qtbot, window, shared_data, tmp_path, error_boxes):
    page = window.train
    page.form.data_edit.setText(str(shared_data / MODELNET))
    page.form.classes_edit.setText("chair,sofa")  # class conditioning needs two classes
    page.form.ae_steps.setValue(100_000)
    page.form.max_shapes.setValue(12)
    page.form.out_edit.setText(str(tmp_path / "long"))
    page.start_button.click()
    runner = page.runner
    cancelled = []
    runner.failed.connect(lambda failed: cancelled.append(failed.cancelled))
    qtbot.waitUntil(lambda: window.jobs.rows.count() > 1 and page.cancel_button.isEnabled(), timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(runner.progress, timeout=JOB_TIMEOUT_MS):
        pass
    page.cancel_button.click()
    _wait_idle(qtbot, window)
    assert cancelled == [True] and error_boxes == []  # a cancellation is not an error
    assert page.start_button.isEnabled()


def test_sample_live_preview_export_and_evaluate(qtbot, window, tiny_run, tmp_path, shared_data, error_boxes):
    page = window.sample
    window.open_run(tiny_run)
    assert page.class_combo.findText("sofa") >= 0
    page.class_combo.setCurrentText("sofa")
    page.guidance.setValue(8)   # 2.0
    page.steps.setValue(4)
    page.seed.setValue(7)
    page.count.setValue(3)
    page.sampler_combo.setCurrentText("ddim")
    before = QImage(window.viewport.image) if window.viewport.image is not None else None
    page.generate_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=JOB_TIMEOUT_MS)
    _wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.viewport.frames_shown > 0 and window.render_thread.idle, timeout=JOB_TIMEOUT_MS)
    assert page.previews_shown >= 1 and window.viewport.image != before
    request = json.loads((tiny_run / "samples" / "seed7" / "samples.json").read_text())
    assert request["guidance"] == 2.0 and request["steps"] == 4 and request["sampler"] == "ddim"
    assert page.gallery.count() == 3

    page.gallery.setCurrentRow(1)
    with qtbot.waitSignal(page.export(tmp_path / "out" / "shape.ply").done, timeout=JOB_TIMEOUT_MS) as written:
        pass
    cloud = read_shape(written.args[0][0])
    assert isinstance(cloud, PointCloud)
    assert np.allclose(cloud.points, page.result.shapes[1].points, atol=1e-6)

    evaluate = window.evaluate
    evaluate.set_samples(tiny_run / "samples" / "seed7" / "samples.npy")
    evaluate.ref_edit.setText(str(shared_data / YCB))  # 66 shapes: keeps the pairwise distances cheap
    evaluate.class_combo.setCurrentText("004_sugar_box")
    evaluate.n_spin.setValue(3)
    evaluate.metric_boxes["jsd"].setChecked(False)
    evaluate.evaluate()
    qtbot.waitUntil(lambda: len(evaluate.results) == 2, timeout=JOB_TIMEOUT_MS)
    _wait_idle(qtbot, window)
    names = [evaluate.table.item(r, 0).text() for r in range(evaluate.table.rowCount())]
    assert "MMD-CD" in names
    assert all(evaluate.table.item(r, c).text() != "—" for r in range(len(names)) for c in (1, 2))
    csv_text = evaluate.export(tmp_path / "eval.csv").read_text()
    assert csv_text.splitlines()[0] == "metric,samples,oracle" and "MMD-CD" in csv_text
    assert set(json.loads(evaluate.export(tmp_path / "eval.json").read_text())) == {"samples", "oracle"}
    assert error_boxes == []


def test_evaluate_histogram_of_nearest_reference_distances(qtbot, window, shared_data, tmp_path, error_boxes):
    """EvalJob's ``nearest`` (per-sample distance to the closest reference) drawn as a histogram; results
    without it leave a note instead of a plot."""
    import torch

    from core.data import open_dataset
    from core.metrics.distances import pairwise_chamfer

    dataset = open_dataset(shared_data / YCB)
    clouds = torch.stack([torch.as_tensor(dataset.get(i, "points").points[:256], dtype=torch.float32)
                          for i in range(0, 40, 4)])
    nearest = pairwise_chamfer(clouds[:6], clouds[6:]).min(dim=1).values.numpy()  # 6 "samples", 4 references
    page = window.evaluate
    page._on_result("oracle", {"metrics": {"MMD-CD": 0.02}})
    assert page.histogram_counts() == {} and "no per-sample" in page.histogram_note.text()
    page._on_result("samples", {"metrics": {"MMD-CD": float(nearest.mean())}, "nearest": {"CD": nearest}})
    assert page.histogram_metric.currentText() == "CD"
    assert page.histogram_counts() == {"samples": 6}
    assert f"{np.median(nearest):.3g}" in page.histogram_note.text()
    saved = json.loads(page.export(tmp_path / "eval.json").read_text())
    assert np.allclose(saved["samples"]["nearest"]["CD"], nearest)
    assert error_boxes == []


def test_evaluate_scores_voxel_samples_and_a_voxel_oracle_with_their_pieces(qtbot, window, shared_data, tmp_path,
                                                                           error_boxes):
    """Voxel samples against a point-cloud reference: the oracle is voxelised like the samples, so both
    columns have IoU and the fragmentation rows (an oracle of points had none: '—')."""
    from core.data import open_dataset

    grids = open_dataset(shared_data / YCB).subset(classes=["004_sugar_box"]).voxels(resolution=16)[:3]
    np.save(tmp_path / "vox.npy", grids.astype(np.uint8))
    page = window.evaluate
    page.set_samples(tmp_path / "vox.npy")
    page.ref_edit.setText(str(shared_data / YCB))
    page.class_combo.setCurrentText("004_sugar_box")
    page.n_spin.setValue(3)
    for name, box in page.metric_boxes.items():
        box.setChecked(name == "iou")
    page.evaluate()
    qtbot.waitUntil(lambda: len(page.results) == 2, timeout=JOB_TIMEOUT_MS)
    rows = {page.table.item(r, 0).text(): (page.table.item(r, 1).text(), page.table.item(r, 2).text())
            for r in range(page.table.rowCount())}
    assert {"floaters", "one_piece", "1-NNA-IoU"} <= set(rows)
    assert all("—" not in cell for cells in rows.values() for cell in cells)
    assert rows["one_piece"][1].endswith("%") and page.results["oracle"]["representation"] == "voxels"
    assert error_boxes == []


@pytest.fixture
def builtin_points(tmp_path, monkeypatch, tiny_run):
    """A resources folder whose only built-in model, ``points``, is the tiny run (config + checkpoints)."""
    import shutil

    resources = tmp_path / "resources"
    shutil.copytree(tiny_run, resources / "pretrained" / "points", ignore=shutil.ignore_patterns("samples"))
    monkeypatch.setenv("LATENT3D_RESOURCES", str(resources))
    return resources / "pretrained" / "points"


def test_sample_page_opens_on_the_builtin_points_model(qtbot, builtin_points, window, error_boxes):
    page = window.sample
    qtbot.waitUntil(lambda: page.model_combo.findText("builtin:points") >= 0, timeout=JOB_TIMEOUT_MS)
    assert page.model_combo.currentText() == "builtin:points"
    assert page.model_combo.findText("builtin:points") == 0  # built-in models first, runs on disk after
    assert [page.class_combo.itemText(i) for i in range(page.class_combo.count())][1:] == ["chair", "sofa"]
    page.count.setValue(2)
    page.steps.setValue(2)
    page.generate_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=JOB_TIMEOUT_MS)
    assert len(page.result.shapes) == 2 and isinstance(page.result.shapes[0], PointCloud)
    assert error_boxes == []


def test_install_desktop_respects_xdg_data_home(tmp_path, monkeypatch):
    from app.__main__ import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert main(["--install-desktop"]) == 0
    entry = tmp_path / "xdg" / "applications" / "latent3d-studio.desktop"
    text = entry.read_text()
    assert "Exec=" in text and "Icon=latent3d-studio" in text and os.access(entry, os.X_OK)
    assert (tmp_path / "xdg" / "icons" / "hicolor" / "scalable" / "apps" / "latent3d-studio.svg").stat().st_size > 0


def test_screenshot_cli_writes_the_window_and_exits_cleanly(tmp_path, shared_data):
    """The real command in its own process: the exit code also proves there is no Filament abort at exit."""
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-m", "app", "--open", str(shared_data / MODELNET), "--page", "train",
                           "--screenshot", str(shot)], env=env, cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(shot))
    assert image.width() >= 1280 and image.height() >= 800


def test_sampling_the_builtin_splat_model_shows_its_denoising_then_the_gaussian_drawing(qtbot, window,
                                                                                      error_boxes):
    """Splat previews are drawn as discs at the speed of points, so the live denoising is seen (it was 2-4
    frames of 10); once the view rests the final chair is drawn again with the Gaussian shader."""
    page, viewport = window.sample, window.viewport
    qtbot.waitUntil(lambda: page.model_combo.findText("builtin:splats") >= 0, timeout=JOB_TIMEOUT_MS)
    page.model_combo.setCurrentText("builtin:splats")
    qtbot.waitUntil(lambda: page.class_combo.findText("chair") >= 0, timeout=JOB_TIMEOUT_MS)
    page.class_combo.setCurrentText("chair")
    page.count.setValue(1)
    page.steps.setValue(20)
    with qtbot.waitSignal(viewport.frame_shown, timeout=JOB_TIMEOUT_MS):  # the renderer process is up (seconds
        viewport.show_shape(PointCloud(np.eye(3)))                          # when fresh), as in a session's use
    qtbot.waitUntil(lambda: viewport.render_thread.idle, timeout=JOB_TIMEOUT_MS)
    before = viewport.frames_shown
    page.generate_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=JOB_TIMEOUT_MS)
    during = viewport.frames_shown - before
    assert page.previews_shown == 10 and during > 1
    qtbot.waitUntil(lambda: viewport.render_thread.idle, timeout=JOB_TIMEOUT_MS)
    assert viewport.frames_shown > before + during  # the final shape, and its refinement by the Gaussian shader
    assert error_boxes == []


@pytest.fixture
def builtin_points_with_defaults(builtin_points):
    """``builtin:points`` whose manifest names its own guidance and sampler."""
    manifest = {"format": "latent3d-pretrained", "models": {"points": {"guidance": 1.5, "sampler": "dpmpp_sde"}}}
    (builtin_points.parent / "manifest.json").write_text(json.dumps(manifest))
    return builtin_points


def test_sample_page_takes_a_builtin_models_own_guidance_and_sampler(qtbot, builtin_points_with_defaults, tiny_run,
                                                                     window, error_boxes):
    page = window.sample
    qtbot.waitUntil(lambda: page.model_combo.currentText() == "builtin:points", timeout=JOB_TIMEOUT_MS)
    assert (page.guidance_value, page.sampler_combo.currentText()) == (1.5, "dpmpp_sde")
    window.open_run(tiny_run)  # a run folder names none: the page's defaults come back
    assert (page.guidance_value, page.sampler_combo.currentText()) == (DEFAULT_GUIDANCE, DEFAULT_SAMPLER)
    assert error_boxes == []


def test_largest_piece_only_is_offered_for_grid_models_and_makes_voxel_samples_whole(qtbot, window, error_boxes):
    from core.metrics.fragmentation import fragments

    page = window.sample
    qtbot.waitUntil(lambda: page.model_combo.findText("builtin:voxels") >= 0, timeout=JOB_TIMEOUT_MS)
    page.model_combo.setCurrentText("builtin:points")
    assert not page.largest_piece.isEnabled()
    page.model_combo.setCurrentText("builtin:voxels")
    assert page.largest_piece.isEnabled() and not page.largest_piece.isChecked()  # off unless asked
    page.largest_piece.setChecked(True)
    page.class_combo.setCurrentText("chair")
    page.count.setValue(4)
    page.steps.setValue(4)
    page.seed.setValue(3)
    page.generate_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=JOB_TIMEOUT_MS)
    _wait_idle(qtbot, window)
    assert fragments(page.result.array > 0).summary()["one_piece"] == 1.0
    assert error_boxes == []


def test_datasets_page_lists_the_files_that_did_not_load(qtbot, window, tmp_path, error_boxes):
    import trimesh

    folder = tmp_path / "meshes"
    folder.mkdir()
    trimesh.creation.box().export(folder / "box.obj")
    trimesh.creation.icosphere(2).export(folder / "ball.stl")
    (folder / "broken.stl").write_bytes((folder / "ball.stl").read_bytes()[:-100])
    window.datasets.open(folder)
    qtbot.waitUntil(lambda: window.datasets.table.rowCount() == 1, timeout=JOB_TIMEOUT_MS)
    label = window.datasets.skipped_label
    assert not label.isHidden() and label.text().startswith(f"{folder}: skipped 1 of 3 files\n  {folder / 'broken.stl'}: ")
    assert window.datasets.table.item(0, 2).text() == "2" and error_boxes == []
    window.datasets.open("builtin")
    qtbot.waitUntil(lambda: label.isHidden(), timeout=JOB_TIMEOUT_MS)
