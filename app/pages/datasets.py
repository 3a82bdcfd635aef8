"""Datasets page: open a file/folder/the built-in set, see classes × splits and the files that did not load,
browse thumbnails, view a shape."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QPushButton, QSizePolicy, QSpinBox, QTableWidget,
                               QTableWidgetItem)

from app import settings
from app.icons import icon
from app.jobrunner import JobRunner
from app.pages.base import Page, Studio
from app.tasks import LoadShapesJob, OpenDatasetJob
from core.choices import SHAPE_REPRESENTATIONS
from core.data.datasets import skipped_report

#: thumbnail edge in pixels and how many a page of the grid shows
THUMB_SIZE, DEFAULT_THUMBS = 112, 24
#: class-table row height: ModelNet10's ten classes fit beside the thumbnails at 1280x800
TABLE_ROW_HEIGHT = 22
ALL = "all"


class DatasetsPage(Page):
    """Browse a dataset; ``dataset_opened(dataset)`` tells the other pages which data is current."""

    title = "Datasets"
    subtitle = "Open a point-cloud HDF5 folder, a voxel array, a mesh/splat file or the built-in set."
    dataset_opened = Signal(object)

    def __init__(self, studio: Studio, parent=None) -> None:
        super().__init__(studio, parent)
        self.dataset = None
        self.counts: dict[str, dict[str, int]] = {}
        self._thumb_cache: dict[tuple, QImage] = {}
        self._thumb_runner = None

        open_folder = QPushButton(icon("open"), "Open folder…")
        open_folder.clicked.connect(self._ask_folder)
        open_file = QPushButton(icon("file"), "Open file…")
        open_file.clicked.connect(self._ask_file)
        builtin = QPushButton(icon("cube"), "Built-in set")
        builtin.clicked.connect(lambda: self.open("builtin"))
        self.path_label = QLabel("No dataset open")
        self.path_label.setObjectName("dim")
        self.path_label.setWordWrap(True)
        self.path_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        for button in (open_folder, open_file, builtin):
            row.addWidget(button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.path_label)
        self.skipped_label = QLabel()  # the files of a folder that did not load, one "path: reason" line each
        self.skipped_label.setObjectName("dim")
        self.skipped_label.setWordWrap(True)
        self.skipped_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.skipped_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.skipped_label.hide()
        self.body.addWidget(self.skipped_label)

        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(TABLE_ROW_HEIGHT)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.table.itemSelectionChanged.connect(self._class_row_selected)

        self.class_combo, self.split_combo = QComboBox(), QComboBox()
        self.repr_combo = QComboBox()
        self.repr_combo.addItems(SHAPE_REPRESENTATIONS)
        self.count_spin = QSpinBox(minimum=4, maximum=200, value=DEFAULT_THUMBS, suffix=" shapes")
        for combo in (self.class_combo, self.split_combo, self.repr_combo):
            combo.currentIndexChanged.connect(self._refresh_thumbnails)
        self.count_spin.editingFinished.connect(self._refresh_thumbnails)
        filters = QHBoxLayout()
        for label, widget in (("Class", self.class_combo), ("Split", self.split_combo),
                              ("Show as", self.repr_combo), ("", self.count_spin)):
            if label:
                filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addStretch(1)
        self.body.addLayout(filters)

        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.ViewMode.IconMode)
        self.grid.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.grid.setMovement(QListWidget.Movement.Static)
        self.grid.setSpacing(6)
        self.grid.setUniformItemSizes(True)
        self.grid.itemClicked.connect(self._show_item)
        # the class table beside the thumbnails: every class row stays visible while the grid takes the height
        browser = QHBoxLayout()
        browser.addWidget(self.table)
        browser.addWidget(self.grid, 1)
        self.body.addLayout(browser, 1)
        self.thumbnails = studio.viewport.render_thread.thumbnail_client(self)
        self.thumbnails.ready.connect(self._on_thumbnail)

    # -- opening -------------------------------------------------------------------------------------------
    def open(self, path: str | Path) -> JobRunner:
        """Open ``path`` in a job; the table and grid fill in when it is done (errors show a dialog)."""
        runner = self.studio.jobs.start(OpenDatasetJob(str(path)))
        runner.done.connect(lambda result, p=str(path): self._on_opened(p, *result))
        return runner

    def _ask_folder(self) -> None:
        start = (settings.recent("datasets") or [str(Path.home())])[0]
        path = QFileDialog.getExistingDirectory(self, "Open dataset folder", start)
        if path:
            self.open(path)

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open dataset or shape file", "",
            "Shapes (*.h5 *.hdf5 *.ply *.pcd *.off *.obj *.stl *.glb *.gltf *.npy *.npz *.gz);;All files (*)")
        if path:
            self.open(path)

    def _on_opened(self, path: str, dataset, counts: dict[str, dict[str, int]]) -> None:
        self.dataset, self.counts = dataset, counts
        settings.remember("datasets", path)
        self.path_label.setText(f"{path}  ·  {len(dataset):,} {dataset.representation} shapes  ·  "
                                f"{len(dataset.classes)} classes")
        skipped = dataset.source.skipped
        self.skipped_label.setText(skipped_report(dataset.root, [vars(f) for f in skipped], dataset.source.file_count)
                                   if skipped else "")
        self.skipped_label.setVisible(bool(skipped))
        splits = sorted({split for per in counts.values() for split in per})
        self.table.setColumnCount(len(splits) + 2)
        self.table.setHorizontalHeaderLabels(["class", *splits, "total"])
        self.table.setRowCount(len(counts))
        for row, (name, per_split) in enumerate(counts.items()):
            values = [name, *[per_split.get(s, 0) for s in splits], sum(per_split.values())]
            for column, value in enumerate(values):
                item = QTableWidgetItem(f"{value:,}" if isinstance(value, int) else value)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self._fit_table_width()
        for combo, values in ((self.class_combo, counts), (self.split_combo, splits)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([ALL, *values])
            combo.blockSignals(False)
        self.repr_combo.blockSignals(True)
        self.repr_combo.setCurrentText(dataset.representation)
        self.repr_combo.blockSignals(False)
        self._refresh_thumbnails()
        self.show_first()  # the new data replaces the shape on screen at once, not on the first click
        self.dataset_opened.emit(dataset)

    def _fit_table_width(self) -> None:
        """As wide as its columns (and a vertical scroll bar, for data with more classes than fit): never a
        clipped count."""
        self.table.resizeColumnsToContents()
        self.table.setFixedWidth(self.table.horizontalHeader().length() + 2 * self.table.frameWidth()
                                 + self.table.verticalScrollBar().sizeHint().width())

    # -- thumbnails ------------------------------------------------------------------------------------------
    def selected_indices(self) -> list[int]:
        """Dataset indices matching the class/split filters, first ``count`` of them."""
        if self.dataset is None:
            return []
        name, split = self.class_combo.currentText(), self.split_combo.currentText()
        chosen = [i for i, r in enumerate(self.dataset.records)
                  if (name == ALL or r.class_name == name) and (split == ALL or r.split == split)]
        if name == ALL:  # spread over the classes rather than showing only the first one
            step = max(1, len(chosen) // self.count_spin.value())
            chosen = chosen[::step]
        return chosen[: self.count_spin.value()]

    def _class_row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.class_combo.setCurrentText(self.table.item(rows[0].row(), 0).text())

    def _refresh_thumbnails(self) -> None:
        if self.dataset is None:
            return
        if self._thumb_runner is not None:
            self._thumb_runner.cancel()
        self.thumbnails.cancel()  # this page's pending pictures only: other pages keep theirs
        self.grid.clear()
        representation = self.repr_combo.currentText()
        missing = []
        for index in self.selected_indices():
            record = self.dataset.records[index]
            item = QListWidgetItem(f"{record.name}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(f"{record.name} · {record.class_name} · {record.split}")
            item.setSizeHint(QSize(THUMB_SIZE + 16, THUMB_SIZE + 30))
            cached = self._thumb_cache.get(self._key(index, representation))
            if cached is not None:
                item.setIcon(QIcon(QPixmap.fromImage(cached)))
            else:
                missing.append(index)
            self.grid.addItem(item)
        if missing:
            self._thumb_runner = self.studio.jobs.start(LoadShapesJob(self.dataset, missing, representation))
            self._thumb_runner.preview.connect(
                lambda event, d=self.dataset, r=representation: self._render_thumbnail(event, d, r))

    def _key(self, index: int, representation: str) -> tuple:
        return (self.dataset.root, index, representation, self.studio.viewport.style)

    def _render_thumbnail(self, event, dataset, representation: str) -> None:
        """Ask for the picture of a loaded shape; one loaded for a dataset no longer shown (a preview queued before
        the page was cleared or another file opened) is dropped."""
        if dataset is not self.dataset:
            return
        self.thumbnails.request(self._key(event.step, representation), event.shapes[0], self.studio.viewport.style,
                                THUMB_SIZE)

    def _on_thumbnail(self, key: tuple, image: QImage) -> None:
        """A grid picture; ``key`` is :meth:`_key`'s (dataset root, index, representation, style)."""
        self._thumb_cache[key] = image
        if self.dataset is None or key[0] != self.dataset.root:
            return
        for row in range(self.grid.count()):
            item = self.grid.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == key[1]:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    @property
    def thumbnails_shown(self) -> int:
        """How many grid items have their picture (for tests and the status bar)."""
        return sum(not self.grid.item(r).icon().isNull() for r in range(self.grid.count()))

    def show_first(self) -> None:
        """Show the grid's first shape in the viewport (an empty grid clears it)."""
        if self.grid.count():
            self._show_item(self.grid.item(0))
        else:
            self.studio.viewport.show_shape(None)

    def _show_item(self, item: QListWidgetItem) -> None:
        index = item.data(Qt.ItemDataRole.UserRole)
        runner = self.studio.jobs.start(LoadShapesJob(self.dataset, [index], self.repr_combo.currentText()))
        runner.preview.connect(lambda event: self.studio.viewport.show_shape(event.shapes[0]))
