"""The viewport widget: paints the latest frame from the render thread and turns mouse input into camera moves."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from app.icons import icon
from app.viewport.render_thread import RenderThread
from core.render import COLOR_MODES, OrbitCamera, Style, shape_bounds
from core.render.scene import has_own_colors
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

#: wheel notches (120 units each) -> zoom factor per notch
ZOOM_PER_NOTCH = 0.88
#: wait this long after the last resize before re-creating the renderer at the new size
RESIZE_DEBOUNCE_MS = 150
POINT_SIZE_TIP = "Point size in pixels"
COLOR_TIP = "Colouring of points, voxels and colourless splats"


def kind_of(shape: object) -> str:
    """The plural a disabled control's tooltip names a shape by."""
    return {GaussianSplats: "Gaussian splats", Mesh: "meshes", VoxelGrid: "voxels"}.get(type(shape), "these shapes")


def describe(shape: object) -> str:
    """A short human description such as '1,024 points' for the viewport's caption."""
    if isinstance(shape, PointCloud):
        return f"point cloud · {len(shape.points):,} points"
    if isinstance(shape, VoxelGrid):
        return f"voxels · {shape.resolution}³ · {int(shape.occupancy.sum()):,} filled"
    if isinstance(shape, GaussianSplats):
        return f"Gaussian splats · {len(shape):,}"
    if isinstance(shape, Mesh):
        return f"mesh · {len(shape.vertices):,} vertices · {len(shape.faces):,} faces"
    return type(shape).__name__


class Canvas(QWidget):
    """Paints frames and forwards drags: left = orbit, right/middle or shift+left = pan, wheel = zoom."""

    camera_changed = Signal(object)
    reset_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image: QImage | None = None
        self.caption = ""
        self.placeholder = "Open a dataset, a shape file or a run to see it here"
        self.camera = OrbitCamera()
        self._drag_origin: QPoint | None = None
        self._drag_button = Qt.MouseButton.NoButton

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self.image is not None and self.caption:
            # the frame's buffer has a fixed size; its projection already has this widget's aspect, so it is
            # stretched to the widget (no smooth scaling: Qt's pooled scaler threads stalled Filament here)
            painter.drawImage(self.rect(), self.image)
        painter.setPen(QColor(150, 158, 170))
        if self.caption:
            painter.drawText(QRect(10, 6, self.width() - 20, 20), Qt.AlignmentFlag.AlignLeft, self.caption)
            painter.drawText(QRect(10, self.height() - 24, self.width() - 20, 20), Qt.AlignmentFlag.AlignRight,
                             "drag orbit · right-drag pan · wheel zoom")
        else:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag_origin, self._drag_button = event.position().toPoint(), event.button()
        if event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._drag_button = Qt.MouseButton.RightButton

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_origin is None:
            return
        position = event.position().toPoint()
        delta = position - self._drag_origin
        self._drag_origin = position
        if self._drag_button == Qt.MouseButton.LeftButton:
            self.camera = self.camera.orbit(delta.x(), delta.y())
        else:
            self.camera = self.camera.pan(delta.x(), delta.y(), self.height())
        self.camera_changed.emit(self.camera)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag_origin = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.reset_requested.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        self.camera = self.camera.zoom(ZOOM_PER_NOTCH ** (event.angleDelta().y() / 120))
        self.camera_changed.emit(self.camera)


