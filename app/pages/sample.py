"""Sample page: pick a built-in model or a trained run, set class/guidance/steps/sampler/seed, watch the denoising
live, export."""
from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSlider, QSpinBox, QToolButton)

from app import settings
from app.dialogs import show_error
from app.icons import icon
from app.pages.base import Page, Studio
from app.tasks import FindRunsJob
from core.choices import DEFAULT_GUIDANCE, DEFAULT_SAMPLE_STEPS, SAMPLERS
from core.data.pieces import GRID_REPRESENTATIONS
from core.errors import InputError
from core.jobs.export import ARRAY_FORMATS, EXPORT_FORMATS, ExportJob, describe_export
from core.jobs.nearest import NearestMatch, NearestShapeJob, training_data
from core.jobs.results import SampleResult
from core.jobs.sample import SampleJob, sampler_for
from core.render.pairs import side_by_side
from core.training.pretrained import builtin_folders, default_guidance, peek_config

#: guidance slider: 0 .. 10 in steps of 0.25 (CFG weights above ~10 over-saturate)
GUIDANCE_STEPS_PER_UNIT, GUIDANCE_MAX = 4, 10
GALLERY_THUMB = 84
#: what the export buttons write: the gallery's selected shape or every shape of the result
EXPORT_SCOPES = ("Selected shape", "All shapes")
UNCONDITIONAL = "(unconditional)"
#: the model the page opens on when it is installed (DESIGN.md: the built-in point-cloud model)
BUILTIN_PREFIX = "builtin:"
DEFAULT_MODEL = BUILTIN_PREFIX + "points"


