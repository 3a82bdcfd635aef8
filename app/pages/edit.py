"""Edit page: interpolate between two shapes, vary one, complete a partial one, through a trained model.

Every edit runs as a core job (:mod:`core.jobs.edit`) in the jobs panel, with progress and cancel. The
results are kept in memory, so the slider under each tab scrubs through them without recomputing.
A completion is drawn with the kept (input) part in another colour.

An input is a shape file, or a shape picked from another page of the window: the Datasets page's selected
shape (loaded by a job) or the Sample page's selected sample (already in memory).
"""
from __future__ import annotations

import tempfile

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QMenu, QProgressBar, QPushButton, QSlider, QSpinBox, QTabWidget,
                               QToolButton, QWidget)

from app.icons import icon
from app.pages.base import Page, Studio
from app.tasks import LoadShapesJob
from core.errors import InputError
from core.jobs import edit_job
from core.jobs.edit_inputs import Cut, Source, read_input, surface_points
from core.shapes import PointCloud, Shape
from core.training.pretrained import builtin_folders

#: strength slider: hundredths of the schedule, from 0.01 to 1 (SDEdit's t₀)
STRENGTH_STEPS = 100
DEFAULT_STRENGTH = 30
#: colours of a completion: the shape the model filled in, and the kept part the user gave
FILLED_COLOR, KEPT_COLOR = (0.62, 0.68, 0.78), (0.95, 0.55, 0.15)
#: the viewport's colouring that draws a cloud's own colours
OWN_COLORS = "uniform"
SHAPE_FILTER = "Shapes (*.ply *.npy *.npz *.obj *.off *.stl *.glb *.pcd)"
TABS = ("interpolate", "vary", "complete")


