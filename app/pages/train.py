"""Train page: the set-up form (:mod:`app.pages.train_form`), Start / Resume / Cancel, and a monitor with live
loss/learning-rate curves, steps/s and ETA (TrainJob's Metric and Progress events) and preview samples of the
denoiser after each stage-2 checkpoint (its Preview events)."""
from __future__ import annotations

import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QFileDialog, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QWidget)

from app import settings
from app.dialogs import show_error
from app.icons import icon
from app.pages.base import Page, Studio
from app.plots import DecadeLogAxis, legend_below
from app.pages.train_form import RunForm
from core.choices import PREVIEW_SAMPLER, PREVIEW_STEPS
from core.jobs.train import TrainJob

#: curve colours per (stage, value): a colour-blind-safe pair (Okabe–Ito orange and blue) plus their light tints
CURVE_COLORS = {("ae", "loss"): "#E69F00", ("ae", "val_loss"): "#F5C767",
                ("ldm", "loss"): "#56B4E9", ("ldm", "val_loss"): "#A7D8F5"}


#: the monitor keeps at least this much height; the set-up form (its taller Advanced tab) and its buttons fit
#: above it at 1280x800 without scrolling
CURVES_MIN_HEIGHT = 110
#: edge of a preview sample's picture in the strip under the curves
PREVIEW_THUMB = 60
PREVIEW_HINT = "Preview samples of the denoiser appear here after each stage-2 checkpoint."


