"""The main window: left navigation, the page stack, the shared viewport, the jobs dock, menus, status bar."""
from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QSplitter, QStackedWidget, QWidget)

from app import settings
from app.dialogs import show_error, show_failure
from app.icons import APP_ICON, icon
from app.jobs_panel import JobsPanel
from app.pages.base import Studio
from app.pages.datasets import DatasetsPage
from app.pages.edit import EditPage
from app.pages.evaluate import EvaluatePage
from app.pages.sample import SamplePage
from app.pages.train import TrainPage
from app.viewport.render_thread import RenderThread
from app.viewport.widget import Viewport

PAGES = ("datasets", "train", "sample", "evaluate", "edit")


class MainWindow(QMainWindow):
    """Latent3D Studio's window; call :meth:`shutdown` (closeEvent does) before the application quits."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Latent3D Studio")
        self.setWindowIcon(icon(APP_ICON))
        self.render_thread = RenderThread.shared()
        self.viewport = Viewport(self.render_thread)
        self.jobs = JobsPanel()
        studio = Studio(self.viewport, self.jobs)
        self.datasets = DatasetsPage(studio)
        self.train = TrainPage(studio)
        self.sample = SamplePage(studio)
        self.evaluate = EvaluatePage(studio)
        self.edit = EditPage(studio)
        self.pages = dict(zip(PAGES, (self.datasets, self.train, self.sample, self.evaluate, self.edit)))

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        for name, page in self.pages.items():
            item = QListWidgetItem(icon(name), page.title)
            item.setSizeHint(QSize(140, 44))
            self.nav.addItem(item)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.viewport)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([580, 550])
        self.splitter = splitter
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(splitter, 1)
        self.setCentralWidget(central)

        dock = QDockWidget("Jobs and log", self)
        dock.setObjectName("jobsDock")
        dock.setWidget(self.jobs)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.resizeDocks([dock], [130], Qt.Orientation.Vertical)

        self.status_label = QLabel("Ready")
        self.statusBar().addWidget(self.status_label, 1)
        self.jobs.status.connect(self.status_label.setText)
        self.jobs.job_failed.connect(lambda title, failed: show_failure(self, title, failed))
        self.viewport.error.connect(lambda message: show_error(self, "Viewport", message))
        self.render_thread.renderer_restarted.connect(self.jobs.warn)  # a bound slot: dropped with the window
        self.render_thread.thumbnail_failed.connect(self.jobs.warn)
        self.datasets.dataset_opened.connect(self._on_dataset)
        self.setAcceptDrops(True)  # files and folders dropped anywhere on the window open as --open does
        self._build_menus()
        self._restore()

    # -- public API (CLI, tests) -----------------------------------------------------------------------------
    def show_page(self, name: str) -> None:
        """Switch to the page ``name`` (one of PAGES)."""
        self.nav.setCurrentRow(PAGES.index(name))

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Open the first of ``paths`` and put the others in the recent list (the command line, a drop): one
        window shows one dataset, and the recent list keeps the rest one click away."""
        for path in reversed(paths[1:]):  # reversed: the list then reads in the order given
            settings.remember("runs" if is_run_folder(path) else "datasets", str(path))
        if paths:
            self.open_path(paths[0])

    def open_path(self, path: str | Path) -> None:
        """Open a run folder on the Sample page, or a dataset or shape file on the Datasets page with its first
        shape in the viewport (what someone who double-clicked a file wants to see); errors show a dialog."""
        if is_run_folder(path):
            self.open_run(path)
            self.show_page("sample")
            return
        self.show_page("datasets")
        self.datasets.open(path)  # the page shows the first shape once it is open

    def open_run(self, path: str | Path) -> None:
        """Make the run at ``path`` the Sample page's model and remember it."""
        settings.remember("runs", str(path))
        self.sample.add_run(path)
        self.evaluate.set_samples(path)

    def shutdown(self) -> None:
        """Cancel jobs and wait for them, clear the view, save the geometry (the renderer itself is released by
        ``RenderThread.release_shared`` before the process exits: no abort at exit)."""
        with settings.writing() as store:
            store.setValue("window/geometry", self.saveGeometry())
            store.setValue("window/state", self.saveState())
            store.setValue("window/splitter", self.splitter.saveState())
        self.jobs.cancel_all()
        self.viewport.show_shape(None)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # -- internals -------------------------------------------------------------------------------------------
    def _on_dataset(self, dataset) -> None:
        self.train.set_dataset(dataset)
        self.evaluate.set_dataset(dataset)
        self.status_label.setText(f"{dataset.root}: {len(dataset):,} shapes")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        actions = [("Open dataset folder…", QKeySequence.StandardKey.Open, self.datasets._ask_folder),
                   ("Open shape file…", None, self.datasets._ask_file),
                   ("Open run…", None, self._ask_run),
                   ("Export viewport screenshot…", None, self.viewport._ask_screenshot)]
        for text, shortcut, slot in actions:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("About Latent3D Studio", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for key, opener in (("datasets", self.datasets.open), ("runs", self.open_run)):
            for entry in settings.recent(key):
                self.recent_menu.addAction(f"{key[:-1]}: {entry}", lambda e=entry, o=opener: o(e))

    def _ask_run(self) -> None:
        start = (settings.recent("runs") or [str(Path.home())])[0]
        path = QFileDialog.getExistingDirectory(self, "Open run", start)
        if path:
            self.open_run(path)
            self.show_page("sample")

    def _about(self) -> None:
        QMessageBox.about(self, "About Latent3D Studio", about_text())

    def _restore(self) -> None:
        store = settings.settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = store.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        split = store.value("window/splitter")
        if isinstance(split, QByteArray):
            self.splitter.restoreState(split)


def is_run_folder(path: str | Path) -> bool:
    """Whether ``path`` is a training run (a folder with config.json) rather than a dataset."""
    return (Path(path) / "config.json").is_file()


def dropped_paths(mime: QMimeData) -> list[str]:
    """The local files and folders a drag carries (web links and other data are not for us)."""
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def about_text() -> str:
    """Versions of the app and of the libraries it stands on (for bug reports)."""
    from importlib.metadata import PackageNotFoundError, version

    import PySide6

    lines = ["<b>Latent3D Studio</b> — latent diffusion for voxels, point clouds and Gaussian splats.", ""]
    for package in ("latent3d-studio", "torch", "open3d-cpu", "diffusers", "numpy", "pyqtgraph"):
        try:
            lines.append(f"{package}: {version(package)}")
        except PackageNotFoundError:
            lines.append(f"{package}: not installed")
    lines.append(f"PySide6: {PySide6.__version__} · Python {platform.python_version()}")
    return "<br>".join(lines)
