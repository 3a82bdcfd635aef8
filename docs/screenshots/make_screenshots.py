"""Take the README screenshots of every page in a real window with real data and a trained run.

Run under Xvfb from the repository root (takes a few minutes on a CPU):
    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/make_screenshots.py RUN_DIR
RUN_DIR is a trained class-conditional point-cloud run (``python -m core train ... --repr points --cond class``)
or a built-in model such as ``builtin:points``. ``make_screenshots.py --sample-splats`` takes only
``sample_splats.png``: the Sample page with ``builtin:splats`` chairs, the first in the viewport.
``make_screenshots.py --train-recipe`` takes only ``train_advanced.png``: the Train page's Advanced tab filled
with the recipe of ``builtin:splats``' denoiser over its shipped autoencoder.
``make_screenshots.py --edit`` takes only ``edit.png``: the Edit page completing a ModelNet10 test chair
cut in half with ``builtin:points``, the kept half in its own colour.
"""
from __future__ import annotations

import faulthandler
import signal
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.theme import apply_theme

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "modelnet10_pointclouds_1024"
OUT = Path(__file__).resolve().parent


faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a slow step is waiting


def wait_until(condition, timeout: float = 600.0) -> None:
    """Process events until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("screenshot step did not finish")
        QApplication.processEvents()
        time.sleep(0.05)


def settle(window: MainWindow, seconds: float = 1.0) -> None:
    """Let jobs, thumbnails and frames finish, then give late paints a moment."""
    wait_until(lambda: not window.jobs.busy and window.render_thread.idle)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.05)


def capture(window: MainWindow, name: str) -> None:
    """Save the window as docs/screenshots/NAME.png."""
    path = OUT / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path}")


def sample_page(window: MainWindow, run: str, count: int, seed: int) -> None:
    """Generate ``count`` chairs from ``run`` on the Sample page and show the third."""
    window.open_run(run)
    window.show_page("sample")
    sample = window.sample
    wait_until(lambda: sample.class_combo.findText("chair") >= 0, timeout=120)  # the model's classes load first
    sample.class_combo.setCurrentText("chair")
    sample.count.setValue(count)
    sample.steps.setValue(25)
    sample.seed.setValue(seed)
    sample.generate()
    wait_until(lambda: sample.result is not None)
    settle(window, 2.0)
    sample.gallery.setCurrentRow(2)
    settle(window, 2.0)


def new_window() -> MainWindow:
    """The app's window at 1280x800, shown."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    return window


def sample_splats() -> None:
    """The Sample page with built-in splat chairs, the viewport settled on the Gaussian drawing."""
    window = new_window()
    sample_page(window, "builtin:splats", 8, 1)
    capture(window, "sample_splats")
    window.close()


def train_recipe() -> None:
    """The Advanced tab asking for builtin:splats' stage 2 (README "Built-in models"): a v-predicting DiT of
    width 384 under bf16 with a zero terminal SNR over the shipped token autoencoder, 20,000 steps."""
    window = new_window()
    window.show_page("train")
    form = window.train.form
    form.data_edit.setText(str(DATA))
    form.classes_edit.setText("chair,sofa,table,bed,monitor,toilet")
    form.ae_from_combo.setCurrentText("builtin:splats")  # sets splats, the small preset and the token latent
    form.out_edit.setText(str(Path.home() / "runs" / "splats_w384"))
    form.ldm_steps.setValue(20_000)
    form.prediction_combo.setCurrentText("v")
    form.width_spin.setValue(384)
    form.bf16.setChecked(True)
    form.zero_snr.setChecked(True)
    form.setCurrentIndex(1)
    settle(window)
    capture(window, "train_advanced")
    window.close()


def edit_page() -> None:
    """The Edit page: a test chair cut by the plane x = centre, completed by builtin:points."""
    import h5py
    import numpy as np

    names = (DATA / "shape_names.txt").read_text().split()
    with h5py.File(DATA / "modelnet10_pcd1024_test.h5") as file:
        chair = file["data"][int(np.flatnonzero(file["label"][:, 0] == names.index("chair"))[0])]
    path = Path(tempfile.mkdtemp()) / "chair.npy"
    np.save(path, chair)
    window = new_window()
    window.show_page("edit")
    page = window.edit
    page.tabs.setCurrentIndex(2)
    page.partial_edit.setText(str(path))
    page.cut_check.setChecked(True)
    page.complete_n.setValue(4)
    page.complete()
    wait_until(lambda: len(page.results["complete"]) == 4)
    settle(window)
    window.viewport.reset_view()
    settle(window, 2.0)
    capture(window, "edit")
    window.close()


def main(run_dir: str) -> None:
    """Datasets → Train (live) → Sample → Evaluate."""
    window = new_window()

    window.datasets.open(DATA)
    wait_until(lambda: window.datasets.dataset is not None)
    settle(window)
    window.datasets._show_item(window.datasets.grid.item(1))
    settle(window, 2.0)
    capture(window, "datasets")

    window.show_page("train")
    page = window.train
    form = page.form
    form.classes_edit.setText("chair,sofa")  # class conditioning needs two classes at least (issue 24)
    form.preset_combo.setCurrentText("tiny")
    form.ae_steps.setValue(40)
    form.ldm_steps.setValue(400)
    form.max_shapes.setValue(32)
    form.out_edit.setText(str(Path(tempfile.mkdtemp()) / "chair_run"))
    page.start()
    wait_until(lambda: page.curves.points("ldm") >= 8 and page.previews_shown >= 1)  # tiny: a preview per 20 steps
    wait_until(lambda: window.render_thread.idle)
    capture(window, "train")
    page.cancel()
    settle(window)

    sample_page(window, run_dir, 12, 3)
    sample = window.sample
    capture(window, "sample")
    sample.show_nearest()  # the third chair beside the training chair nearest to it
    wait_until(lambda: sample.nearest is not None, timeout=600)
    settle(window, 2.0)
    capture(window, "sample_nearest")

    window.show_page("evaluate")
    evaluate = window.evaluate
    evaluate.set_samples(Path(sample.result.out_dir) / "samples.npy")
    evaluate.n_spin.setValue(12)
    evaluate.class_combo.setCurrentText("chair")
    evaluate.metric_boxes["jsd"].setChecked(True)
    evaluate.evaluate()
    wait_until(lambda: len(evaluate.results) == 2 and evaluate.run_button.isEnabled(), timeout=1800)
    evaluate.histogram_metric.setCurrentText("CD")
    evaluate.show_pair(2)  # as a click on the third sample's dot under the histogram does
    wait_until(lambda: evaluate.pair is not None, timeout=600)
    settle(window, 2.0)
    capture(window, "evaluate")
    window.close()


if __name__ == "__main__":
    only = {"--sample-splats": sample_splats, "--edit": edit_page, "--train-recipe": train_recipe}
    only.get(sys.argv[1], lambda: main(sys.argv[1]))()
    from app.viewport.render_thread import RenderThread
    RenderThread.release_shared()