class EditPage(Page):
    """Three edits in tabs; each computes its shapes once and a slider shows them one by one."""

    title = "Edit"
    subtitle = ("Work with given shapes through a model: interpolate between two, make variations of one, "
                "complete a partial one. Scrub the slider to see each result.")

    def __init__(self, studio: Studio, parent=None) -> None:
        super().__init__(studio, parent)
        self.runner = None
        self.results: dict[str, list] = {tab: [] for tab in TABS}
        self.kept: np.ndarray | None = None

        model_box = QGroupBox("Model")
        form = QFormLayout(model_box)
        self.model_combo = QComboBox(editable=True)
        self.model_combo.addItems(list(builtin_folders()))
        self.model_combo.setToolTip("A run folder or builtin:NAME")
        self.class_edit = QLineEdit("chair")
        self.class_edit.setToolTip("Class to condition on (empty: unconditional)")
        self.steps_spin = _spin(1, 200, 20, "DDIM steps of a full denoising run")
        form.addRow("Model", self.model_combo)
        form.addRow("Class", self.class_edit)
        form.addRow("Steps", self.steps_spin)
        self.body.addWidget(model_box)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._interpolate_tab(), "Interpolate")
        self.tabs.addTab(self._vary_tab(), "Vary")
        self.tabs.addTab(self._complete_tab(), "Complete")
        self.tabs.currentChanged.connect(lambda _: self._show(self._tab()))
        self.body.addWidget(self.tabs)

        run_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton(icon("stop"), "Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.runner and self.runner.cancel())
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)
        self.body.addLayout(run_row)
        self.status = QLabel("")
        self.status.setObjectName("dim")
        self.status.setWordWrap(True)
        self.body.addWidget(self.status)
        self.body.addStretch(1)

    # ------------------------------------------------------------------ tabs

    def _interpolate_tab(self) -> QWidget:
        tab, form = _tab()
        self.a_field, self.b_field = ShapeField(self), ShapeField(self)
        self.a_edit, self.b_edit = self.a_field.edit, self.b_field.edit
        form.addRow("Shape A", self.a_field)
        form.addRow("Shape B", self.b_field)
        self.k_spin = _spin(2, 64, 8, "Shapes along the way, A and B included")
        form.addRow("Shapes", self.k_spin)
        self.interpolate_button = QPushButton("Interpolate")
        self.interpolate_button.clicked.connect(self.interpolate)
        form.addRow(self.interpolate_button)
        self.sliders = {"interpolate": _result_slider(self, "interpolate")}
        form.addRow("A → B", self.sliders["interpolate"])
        return tab

    def _vary_tab(self) -> QWidget:
        tab, form = _tab()
        self.shape_field = ShapeField(self)
        self.shape_edit = self.shape_field.edit
        form.addRow("Shape", self.shape_field)
        self.strength_slider = QSlider(Qt.Orientation.Horizontal)
        self.strength_slider.setRange(1, STRENGTH_STEPS)
        self.strength_slider.setValue(DEFAULT_STRENGTH)
        self.strength_label = QLabel()
        self.strength_slider.valueChanged.connect(
            lambda v: self.strength_label.setText(f"{v / STRENGTH_STEPS:.2f}"))
        self.strength_label.setText(f"{DEFAULT_STRENGTH / STRENGTH_STEPS:.2f}")
        row = QHBoxLayout()
        row.addWidget(self.strength_slider, 1)
        row.addWidget(self.strength_label)
        form.addRow("Strength", row)
        self.vary_n = _spin(1, 32, 4, "Variations to make")
        form.addRow("Variations", self.vary_n)
        self.vary_button = QPushButton("Make variations")
        self.vary_button.clicked.connect(self.vary)
        form.addRow(self.vary_button)
        self.sliders["vary"] = _result_slider(self, "vary")
        form.addRow("Variation", self.sliders["vary"])
        return tab

    def _complete_tab(self) -> QWidget:
        tab, form = _tab()
        self.partial_field = ShapeField(self)
        self.partial_edit = self.partial_field.edit
        form.addRow("Partial shape", self.partial_field)
        self.cut_check = QCheckBox("Cut away the half x > centre first (the plane x = centre)")
        form.addRow(self.cut_check)
        self.complete_n = _spin(1, 32, 4, "Completions to make")
        form.addRow("Completions", self.complete_n)
        self.complete_button = QPushButton("Complete")
        self.complete_button.clicked.connect(self.complete)
        form.addRow(self.complete_button)
        self.sliders["complete"] = _result_slider(self, "complete")
        form.addRow("Completion", self.sliders["complete"])
        return tab

    # ------------------------------------------------------------------ jobs

    def _options(self) -> dict:
        """The model options every edit shares."""
        return {"class_name": self.class_edit.text().strip() or None, "steps": self.steps_spin.value(),
                "fmt": "npy"}

    def interpolate(self):
        """Compute the K shapes from A to B once; the slider then scrubs through them."""
        job = edit_job("interpolate")(self.model_combo.currentText(), self.a_field.source(), self.b_field.source(),
                                      _scratch(), n=self.k_spin.value(), **self._options())
        return self._start("interpolate", job)

    def vary(self):
        """Make the variations at the slider's strength."""
        strength = self.strength_slider.value() / STRENGTH_STEPS
        return self._start("vary", edit_job("vary")(self.model_combo.currentText(), self.shape_field.source(),
                                                    strength, _scratch(), n=self.vary_n.value(), **self._options()))

    def complete(self):
        """Complete the partial shape (cut by the plane first when asked, and the job told where)."""
        try:
            points = surface_points(read_input(self.partial_field.source())).astype(np.float32)
        except InputError as error:
            self.status.setText(str(error))
            return None
        partial, cut = self.partial_field.source(), None
        if self.cut_check.isChecked():
            cut = Cut(0, float(points[:, 0].min() + points[:, 0].max()) / 2)
            points = points[cut.kept(points)]
            partial = PointCloud(points)
        self.kept = points
        return self._start("complete", edit_job("complete")(self.model_combo.currentText(), partial, _scratch(),
                                                            n=self.complete_n.value(), cut=cut, **self._options()))

    # ------------------------------------------------------------------ inputs from the other pages

    def use_dataset_shape(self, field: "ShapeField"):
        """Load the Datasets page's selected shape in a job, in the representation that page shows, and make it
        ``field``'s input."""
        datasets = self.window().pages["datasets"]
        item = datasets.grid.currentItem() if datasets.dataset is not None else None
        if item is None:
            self.status.setText("Select a shape on the Datasets page first")
            return None
        index = item.data(Qt.ItemDataRole.UserRole)
        name = f"dataset: {datasets.dataset.records[index].name}"
        runner = self.studio.jobs.start(LoadShapesJob(datasets.dataset, [index], datasets.repr_combo.currentText()))
        runner.preview.connect(lambda event: field.set_shape(event.shapes[0], name))
        return runner

    def use_selected_sample(self, field: "ShapeField") -> None:
        """Make the Sample page's selected sample ``field``'s input."""
        samples = self.window().pages["sample"]
        row = samples.gallery.currentRow()
        if samples.result is None or not 0 <= row < len(samples.result.shapes):
            self.status.setText("Generate samples and select one on the Sample page first")
            return
        field.set_shape(samples.result.shapes[row], f"sample #{row}")

    def _start(self, tab: str, job):
        """Run ``job`` in the jobs panel; its shapes become ``tab``'s results."""
        self.runner = self.studio.jobs.start(job)
        self._set_busy(True)
        self.status.setText(f"{job.name}: running")
        self.runner.progress.connect(self._on_progress)
        self.runner.done.connect(lambda result: self._on_done(tab, result))
        self.runner.failed.connect(lambda failed: self.status.setText(failed.error.splitlines()[0]))
        self.runner.finished.connect(lambda: self._set_busy(False))
        return self.runner

    def _set_busy(self, busy: bool) -> None:
        for button in (self.interpolate_button, self.vary_button, self.complete_button):
            button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.runner = None

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{message} {done}/{total}")

    def _on_done(self, tab: str, result) -> None:
        self.results[tab] = list(result["shapes"])
        slider = self.sliders[tab]
        slider.setRange(0, len(self.results[tab]) - 1)
        slider.setValue(0)
        self.status.setText(f"{len(self.results[tab])} shapes in {result['out_dir']}")
        self._show(tab)

    # ------------------------------------------------------------------ viewport

    def _tab(self) -> str:
        return TABS[self.tabs.currentIndex()]

    def _show(self, tab: str) -> None:
        """Draw the slider's shape of ``tab`` (a completion with its kept part in :data:`KEPT_COLOR`)."""
        shapes = self.results[tab]
        if not shapes or tab != self._tab():
            return
        shape = shapes[self.sliders[tab].value()]
        if tab == "complete" and self.kept is not None:
            shape = with_kept(shape, self.kept)
            self.studio.viewport.color_combo.setCurrentText(OWN_COLORS)  # height colours would hide the two parts
        self.studio.viewport.show_shape(shape, reset_view=False)