class Viewport(QWidget):
    """The shared 3D view: a small toolbar (colouring, point size, up axis, reset, screenshot) over the canvas."""

    frame_shown = Signal()
    error = Signal(str)

    def __init__(self, render_thread: RenderThread, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("viewport")
        self.render_thread = render_thread
        self.shape: object | None = None
        self.frames_shown = 0
        self._style = Style()
        self.canvas = Canvas(self)
        self.canvas.camera_changed.connect(lambda camera: self._request_frame())
        self.canvas.reset_requested.connect(self.reset_view)
        self._view = render_thread.view_client(self)
        self._view.frame_ready.connect(self._on_frame)
        self._view.shape_failed.connect(self.error)
        self._resize_timer = QTimer(self, singleShot=True, interval=RESIZE_DEBOUNCE_MS, timeout=self._request_frame)

        self.color_combo = QComboBox(toolTip=COLOR_TIP)
        self.color_combo.addItems(list(COLOR_MODES))
        self.color_combo.currentIndexChanged.connect(self._style_changed)
        self.point_size = QDoubleSpinBox(decimals=1, minimum=1.0, maximum=12.0, singleStep=0.5, value=self._style.point_size,
                                         suffix=" px", toolTip=POINT_SIZE_TIP)
        self.point_size.valueChanged.connect(self._style_changed)
        self.up_combo = QComboBox(toolTip="World up axis")
        self.up_combo.addItems(["Z up", "Y up"])
        self.up_combo.currentIndexChanged.connect(self._style_changed)
        reset = QToolButton(icon=icon("reset"), toolTip="Reset view (double-click the view)", autoRaise=True)
        reset.clicked.connect(self.reset_view)
        self.screenshot_button = QToolButton(icon=icon("camera"), toolTip="Save a screenshot of the view",
                                             autoRaise=True)
        self.screenshot_button.clicked.connect(self._ask_screenshot)

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        title = QLabel("Viewport")
        title.setObjectName("sectionTitle")
        bar.addWidget(title)
        bar.addStretch(1)
        for widget in (self.color_combo, self.point_size, self.up_combo):
            widget.setMinimumWidth(0)
        for widget in (self.color_combo, self.point_size, self.up_combo, reset, self.screenshot_button):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

    @property
    def style(self) -> Style:
        """The current drawing style."""
        return self._style

    @property
    def image(self) -> QImage | None:
        """The last frame shown."""
        return self.canvas.image

    def show_shape(self, shape: object | None, reset_view: bool = True, caption: str | None = None) -> None:
        """Draw ``shape`` (None clears); ``reset_view=False`` keeps the camera (live denoising previews);
        ``caption`` replaces the description of the shape (a sample beside its nearest reference says so)."""
        self.shape = shape
        self.canvas.caption = "" if shape is None else caption or describe(shape)
        self._enable_style_controls(shape)
        self._view.set_shape(shape, self._style)
        if shape is not None and reset_view:
            self.reset_view()
        else:
            self._request_frame()
        self.canvas.update()

    def _enable_style_controls(self, shape: object | None) -> None:
        """Point size only for points, colouring only where it changes the picture; a disabled control says why."""
        sized = shape is None or isinstance(shape, PointCloud)
        colored = shape is None or isinstance(shape, (PointCloud, VoxelGrid)) or (
            isinstance(shape, GaussianSplats) and not has_own_colors(shape))
        self.point_size.setEnabled(sized)
        self.point_size.setToolTip(POINT_SIZE_TIP if sized else f"{POINT_SIZE_TIP}: {kind_of(shape)} have no points")
        self.color_combo.setEnabled(colored)
        self.color_combo.setToolTip(COLOR_TIP if colored else f"{COLOR_TIP}: {kind_of(shape)} keep their own colours")

    def reset_view(self) -> None:
        """Frame the current shape from the default angle."""
        if self.shape is not None:
            aspect = self.canvas.width() / max(self.canvas.height(), 1)
            self.canvas.camera = OrbitCamera(up=self._style.up).fitted(*shape_bounds(self.shape), aspect=aspect)
        self._request_frame()

    def save_screenshot(self, path: str | Path) -> bool:
        """Write the last frame as an image file; False when there is nothing to save or writing failed."""
        return self.canvas.image is not None and self.canvas.image.save(str(path))

    def _ask_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "viewport.png", "PNG image (*.png)")
        if path and not self.save_screenshot(path):
            self.error.emit(f"{path}: could not write the screenshot")

    def _style_changed(self) -> None:
        up = 2 if self.up_combo.currentIndex() == 0 else 1
        new_up = up != self._style.up
        self._style = Style(color_by=COLOR_MODES[self.color_combo.currentIndex()],
                            point_size=self.point_size.value(), up=up)
        if self.shape is not None:
            self._view.set_shape(self.shape, self._style)
        self.reset_view() if new_up else self._request_frame()

    def _request_frame(self) -> None:
        size = self.canvas.size() * self.canvas.devicePixelRatioF()
        self._view.request_frame(self.canvas.camera, (size.width(), size.height()))

    def _on_frame(self, image: QImage) -> None:
        if self.shape is None:
            return
        self.canvas.image = image
        self.frames_shown += 1
        self.canvas.update()
        self.frame_shown.emit()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._resize_timer.start()

    def sizeHint(self) -> QSize:  # noqa: D102
        return QSize(640, 480)
