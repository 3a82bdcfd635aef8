"""Evaluate page: score generated samples against a reference set, with the oracle (real train shapes) beside
them as the bound no generator can beat; a histogram of each sample's distance to its nearest reference;
export the result as JSON or CSV."""
from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox,
                               QTabWidget, QVBoxLayout, QWidget,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSizePolicy, QSpinBox,
                               QTableWidget, QTableWidgetItem)

from app.dialogs import show_error
from app.icons import icon
from app.pages.base import Page, Studio
from core.io import atomic_write
from core.jobs.evaluate import EvalJob
from core.jobs.nearest import NearestReferenceJob
from core.jobs.results import ScoredShapes
from core.render.pairs import side_by_side

METRICS = ("cd", "emd", "jsd", "iou")
DEFAULT_METRICS = ("cd", "jsd")
ALL = "all"
#: bar colours: samples (Okabe–Ito blue) and oracle (Okabe–Ito bluish green)
SAMPLE_COLOR, ORACLE_COLOR = "#56B4E9", "#009E73"
#: the warning under the results (Okabe–Ito orange)
WARNING_COLOR = "#E69F00"
#: the smallest height of the chart, the table and the histogram (they share what the set-up leaves)
RESULT_MIN_HEIGHT = 100
#: histogram bins of the nearest-reference distances (a few dozen samples fill ~20 bins usefully)
HISTOGRAM_BINS = 20
#: fill opacity of the overlaid histograms (0-255), so the oracle's shows through the samples'
HISTOGRAM_ALPHA = 110
#: metric-table row height: the nine rows of a voxel evaluation fit beside the plots at 1280x800
TABLE_ROW_HEIGHT = 22
#: the samples' clickable dots sit this far below the histogram's zero line (in shape counts)
DOT_ROW = -0.6


