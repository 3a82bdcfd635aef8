"""One thread owns Open3D's Filament renderer; the GUI posts requests, the newest wins, frames come back as signals.

Why a dedicated thread: a frame costs 50 ms (1k points) to ~1 s (45k splats) on llvmpipe, too long for the GUI
thread (budget 100 ms). Why one renderer: two live ``OffscreenRenderer`` objects in one process abort at exit
(measured here), so thumbnails are drawn by this same renderer, between viewport frames.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QThread, Qt, Signal
from PySide6.QtGui import QImage

from app.viewport.camera import FIELD_OF_VIEW, OrbitCamera
from app.viewport.scene import Style, build_geometry

#: background of the 3D view (RGBA): a dark slate that matches the app theme and keeps splat colours readable
BACKGROUND = (0.11, 0.12, 0.14, 1.0)
MAIN, THUMB = "shape", "thumbnail"
#: the one renderer's fixed buffer: re-creating a Filament renderer at a new size hung ``BeginFrame`` in half of
#: the runs here, so the buffer never changes; any widget aspect is drawn by the projection and the frame is
#: stretched back by Qt (so a wide widget gets slightly soft pixels, never distortion)
RENDER_SIZE = (768, 576)
#: near/far clip planes as fractions/multiples of the camera distance
NEAR, FAR = 0.01, 20.0


def to_qimage(rgb: np.ndarray) -> QImage:
    """A deep-copied RGB888 QImage of an (H, W, 3) uint8 array (the array may be freed afterwards)."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


@dataclass
class _ThumbnailRequest:
    key: object
    shape: object
    style: Style
    size: int