def with_kept(shape, kept: np.ndarray) -> PointCloud:
    """One cloud of the completed shape's points and the kept points, each in its own colour."""
    filled = surface_points(shape).astype(np.float32)
    colors = np.concatenate([np.broadcast_to(FILLED_COLOR, filled.shape), np.broadcast_to(KEPT_COLOR, kept.shape)])
    return PointCloud(np.concatenate([filled, kept.astype(np.float32)]), colors=colors.astype(np.float32))


def _scratch() -> str:
    """A fresh folder for one job's files."""
    return tempfile.mkdtemp(prefix="latent3d-edit-")


def _tab() -> tuple[QWidget, QFormLayout]:
    tab = QWidget()
    return tab, QFormLayout(tab)


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


class ShapeField(QWidget):
    """An edit's input: a shape file typed or browsed for, or a shape picked from the Datasets or Sample page
    (held in memory and named in the field; typing a path drops it)."""

    def __init__(self, page: EditPage) -> None:
        super().__init__()
        self.shape: Shape | None = None
        self.edit = QLineEdit(placeholderText="shape file (PLY, NPY, OBJ, OFF, STL, GLB, PCD)")
        self.edit.textEdited.connect(self._drop_shape)
        browse = QPushButton(icon("open"), "", toolTip="Choose a shape file")
        browse.clicked.connect(self._ask_file)
        pick = QToolButton(icon=icon("datasets"), toolTip="Use a shape from another page",
                           popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(pick)
        self.dataset_action = QAction(icon("datasets"), "Use the current dataset shape", menu)
        self.dataset_action.triggered.connect(lambda: page.use_dataset_shape(self))
        self.sample_action = QAction(icon("sample"), "Use the selected sample", menu)
        self.sample_action.triggered.connect(lambda: page.use_selected_sample(self))
        menu.addActions([self.dataset_action, self.sample_action])
        pick.setMenu(menu)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        row.addWidget(pick)

    def source(self) -> Source:
        """What the job reads: the picked shape, else the typed path."""
        return self.edit.text() if self.shape is None else self.shape

    def set_shape(self, shape: Shape, name: str) -> None:
        """Use ``shape`` (from another page), shown as ``name``."""
        self.shape = shape
        self.edit.setText(name)

    def _drop_shape(self) -> None:
        self.shape = None

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a shape", "", SHAPE_FILTER)
        if path:
            self.shape = None
            self.edit.setText(path)


def _result_slider(page: EditPage, tab: str) -> QSlider:
    """The slider that scrubs through ``tab``'s computed shapes (no recomputation)."""
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 0)
    slider.valueChanged.connect(lambda _: page._show(tab))
    return slider