class SamplePage(Page):
    """Generate shapes with a SampleJob; ``Preview`` events redraw the viewport while the sampler runs."""

    title = "Sample"
    subtitle = "Generate shapes from a trained run. The viewport shows the denoised estimate at every preview step."

    def __init__(self, studio: Studio, parent=None) -> None:
        super().__init__(studio, parent)
        self.runner = None
        self.result: SampleResult | None = None
        self.previews_shown = 0
        #: the run and class of the last Generate, the data and class the nearest training shape is looked for in
        self._sampled_run: Path | None = None
        self._sampled_class: str | None = None
        self.nearest: NearestMatch | None = None

        box = QGroupBox("Generate")
        form = QFormLayout(box)
        self.model_combo = QComboBox(editable=True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.lineEdit().setPlaceholderText("run folder or builtin:NAME")
        self.model_combo.setToolTip("Built-in models (builtin:NAME) and trained runs on disk")
        self.model_combo.currentTextChanged.connect(self._model_changed)
        browse = QPushButton(icon("open"), "")
        browse.setToolTip("Choose a run folder")
        browse.clicked.connect(self._ask_run)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(browse)
        self.class_combo = QComboBox()
        self.prompt_edit = QLineEdit(placeholderText="text prompt (runs trained with text conditioning)")
        self.guidance = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=GUIDANCE_MAX * GUIDANCE_STEPS_PER_UNIT,
                                value=round(DEFAULT_GUIDANCE * GUIDANCE_STEPS_PER_UNIT))
        self.guidance_label = QLabel()
        self.steps = QSlider(Qt.Orientation.Horizontal, minimum=1, maximum=100, value=DEFAULT_SAMPLE_STEPS)
        self.steps_label = QLabel()
        self.guidance.valueChanged.connect(self._update_labels)
        self.steps.valueChanged.connect(self._update_labels)
        self.sampler_combo = QComboBox()
        self.sampler_combo.addItems(SAMPLERS)
        self.sampler_combo.setToolTip("dpmpp: DPM-Solver++, deterministic; dpmpp_sde: its SDE variant, fresh noise at "
                                      "each step (more voxel samples in one piece); a built-in model opens with "
                                      "its own")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        dice = QToolButton(icon=icon("dice"), toolTip="Random seed")
        dice.clicked.connect(lambda: self.seed.setValue(random.randrange(2**31 - 1)))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(dice)
        self.count = QSpinBox(minimum=1, maximum=256, value=8)
        # sampler, seed and count share a row, and the prompt row shows only for text-conditioned runs, so two
        # rows of results fit under the form at 1280x800
        run_row = QHBoxLayout()
        run_row.addWidget(self.sampler_combo, 2)
        run_row.addWidget(QLabel("Seed"))
        run_row.addLayout(seed_row, 2)
        run_row.addWidget(QLabel("Shapes"))
        run_row.addWidget(self.count, 1)
        form.addRow("Model", model_row)
        form.addRow("Class", self.class_combo)
        form.addRow("Prompt", self.prompt_edit)
        form.addRow("Guidance", _with_label(self.guidance, self.guidance_label))
        form.addRow("Steps", _with_label(self.steps, self.steps_label))
        form.addRow("Sampler", run_row)
        self.form = form
        self.generate_button = QPushButton(icon("sample"), "Generate")
        self.generate_button.setObjectName("primary")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton(icon("stop"), "Cancel", enabled=False)
        self.cancel_button.clicked.connect(lambda: self.runner and self.runner.cancel())
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.cancel_button)
        self.nearest_button = QPushButton(icon("evaluate"), "Nearest training shape", enabled=False,
                                          toolTip="Show the selected sample beside the training shape nearest to it "
                                                  "(Chamfer; 1 - IoU for voxels): does the model copy its data?")
        self.nearest_button.clicked.connect(self.show_nearest)
        buttons.addWidget(self.nearest_button)
        self.largest_piece = QCheckBox("largest piece only", enabled=False,
                                       toolTip="Voxel and splat models: drop every cell outside each sample's largest "
                                               "connected piece before writing (sample --keep-largest-piece). Off: "
                                               "the samples as the model made them, floaters included")
        buttons.addWidget(self.largest_piece)
        form.addRow(buttons)
        self.body.addWidget(box)

        gallery_title = QLabel("Results")
        gallery_title.setObjectName("sectionTitle")
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(GALLERY_THUMB, GALLERY_THUMB))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMovement(QListWidget.Movement.Static)
        self.gallery.setSpacing(6)
        self.gallery.setWrapping(True)  # rows of thumbnails that re-flow with the page's width
        self.gallery.currentRowChanged.connect(self._show_result)
        self.export_scope = QComboBox(toolTip="Export the gallery's selected shape or every shape")
        self.export_scope.addItems(EXPORT_SCOPES)
        self.export_scope.currentIndexChanged.connect(self._describe_exports)
        exports = QHBoxLayout()
        exports.addWidget(gallery_title)
        exports.addStretch(1)
        exports.addWidget(self.export_scope)
        self.export_buttons = {}
        for fmt in EXPORT_FORMATS:
            button = QPushButton(icon("export"), fmt.upper())
            button.clicked.connect(lambda _=False, f=fmt: self._ask_export(f))
            exports.addWidget(button)
            self.export_buttons[fmt] = button
        self.export_note = QLabel()
        self.export_note.setObjectName("dim")
        self.export_note.setWordWrap(True)
        self.body.addLayout(exports)
        self.body.addWidget(self.export_note)
        self.body.addWidget(self.gallery, 1)
        self.gallery.currentRowChanged.connect(self._describe_exports)
        self._describe_exports()
        self.thumbnails = studio.viewport.render_thread.thumbnail_client(self)
        self.thumbnails.ready.connect(self._on_thumbnail)
        self._model_chosen = False
        #: a run folder's guidance (a built-in model takes its manifest's): the slider's starting value
        self._run_guidance = self.guidance.value()
        self._builtin_folders = builtin_folders()  # read from disk at once: no torch, no job
        for name in self._builtin_folders:
            self.model_combo.addItem(icon("cube"), name)
        if DEFAULT_MODEL in self._builtin_folders:
            self.model_combo.setCurrentText(DEFAULT_MODEL)
        self._update_labels()
        # the recent list may name folders on a slow or vanished disk: they are checked off the GUI thread
        studio.jobs.start(FindRunsJob(settings.recent("runs"))).done.connect(self._on_runs_found)

    # -- settings ------------------------------------------------------------------------------------------
    @property
    def guidance_value(self) -> float:
        """The guidance weight the slider shows."""
        return self.guidance.value() / GUIDANCE_STEPS_PER_UNIT

    def _update_labels(self) -> None:
        self.guidance_label.setText(f"{self.guidance_value:.2f}")
        self.steps_label.setText(str(self.steps.value()))

    def add_run(self, run_dir: str | Path, select: bool = True) -> None:
        """Offer ``run_dir`` (or ``builtin:NAME``) in the model picker and, unless told not to, select it."""
        text = str(run_dir)
        if self.model_combo.findText(text) < 0:
            self.model_combo.addItem(icon("cube") if text.startswith(BUILTIN_PREFIX) else icon("file"), text)
        if select:
            self._model_chosen = True
            self.model_combo.setCurrentText(text)

    def _on_runs_found(self, runs: list[str]) -> None:
        """Offer the recent run folders that still exist, after the built-in models."""
        for run in runs:
            self.add_run(run, select=False)

    def _ask_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Trained run", self.model_combo.currentText())
        if path:
            self.add_run(path)

    def _model_changed(self, text: str) -> None:
        """Fill the class combo from the run's config.json (no model is loaded for that) and set the guidance and
        sampler the model was measured with (a built-in model's manifest names them); offer "largest piece only" to
        voxel and splat models."""
        own = default_guidance(text)
        self.guidance.setValue(self._run_guidance if own is None else round(own * GUIDANCE_STEPS_PER_UNIT))
        self.sampler_combo.setCurrentText(sampler_for(text))
        self.class_combo.clear()
        self.largest_piece.setEnabled(False)
        config = peek_config(text)
        if config is None:
            return
        if config.get("cond") == "class":
            self.class_combo.addItems([UNCONDITIONAL, *config.get("classes", [])])
            if self.class_combo.count() > 1:
                self.class_combo.setCurrentIndex(1)
        else:
            self.class_combo.addItem(UNCONDITIONAL)
        self.largest_piece.setEnabled(config.get("representation") in GRID_REPRESENTATIONS)
        self.prompt_edit.setEnabled(config.get("cond") == "text")
        self.form.setRowVisible(self.prompt_edit, config.get("cond") == "text")

    # -- generating ----------------------------------------------------------------------------------------
    def generate(self) -> None:
        """Start a SampleJob with the page's settings; the job writes into the run's samples/ folder."""
        run = self.model_combo.currentText().strip()
        if not run:
            show_error(self, "Sample", "Choose a trained run first")
            return
        class_name = self.class_combo.currentText()
        job = SampleJob(run, self.count.value(), None,  # the job picks the folder (a run's samples/seedN)
                        class_name=None if class_name in ("", UNCONDITIONAL) else class_name,
                        prompt=self.prompt_edit.text().strip() or None, guidance=self.guidance_value,
                        steps=self.steps.value(), sampler=self.sampler_combo.currentText(), seed=self.seed.value(),
                        keep_largest_piece=self.largest_piece.isEnabled() and self.largest_piece.isChecked())
        self.previews_shown = 0
        self._sampled_run = self._builtin_folders.get(run, Path(run))
        self._sampled_class = job.class_name
        self.runner = self.studio.jobs.start(job)
        self.runner.preview.connect(self._on_preview)
        self.runner.done.connect(self._on_done)
        self.runner.finished.connect(self._on_finished)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def _on_preview(self, event) -> None:
        if event.shapes:
            self.previews_shown += 1
            self.studio.viewport.show_shape(event.shapes[0], reset_view=self.previews_shown == 1)

    def _on_done(self, result: SampleResult) -> None:
        self.result = result
        settings.remember("runs", self.model_combo.currentText())
        self.gallery.clear()
        self.thumbnails.cancel()  # the previous result's pictures still queued would be drawn for nothing
        for index, shape in enumerate(result.shapes):
            item = QListWidgetItem(f"#{index}")
            item.setSizeHint(QSize(GALLERY_THUMB + 12, GALLERY_THUMB + 26))
            self.gallery.addItem(item)
            self.thumbnails.request((id(result), index), shape, self.studio.viewport.style, GALLERY_THUMB)
        if result.shapes:
            self.gallery.setCurrentRow(0)
        self._describe_exports()
        self.nearest_button.setEnabled(bool(result.shapes))
        if result.shapes:
            self.studio.viewport.show_shape(result.shapes[0], reset_view=False)

    def _on_finished(self) -> None:
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.runner = None

    def _on_thumbnail(self, key: tuple[int, int], image: QImage) -> None:
        """A gallery picture: ``key`` is (id of the result, row); one of an earlier result is stale."""
        result_id, row = key
        if self.result is not None and result_id == id(self.result) and row < self.gallery.count():
            self.gallery.item(row).setIcon(QIcon(QPixmap.fromImage(image)))

    def _show_result(self, row: int) -> None:
        if self.result is not None and 0 <= row < len(self.result.shapes):
            self.studio.viewport.show_shape(self.result.shapes[row])

    def show_nearest(self) -> None:
        """Show the selected sample beside the training shape nearest to it: the memorisation check, found by a
        job (the run's training data of the sampled class; a run whose data is not here says so)."""
        shapes = self.result.shapes
        row = max(self.gallery.currentRow(), 0)
        try:
            data, classes = training_data(self._sampled_run)
        except InputError as exc:
            show_error(self, "Nearest training shape", str(exc))
            return
        if self._sampled_class is not None:
            classes = [self._sampled_class]
        sample = shapes[row]
        runner = self.studio.jobs.start(NearestShapeJob(sample, data, classes))
        runner.done.connect(lambda match, r=row, s=sample: self._show_pair(r, s, match))

    def _show_pair(self, row: int, sample, match: NearestMatch) -> None:
        self.nearest = match
        self.studio.viewport.show_shape(side_by_side(sample, match.reference),
                                        caption=f"sample #{row} (left) · nearest training shape {match.name} (right)"
                                                f" · {match.metric} {match.distance:.3g}")

    # -- export --------------------------------------------------------------------------------------------
    def export_rows(self) -> list[int]:
        """The result rows an export writes: the selected shape, or all of them."""
        if self.result is None:
            return []
        if self.export_scope.currentIndex() == 1:
            return list(range(len(self.result.shapes)))
        return [max(self.gallery.currentRow(), 0)]

    def _describe_exports(self) -> None:
        """Say on each button, and under them, what an export writes (which shapes, which layout)."""
        rows = self.export_rows()
        for fmt, button in self.export_buttons.items():
            button.setEnabled(bool(rows))
            button.setToolTip(describe_export(self.result.shapes, fmt, rows)
                              if rows else "Generate shapes first: there is nothing to export yet")
        if not rows:
            self.export_note.setText("Exports appear here after sampling.")
        elif len(rows) == 1:
            self.export_note.setText(f"Exports write shape #{rows[0]} in its sampled frame (PLY and OBJ overlay); "
                                     "hover a format for what its file holds.")
        else:
            self.export_note.setText(f"Exports write all {len(rows)} shapes: NPY as one array, PLY/OBJ/GLB as one "
                                     "file per shape in a folder; hover a format for what its files hold.")

    def _ask_export(self, fmt: str) -> None:
        rows = self.export_rows()
        if not rows:
            return
        if fmt in ARRAY_FORMATS or len(rows) == 1:
            suggested = "samples.npy" if fmt in ARRAY_FORMATS else f"sample_{rows[0]:03d}.{fmt}"
            path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", suggested,
                                                  f"{fmt.upper()} (*.{fmt})")
        else:
            path = QFileDialog.getExistingDirectory(self, f"Folder for {len(rows)} {fmt.upper()} files")
        if path:
            self.export(path, fmt)

    def export(self, path: str | Path, fmt: str | None = None):
        """Write :meth:`export_rows` as ``fmt`` (default: ``path``'s suffix) in an ExportJob; returns its runner
        (None with nothing to export). Errors show the job's one-line dialog."""
        if self.result is None:
            return None
        path = Path(path)
        fmt = fmt or path.suffix[1:].lower()
        runner = self.studio.jobs.start(ExportJob(self.result.array, self.result.shapes, self.export_rows(),
                                                  path, fmt))
        runner.done.connect(lambda paths: self.studio.jobs.append(
            f"exported {len(paths)} file(s): {paths[0] if len(paths) == 1 else paths[0].parent}"))
        return runner


def _with_label(slider: QSlider, label: QLabel) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(slider, 1)
    label.setMinimumWidth(36)
    row.addWidget(label)
    return row