class RenderThread(QThread):
    """Renders the viewport's shape and thumbnails; call :meth:`stop` before the application quits."""

    frame_ready = Signal(QImage, int)        # image, id of the request it answers
    thumbnail_ready = Signal(object, QImage)  # key, image
    shape_failed = Signal(str)               # a shape that could not be drawn (message)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._lock = threading.Condition()
        self._shape: tuple[object, Style] | None = None
        self._shape_dirty = False
        self._view: tuple[OrbitCamera, tuple[int, int], int] | None = None
        self._thumbnails: OrderedDict[object, _ThumbnailRequest] = OrderedDict()
        self._stopping = False
        self._busy = False

    # -- GUI-thread API ---------------------------------------------------------------------------------
    def set_shape(self, shape: object | None, style: Style) -> None:
        """Show ``shape`` (None clears the view) with ``style`` at the next frame."""
        with self._lock:
            self._shape = None if shape is None else (shape, style)
            self._shape_dirty = True
            self._lock.notify()

    def request_frame(self, camera: OrbitCamera, size: tuple[int, int], request_id: int) -> None:
        """Ask for a frame; a newer request replaces one not yet started."""
        with self._lock:
            self._view = (camera, (max(int(size[0]), 16), max(int(size[1]), 16)), request_id)
            self._lock.notify()

    def request_thumbnail(self, key: object, shape: object, style: Style, size: int) -> None:
        """Ask for a square thumbnail of ``shape``; answered by ``thumbnail_ready(key, image)``."""
        with self._lock:
            self._thumbnails[key] = _ThumbnailRequest(key, shape, style, size)
            self._lock.notify()

    def cancel_thumbnails(self) -> None:
        """Drop thumbnails not yet rendered (e.g. a new dataset was opened)."""
        with self._lock:
            self._thumbnails.clear()

    @property
    def idle(self) -> bool:
        """True when nothing is queued or being drawn (screenshots wait for this)."""
        with self._lock:
            return not (self._busy or self._shape_dirty or self._view or self._thumbnails)

    def stop(self) -> None:
        """Finish the current frame, release the renderer in its own thread, and wait for the thread."""
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self.wait()

    # -- render thread -------------------------------------------------------------------------------------
    def run(self) -> None:  # noqa: D102 - QThread entry point
        from open3d.visualization import rendering

        self._renderer, bounds = None, None
        try:
            while True:
                with self._lock:
                    while not (self._stopping or self._shape_dirty or self._view or self._thumbnails):
                        self._lock.wait()
                    if self._stopping:
                        return
                    self._busy = True
                    shape_dirty, shape_style = self._shape_dirty, self._shape
                    view, self._view = self._view, None
                    self._shape_dirty = False
                    thumb = None
                    if view is None and not shape_dirty and self._thumbnails:
                        thumb = self._thumbnails.popitem(last=False)[1]
                if self._renderer is None:
                    self._create(rendering)
                    shape_dirty = True
                if shape_dirty:
                    bounds = self._load(self._renderer, shape_style)
                    if view is None:
                        self._busy = False
                        continue
                if thumb is not None:
                    self._thumbnail(self._renderer, thumb, bounds is not None)
                    self._busy = False
                    continue
                camera, (width, height), request_id = view
                _aim(self._renderer, camera, width / height)
                frame = to_qimage(np.asarray(self._renderer.render_to_image()))
                self.frame_ready.emit(frame.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation), request_id)
                self._busy = False
        finally:
            self._release()

    def _release(self) -> None:
        """Clear and drop the renderer in this thread (notes/rendering.md: otherwise Filament aborts at exit)."""
        if self._renderer is not None:
            self._renderer.scene.clear_geometry()
            self._renderer = None

    def _create(self, rendering) -> None:
        """The one renderer of this thread (two alive at once abort the process at exit)."""
        self._renderer = rendering.OffscreenRenderer(*RENDER_SIZE)
        self._renderer.scene.view.set_post_processing(False)  # notes/rendering.md: otherwise washed-out grey
        self._renderer.scene.set_background(list(BACKGROUND))

    def _load(self, renderer, shape_style) -> tuple | None:
        """Replace the scene's main geometry; returns its bounds (None for an empty scene)."""
        renderer.scene.clear_geometry()
        if shape_style is None:
            return None
        try:
            drawable = build_geometry(*shape_style)
        except Exception as exc:  # a shape the viewport cannot draw must not kill the render thread
            self.shape_failed.emit(f"{type(exc).__name__}: {exc}")
            return None
        renderer.scene.add_geometry(MAIN, drawable.geometry, drawable.material)
        return drawable.lower, drawable.upper

    def _thumbnail(self, renderer, request: _ThumbnailRequest, has_main: bool) -> None:
        """Draw one thumbnail with the main shape hidden, crop the centre square and scale it down."""
        try:
            drawable = build_geometry(request.shape, request.style)
        except Exception as exc:
            self.shape_failed.emit(f"{type(exc).__name__}: {exc}")
            return
        if has_main:
            renderer.scene.show_geometry(MAIN, False)
        renderer.scene.add_geometry(THUMB, drawable.geometry, drawable.material)
        _aim(renderer, OrbitCamera(up=request.style.up).fitted(drawable.lower, drawable.upper), 1.0)
        image = to_qimage(np.asarray(renderer.render_to_image()))
        renderer.scene.remove_geometry(THUMB)
        if has_main:
            renderer.scene.show_geometry(MAIN, True)
        self.thumbnail_ready.emit(request.key, image.scaled(request.size, request.size,
                                                            Qt.AspectRatioMode.IgnoreAspectRatio,
                                                            Qt.TransformationMode.SmoothTransformation))


def _aim(renderer, camera: OrbitCamera, aspect: float) -> None:
    """Point the renderer's camera; ``aspect`` is the displayed frame's width/height, not the buffer's."""
    from open3d.visualization import rendering

    renderer.scene.camera.set_projection(FIELD_OF_VIEW, aspect, camera.distance * NEAR, camera.distance * FAR,
                                         rendering.Camera.FovType.Vertical)
    renderer.scene.camera.look_at(camera.target, camera.eye(), camera.up_vector())