class EvaluatePage(Page):
    """Runs an EvalJob on the samples, then one with ``oracle=True``, and tabulates both."""

    title = "Evaluate"
    subtitle = ("MMD / COV / 1-NNA (Chamfer, EMD) and JSD against a reference split; voxels and splats also "
                "floaters and one_piece. The oracle column scores real training shapes: the best a generator can do.")

    def __init__(self, studio: Studio, parent=None) -> None:
        super().__init__(studio, parent)
        self.results: dict[str, dict] = {}
        #: per column, the shapes it scored (for the sample-beside-its-nearest-reference view)
        self.scored: dict[str, ScoredShapes] = {}
        #: (sample index, reference row) of the pair on view
        self.pair: tuple[int, int] | None = None
        self._queue: list[tuple[str, Callable[[], object]]] = []

        box = QGroupBox("Set-up")
        form = QFormLayout(box)
        self.samples_edit = QLineEdit(placeholderText="samples .npy, a folder of PLY files, or a run folder")
        browse = QPushButton(icon("open"), "")
        browse.clicked.connect(self._ask_samples)
        row = QHBoxLayout()
        row.addWidget(self.samples_edit, 1)
        row.addWidget(browse)
        self.ref_edit = QLineEdit(placeholderText="reference dataset")
        self.class_combo = QComboBox(editable=True)
        self.class_combo.addItem(ALL)
        self.split_combo = QComboBox()
        self.split_combo.addItems(["test", "train"])
        self.n_spin = QSpinBox(minimum=0, maximum=100_000, value=32, specialValueText="all")
        self.metric_boxes = {m: QCheckBox(m.upper(), checked=m in DEFAULT_METRICS) for m in METRICS}
        metrics_row = QHBoxLayout()
        for check in self.metric_boxes.values():
            metrics_row.addWidget(check)
        metrics_row.addSpacing(12)
        self.oracle_box = QCheckBox("also score the oracle", checked=True)
        metrics_row.addWidget(self.oracle_box)
        metrics_row.addStretch(1)
        subset = QHBoxLayout()  # one row for class, split and n keeps the results tall enough to read
        for caption, widget, stretch in (("", self.class_combo, 2), ("split", self.split_combo, 1),
                                         ("n", self.n_spin, 1)):
            if caption:
                subset.addWidget(QLabel(caption))
            subset.addWidget(widget, stretch)
        form.addRow("Samples", row)
        form.addRow("Reference", self.ref_edit)
        form.addRow("Class", subset)
        form.addRow("Metrics", metrics_row)
        self.run_button = QPushButton(icon("evaluate"), "Evaluate")
        self.run_button.setObjectName("primary")
        self.run_button.clicked.connect(self.evaluate)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addStretch(1)
        for fmt in ("json", "csv"):
            button = QPushButton(icon("export"), f"Export {fmt.upper()}")
            button.clicked.connect(lambda _=False, f=fmt: self._ask_export(f))
            buttons.addWidget(button)
        form.addRow(buttons)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # results shrink, not the form
        self.body.addWidget(box)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["metric", "samples", "oracle"])
        for column, color in ((1, SAMPLE_COLOR), (2, ORACLE_COLOR)):  # the colour key of both plots
            self.table.horizontalHeaderItem(column).setForeground(QColor(color))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(TABLE_ROW_HEIGHT)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # sized to show every row
        self.chart = pg.PlotWidget(title="COV · 1-NNA (%)")
        self.chart.showGrid(y=True, alpha=0.15)
        self.chart.setMinimumHeight(RESULT_MIN_HEIGHT)
        self.histogram = pg.PlotWidget()
        self.histogram.showGrid(y=True, alpha=0.15)
        self.histogram.setMinimumHeight(RESULT_MIN_HEIGHT)
        self.histogram.getAxis("bottom").enableAutoSIPrefix(False)  # plain distances: no axis label to scale
        self.histogram.setLabel("left", "shapes")
        self.histogram.setLabel("bottom", "click a dot: that sample and its nearest reference")
        self.histogram_metric = QComboBox(toolTip="Distance of the nearest-neighbour histogram")
        self.histogram_metric.currentTextChanged.connect(lambda _: self._draw_histogram())
        self.histogram_note = QLabel("Nearest-reference distances appear after an evaluation")
        self.histogram_note.setObjectName("dim")
        histogram_bar = QHBoxLayout()
        histogram_bar.addWidget(self.histogram_note, 1)
        histogram_bar.addWidget(self.histogram_metric)
        self.histogram_note.setWordWrap(True)
        self.sample_dots = pg.ScatterPlotItem(size=9, pen=pg.mkPen("#1c1f24"), brush=SAMPLE_COLOR, hoverable=True,
                                              tip=lambda x, y, data: f"sample #{data}: {x:.3g}, click to view")
        self.sample_dots.sigClicked.connect(lambda _item, points: self.show_pair(int(points[0].data())))
        distances = QWidget()
        distances_layout = QVBoxLayout(distances)
        distances_layout.setContentsMargins(0, 4, 0, 0)
        distances_layout.addLayout(histogram_bar)
        distances_layout.addWidget(self.histogram, 1)
        # the table shows every metric row; the two plots share the rest as tabs instead of squeezing each other
        self.tabs = QTabWidget()
        self.tabs.addTab(distances, "Nearest reference")
        self.tabs.addTab(self.chart, "COV · 1-NNA")
        results = QHBoxLayout()
        results.addWidget(self.table)  # as wide as its columns (see _on_result); the plots take the rest
        results.addWidget(self.tabs, 1)
        self.body.addLayout(results, 1)
        self.note = QLabel("Better is lower MMD and JSD, higher COV, 1-NNA closer to 50 %.")
        self.note.setObjectName("dim")
        self.note.setWordWrap(True)  # a long reference path must not widen the window
        self.body.addWidget(self.note)
        self._draw_histogram()

    def set_dataset(self, dataset) -> None:
        """Use the dataset opened on the Datasets page as the reference."""
        self.ref_edit.setText(str(dataset.root))
        current = self.class_combo.currentText()
        self.class_combo.clear()
        self.class_combo.addItems([ALL, *dataset.classes])
        self.class_combo.setCurrentText(current)

    def set_samples(self, path: str | Path) -> None:
        """Evaluate these samples next (the Sample page hands over its output)."""
        self.samples_edit.setText(str(path))

    def _ask_samples(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Samples", self.samples_edit.text(), "Arrays (*.npy *.npz)")
        if path:
            self.samples_edit.setText(path)

    def evaluate(self) -> None:
        """Queue the samples' evaluation and, if asked, the oracle's; they run one after the other."""
        ref = self.ref_edit.text().strip()
        if not ref:
            show_error(self, "Evaluate", "Choose a reference dataset (open one on the Datasets page)")
            return
        class_name = self.class_combo.currentText()
        common = dict(ref=ref, split=self.split_combo.currentText(),
                      class_name=None if class_name in ("", ALL) else class_name,
                      n=self.n_spin.value() or None,
                      metrics=tuple(m for m, box in self.metric_boxes.items() if box.isChecked()) or None)
        self.results.clear()
        self.scored.clear()
        self._queue = []
        samples = self.samples_edit.text().strip()
        if samples:
            self._queue.append(("samples", lambda: EvalJob(samples, **common)))
        if self.oracle_box.isChecked():  # made when its turn comes: it takes the samples' representation
            self._queue.append(("oracle", lambda: EvalJob(None, oracle=True, representation=self._oracle_representation(),
                                                          **common)))
        self.run_button.setEnabled(False)
        self._next()

    def _next(self) -> None:
        if not self._queue:
            self.run_button.setEnabled(True)
            return
        column, make_job = self._queue.pop(0)
        runner = self.studio.jobs.start(make_job())
        runner.done.connect(lambda result, c=column: self._keep(c, result))
        runner.failed.connect(lambda failed: self._queue.clear())
        runner.finished.connect(self._next)

    def _keep(self, column: str, result) -> None:
        """Tabulate an EvalResult and keep the shapes it scored for the nearest-reference view."""
        if result.scored is not None:
            self.scored[column] = result.scored
        self._on_result(column, result.to_json())

    def _oracle_representation(self) -> str | None:
        """The train shapes as the samples are (voxels, splats), so both columns get the same metrics and
        pieces, and voxels whenever IoU is asked for (only grids have it); point clouds and meshes compare with
        the data's own points."""
        representation = self.results.get("samples", {}).get("representation")
        if representation in ("voxels", "splats"):
            return representation
        return "voxels" if self.metric_boxes["iou"].isChecked() else None

    def _on_result(self, column: str, result: dict) -> None:
        self.results[column] = result
        names = sorted({k for r in self.results.values() for k in r.get("metrics", {})})
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            for col, key in ((1, "samples"), (2, "oracle")):
                value = self.results.get(key, {}).get("metrics", {}).get(name)
                item = QTableWidgetItem("—" if value is None else _format(name, value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.setMinimumHeight(self.table.horizontalHeader().height() + len(names) * TABLE_ROW_HEIGHT
                                    + 2 * self.table.frameWidth())
        for col, key in ((1, "samples"), (2, "oracle")):
            n = self.results.get(key, {}).get("n_samples")
            self.table.horizontalHeaderItem(col).setText(key if n is None else f"{key}\nn={n}")
        self.table.resizeColumnsToContents()
        self.table.setFixedWidth(self.table.horizontalHeader().length() + 2 * self.table.frameWidth())
        self._draw_chart(names)
        self._fill_histogram_metrics()
        self.note.setText(self._summary())

    def _summary(self) -> str:
        """The real n on both sides (samples, oracle shapes, references) and, when the samples are fewer than
        the references, the ceiling that puts on COV (each sample covers at most one reference)."""
        first = next(iter(self.results.values()))
        counts = [f"{r['n_samples']} {'oracle train shapes' if key == 'oracle' else 'samples'}"
                  for key, r in self.results.items() if "n_samples" in r]
        n_ref = first.get("n_ref")
        where = f"{first.get('class') or 'all classes'}, {first.get('split')} split of {Path(str(first.get('ref'))).name}"
        text = f"{' and '.join(counts) or 'shapes'} against {n_ref if n_ref is not None else '?'} reference shapes ({where})"
        few = {key: r["n_samples"] for key, r in self.results.items() if n_ref and r.get("n_samples", n_ref) < n_ref}
        if few:
            ceilings = ", ".join(f"{key} ≤ {100 * n / n_ref:.0f} %" for key, n in few.items())
            text += (f"<br><span style='color:{WARNING_COLOR}'>⚠ fewer shapes than references: COV cannot exceed "
                     f"n / n_ref ({ceilings})</span>")
        return text

    def _draw_chart(self, names: list[str]) -> None:
        """COV and 1-NNA in percent (same scale, 50 % is the ideal 1-NNA); distances stay in the table."""
        self.chart.clear()
        names = [n for n in names if n.startswith(("COV", "1-NNA"))]
        width = 0.38
        for offset, key, color in ((-width / 2, "samples", SAMPLE_COLOR), (width / 2, "oracle", ORACLE_COLOR)):
            values = [self.results.get(key, {}).get("metrics", {}).get(n) for n in names]
            xs = [i + offset for i, v in enumerate(values) if v is not None]
            heights = [100 * float(v) for v in values if v is not None]
            if xs:
                self.chart.addItem(pg.BarGraphItem(x=xs, height=heights, width=width, brush=color, name=key))
        self.chart.addItem(pg.InfiniteLine(pos=50, angle=0, pen=pg.mkPen("#aab2bf", style=Qt.PenStyle.DashLine)))
        self.chart.setYRange(0, 100)
        self.chart.getAxis("bottom").setTicks([list(enumerate(names))])

    def _fill_histogram_metrics(self) -> None:
        """Offer every distance that some result has per-sample nearest distances for (EvalJob's ``nearest``)."""
        keys = sorted({k for r in self.results.values() for k in (r.get("nearest") or {})})
        current = self.histogram_metric.currentText()
        self.histogram_metric.blockSignals(True)
        self.histogram_metric.clear()
        self.histogram_metric.addItems(keys)
        if current in keys:
            self.histogram_metric.setCurrentText(current)
        self.histogram_metric.blockSignals(False)
        self._draw_histogram()

    def nearest(self, column: str, metric: str) -> np.ndarray | None:
        """Per-sample distances to the nearest reference of one result column, or None when it has none."""
        values = (self.results.get(column, {}).get("nearest") or {}).get(metric)
        return None if values is None else np.asarray(values, dtype=np.float64).ravel()

    def _draw_histogram(self) -> None:
        """Samples' and oracle's nearest-reference distances over shared bins: a generator whose samples sit
        much closer to the references than the oracle's memorises them; much further, it misses them."""
        self.histogram.clear()
        metric = self.histogram_metric.currentText()
        columns = {c: self.nearest(c, metric) for c in ("samples", "oracle")} if metric else {}
        columns = {c: v[np.isfinite(v)] for c, v in columns.items() if v is not None}
        if not any(len(v) for v in columns.values()):
            self.histogram.setTitle("nearest-reference distances")
            self.histogram_note.setText("This evaluation gives no per-sample nearest distances"
                                        if self.results else "Nearest-reference distances appear after an evaluation")
            return
        edges = np.histogram_bin_edges(np.concatenate(list(columns.values())), bins=HISTOGRAM_BINS)
        for column, color in (("samples", SAMPLE_COLOR), ("oracle", ORACLE_COLOR)):
            if column in columns and len(columns[column]):
                counts, _ = np.histogram(columns[column], bins=edges)
                fill = pg.mkColor(color)
                fill.setAlpha(HISTOGRAM_ALPHA)
                self.histogram.plot(edges, counts, stepMode="center", fillLevel=0, brush=fill,
                                    pen=pg.mkPen(color, width=2), name=column)
        self._draw_sample_dots(metric)
        self.histogram.setTitle(f"{metric} to the nearest reference")
        medians = " · ".join(f"<span style='color:{SAMPLE_COLOR if c == 'samples' else ORACLE_COLOR}'>"
                             f"{c}</span>: median {np.median(v):.3g} (n={len(v)})" for c, v in columns.items() if len(v))
        self.histogram_note.setText(medians)

    def _draw_sample_dots(self, metric: str) -> None:
        """One dot per sample under the histogram, at its distance: clicking it shows that sample beside its
        nearest reference in the viewport (the memorisation check, without the CLI)."""
        values = self.nearest("samples", metric)
        if values is None or "samples" not in self.scored:
            return
        shown = np.flatnonzero(np.isfinite(values))
        self.sample_dots.setData(x=values[shown], y=np.full(len(shown), DOT_ROW), data=shown.tolist())
        self.histogram.addItem(self.sample_dots)

    def show_pair(self, index: int):
        """Show sample ``index`` beside its nearest reference under the histogram's distance (a job finds it);
        returns the job's runner, or None before an evaluation that kept its shapes."""
        scored, metric = self.scored.get("samples"), self.histogram_metric.currentText()
        if scored is None or not metric:
            return None
        runner = self.studio.jobs.start(NearestReferenceJob(scored, index, metric))
        runner.done.connect(lambda found, i=index, m=metric: self._show_pair(i, m, *found))
        return runner

    def _show_pair(self, index: int, metric: str, row: int, distance: float) -> None:
        scored = self.scored["samples"]
        self.pair = (index, row)
        self.studio.viewport.show_shape(
            side_by_side(scored.shape(scored.samples[index]), scored.shape(scored.refs[row])),
            caption=f"sample #{index} (left) · nearest reference {scored.ref_names[row]} (right) · "
                    f"{metric} {distance:.3g}")

    def histogram_counts(self) -> dict[str, int]:
        """How many shapes each drawn histogram holds (for tests)."""
        return {item.name(): int(round(float(np.sum(item.yData)))) for item in self.histogram.listDataItems()
                if isinstance(item, pg.PlotDataItem)}

    def _ask_export(self, fmt: str) -> None:
        if not self.results:
            show_error(self, "Export", "Nothing to export yet: run an evaluation first")
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", f"eval.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if path:
            self.export(path)

    def export(self, path: str | Path) -> Path:
        """Write the results: JSON (both result objects) or CSV (metric, samples, oracle), atomically."""
        path = Path(path)
        with atomic_write(path) as temporary:
            if path.suffix.lower() == ".csv":
                names = sorted({k for r in self.results.values() for k in r.get("metrics", {})})
                with open(temporary, "w", newline="", encoding="utf-8") as stream:
                    writer = csv.writer(stream)
                    writer.writerow(["metric", "samples", "oracle"])
                    for name in names:
                        writer.writerow([name, *[self.results.get(k, {}).get("metrics", {}).get(name, "")
                                                 for k in ("samples", "oracle")]])
            else:
                serialisable = {k: {kk: vv for kk, vv in r.items() if kk != "array"} for k, r in self.results.items()}
                text = json.dumps(serialisable, indent=2, default=lambda value: np.asarray(value).tolist())
                Path(temporary).write_text(text + "\n", encoding="utf-8")
        return path


def _format(name: str, value: float) -> str:
    """Percentages for COV/1-NNA and the fragmentation shares, scientific notation for distances."""
    if name.startswith(("COV", "1-NNA")) or name in ("floaters", "one_piece"):
        return f"{100 * value:.1f} %"
    return f"{value:.3e}"
