"""Frames the app's viewport shows while sampling one chair, and orbiting speed, per built-in model.

In the real window (offscreen Qt, or Xvfb for a real one): the Sample page with MODEL, one chair, 20
steps of the sampler the page picks for it (the model's own: DPM-Solver++ or its SDE variant, one network call
a step either way); after the renderer process is up, each of three Generates is timed from the click to
its first frame in the viewport, with the frames shown before the result and the previews sent; then 20
orbit steps are drawn one after the other. Not part of ``python -m core bench`` (core never imports Qt).
Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/app_sampling_frames.py builtin:splats`` (one line each).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

TRIALS, ORBIT_FRAMES, TIMEOUT_S = 3, 20, 300


def main(model: str) -> None:
    """Print the first-frame time, frames during sampling and orbit frames/s of ``model``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.viewport.render_thread import RenderThread
    from core.shapes import PointCloud

    app = QApplication(sys.argv[:1])
    window = MainWindow()
    window.resize(1280, 800)
    window.show()

    def wait(condition) -> None:
        end = time.monotonic() + TIMEOUT_S
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the app did not answer in time")
            app.processEvents()
            time.sleep(0.005)

    page, viewport = window.sample, window.viewport
    wait(lambda: page.model_combo.findText(model) >= 0)
    page.model_combo.setCurrentText(model)
    wait(lambda: page.class_combo.findText("chair") >= 0)
    page.class_combo.setCurrentText("chair")
    page.count.setValue(1)
    page.steps.setValue(20)
    viewport.show_shape(PointCloud(np.eye(3)))  # the renderer process is up before anything is timed
    wait(lambda: viewport.render_thread.idle)
    stamps: list[float] = []
    viewport.frame_shown.connect(lambda: stamps.append(time.monotonic()))
    for _ in range(TRIALS):
        stamps.clear()
        page.result = None
        start = time.monotonic()
        page.generate_button.click()
        wait(lambda: page.result is not None)
        done = time.monotonic()
        during = sum(stamp <= done for stamp in stamps)
        print(f"{model}: first frame {stamps[0] - start:.2f} s after Generate, sampling {done - start:.2f} s, "
              f"{during} frames shown for {page.previews_shown} previews")
        wait(lambda: viewport.render_thread.idle)
    start = time.monotonic()
    for _ in range(ORBIT_FRAMES):
        shown = len(stamps)
        viewport.canvas.camera = viewport.canvas.camera.orbit(10, 0)
        viewport.canvas.camera_changed.emit(viewport.canvas.camera)
        wait(lambda: len(stamps) > shown)
    print(f"{model}: orbit {ORBIT_FRAMES / (time.monotonic() - start):.1f} frames/s")
    window.shutdown()
    RenderThread.release_shared()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "builtin:splats")