class LiveCurves(QWidget):
    """Two plots side by side: losses of both stages (log scale) and the learning rate, appended point by point."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="#1c1f24", foreground="#aab2bf")
        # axis labels, not titles, and a one-row legend of short names: at 1280x800 under the form's Advanced tab
        # the curves get ~110 px, which a title and a two-row legend left almost no data area of
        self.loss_plot = pg.PlotWidget(axisItems={"left": DecadeLogAxis("left")})
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.setLogMode(y=True)
        legend_below(self.loss_plot, columns=4)
        self.loss_plot.showGrid(x=True, y=True, alpha=0.15)
        self.lr_plot = pg.PlotWidget()
        self.lr_plot.setLabel("left", "learning rate")
        self.lr_plot.showGrid(x=True, y=True, alpha=0.15)

        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.data: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 0, 0)
        layout.addWidget(self.lr_plot, 0, 1)
        layout.setColumnStretch(0, 3)
        layout.setColumnStretch(1, 2)

    def clear(self) -> None:
        """Forget every curve (a new run starts)."""
        for plot in (self.loss_plot, self.lr_plot):
            for curve in [c for k, c in self.curves.items()]:
                plot.removeItem(curve)
        self.curves.clear()
        self.data.clear()

    def add(self, stage: str, step: int, values: dict[str, float]) -> None:
        """Append one logged step; the LDM stage is drawn after the AE stage on a shared step axis."""
        for name, value in values.items():
            if name not in ("loss", "val_loss", "lr") or value != value:
                continue
            key = (stage, name)
            if key not in self.curves:
                plot = self.lr_plot if name == "lr" else self.loss_plot
                color = CURVE_COLORS.get(key, "#E69F00" if stage == "ae" else "#56B4E9")
                style = {"pen": pg.mkPen(color, width=2)}
                if name == "val_loss":
                    style.update(symbol="o", symbolSize=5, symbolBrush=color)
                self.curves[key] = plot.plot(name=stage + (" val" if name == "val_loss" else ""), **style)
                self.data[key] = ([], [])
            xs, ys = self.data[key]
            xs.append(step)
            ys.append(max(value, 1e-12) if name != "lr" else value)
            self.curves[key].setData(xs, ys)

    def points(self, stage: str, name: str = "loss") -> int:
        """How many points the curve (stage, name) holds."""
        return len(self.data.get((stage, name), ([], []))[0])


class TrainPage(Page):
    """Configure and start a TrainJob, or resume one; watch it train."""

    title = "Train"
    subtitle = "Two stages: an autoencoder compresses shapes into latents, then a diffusion model learns the latents."

    def __init__(self, studio: Studio, parent=None) -> None:
        super().__init__(studio, parent)
        self.runner = None
        self._started = 0.0
        self._totals: dict[str, int] = {}
        self.previews_shown = 0

        self.form = RunForm()
        self.start_button = QPushButton(icon("play"), "Start training")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start)
        self.resume_button = QPushButton(icon("resume"), "Resume run…")
        self.resume_button.setToolTip("Continue a run from its last checkpoints; AE / LDM steps set on the Advanced "
                                      "tab become its new totals")
        self.resume_button.clicked.connect(self._ask_resume)
        self.cancel_button = QPushButton(icon("stop"), "Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.resume_button, self.cancel_button):
            buttons.addWidget(button)

        self.curves = LiveCurves()
        self.stage_label = QLabel("idle")
        self.speed_label = QLabel("—")
        self.eta_label = QLabel("—")
        stats = QHBoxLayout()
        for caption, label in (("stage", self.stage_label), ("steps/s", self.speed_label), ("ETA", self.eta_label)):
            name = QLabel(caption)
            name.setObjectName("dim")
            label.setObjectName("stat")
            stats.addWidget(name)
            stats.addWidget(label)
            stats.addSpacing(18)
        stats.addStretch(1)
        self.curves.setMinimumHeight(CURVES_MIN_HEIGHT)
        self.preview_label = QLabel(PREVIEW_HINT)
        self.preview_label.setObjectName("dim")
        self.preview_label.setWordWrap(True)
        self.preview_label.setFixedWidth(170)
        self.preview_strip = QListWidget()
        self.preview_strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.preview_strip.setFlow(QListWidget.Flow.LeftToRight)
        self.preview_strip.setWrapping(False)
        self.preview_strip.setMovement(QListWidget.Movement.Static)
        self.preview_strip.setIconSize(QSize(PREVIEW_THUMB, PREVIEW_THUMB))
        self.preview_strip.setFixedHeight(PREVIEW_THUMB + 30)
        self.preview_strip.currentRowChanged.connect(self._show_preview)
        self._preview_shapes: list = []
        self.body.addWidget(self.form)
        self.body.addLayout(buttons)
        self.body.addLayout(stats)
        self.body.addWidget(self.curves, 1)
        previews = QHBoxLayout()
        previews.addWidget(self.preview_label)
        previews.addWidget(self.preview_strip, 1)
        self.body.addLayout(previews)
        self.thumbnails = studio.viewport.render_thread.thumbnail_client(self)
        self.thumbnails.ready.connect(self._on_thumbnail)

    def set_dataset(self, dataset) -> None:
        """Pre-fill the data step with the dataset opened on the Datasets page."""
        self.form.set_dataset(dataset.root)

    def _ask_resume(self) -> None:
        start = (settings.recent("runs") or [str(Path.home())])[0]
        path = QFileDialog.getExistingDirectory(self, "Run folder to resume", start)
        if path:
            self.resume(path)

    def start(self) -> None:
        """Start a new run from the form."""
        out = self.form.out_edit.text().strip()
        if not out:
            show_error(self, "Train", "Choose an output folder for the run (step 6)")
            return
        self._launch(TrainJob(out, self.form.spec(), previews=True), out)

    def resume(self, run_dir: str | Path) -> None:
        """Continue the run in ``run_dir`` from its last checkpoints, to the step totals the form asks for."""
        self._launch(TrainJob(run_dir, self.form.resume_spec(), previews=True), str(run_dir))

    def cancel(self) -> None:
        """Stop the running training (it keeps a loadable checkpoint)."""
        if self.runner is not None:
            self.runner.cancel()

    def _launch(self, job, run_dir: str) -> None:
        self.curves.clear()
        self._started, self._totals = time.perf_counter(), {}
        self.previews_shown = 0
        self.preview_strip.clear()
        self.preview_label.setText(PREVIEW_HINT)
        self.runner = self.studio.jobs.start(job)
        self.runner.metric.connect(self._on_metric)
        self.runner.progress.connect(self._on_progress)
        self.runner.preview.connect(self._on_preview)
        self.runner.done.connect(lambda result, d=run_dir: settings.remember("runs", d))
        self.runner.finished.connect(self._on_finished)
        self.start_button.setEnabled(False)
        self.resume_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.stage_label.setText("starting")

    def _on_preview(self, event) -> None:
        """New samples of the current denoiser: pictures in the strip, the first one in the viewport."""
        if not event.shapes:
            return
        self.previews_shown += 1
        self._preview_shapes = list(event.shapes)
        self.preview_label.setText(f"Previews at stage-2 step {event.step:,} / {event.total:,}: EMA denoiser, "
                                   f"{PREVIEW_STEPS} {PREVIEW_SAMPLER.upper()} steps. Click one to view it.")
        self.preview_strip.blockSignals(True)
        self.preview_strip.clear()
        self.preview_strip.blockSignals(False)
        self.thumbnails.cancel()  # pictures of the previous round that are still queued would be drawn for nothing
        style = self.studio.viewport.style
        for index, shape in enumerate(event.shapes):
            item = QListWidgetItem(f"#{index}")
            item.setSizeHint(QSize(PREVIEW_THUMB + 8, PREVIEW_THUMB + 22))
            self.preview_strip.addItem(item)
            self.thumbnails.request((self.previews_shown, index), shape, style, PREVIEW_THUMB)
        self.studio.viewport.show_shape(event.shapes[0], reset_view=self.previews_shown == 1)

    def _on_thumbnail(self, key: tuple[int, int], image: QImage) -> None:
        """A preview's picture: ``key`` is (preview round, row); a picture of an earlier round is stale."""
        round_shown, row = key
        if round_shown == self.previews_shown and row < self.preview_strip.count():
            self.preview_strip.item(row).setIcon(QIcon(QPixmap.fromImage(image)))

    def _show_preview(self, row: int) -> None:
        if 0 <= row < len(self._preview_shapes):
            self.studio.viewport.show_shape(self._preview_shapes[row])

    def _on_metric(self, metric) -> None:
        self.curves.add(metric.stage, metric.step, metric.values)
        self.stage_label.setText(metric.stage)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        elapsed = time.perf_counter() - self._started
        key = message or "train"
        if key not in self._totals:  # a new stage: restart the clock for its rate
            self._totals[key] = total
            self._started, elapsed = time.perf_counter(), 0.0
        if done and elapsed > 0:
            rate = done / elapsed
            self.speed_label.setText(f"{rate:.2f}")
            self.eta_label.setText(_duration((total - done) / rate) if total else "—")

    def _on_finished(self) -> None:
        self.start_button.setEnabled(True)
        self.resume_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.stage_label.setText("idle")
        self.runner = None


def _duration(seconds: float) -> str:
    """'1 h 02 min', '3 min 05 s' or '12 s'."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
