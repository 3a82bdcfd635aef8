"""The Filament renderer, alone in a child process: the GUI side sends requests, gets RGB frames back.

Why a process: in this GUI, Open3D's ``FilamentRenderer::BeginFrame`` stalled intermittently (for tens of
seconds or for good) once Qt shared the process, and a renderer cannot be re-created in a process that had
one (measured here). In a child process a stalled renderer is killed and replaced, the GUI never waits on
it, and Filament's abort-at-exit (notes/rendering.md) cannot touch the app's exit code.
"""
from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

import numpy as np

from app.viewport.camera import FIELD_OF_VIEW, OrbitCamera
from app.viewport.scene import Style, build_geometry

#: background of the 3D view (RGBA): black keeps point colours and splats at full contrast
BACKGROUND = (0.0, 0.0, 0.0, 1.0)
MAIN, THUMB = "shape", "thumbnail"
#: the renderer's fixed buffer: any widget aspect is drawn by the projection and the frame is stretched back
#: by Qt (a renderer's size cannot change without re-creating it, which hung here)
RENDER_SIZE = (768, 576)
#: near/far clip planes as fractions/multiples of the camera distance
NEAR, FAR = 0.01, 20.0


def _aim(renderer, camera: OrbitCamera, aspect: float) -> None:
    """Point the camera; ``aspect`` is the displayed frame's width/height, not the buffer's."""
    from open3d.visualization import rendering

    renderer.scene.camera.set_projection(FIELD_OF_VIEW, aspect, camera.distance * NEAR, camera.distance * FAR,
                                         rendering.Camera.FovType.Vertical)
    renderer.scene.camera.look_at(camera.target, camera.eye(), camera.up_vector())


def downsample(rgb: np.ndarray, size: int) -> np.ndarray:
    """A ``size``×``size`` thumbnail of an (H, W, 3) frame: box-filtered, then sampled on a regular grid."""
    height, width = rgb.shape[:2]
    factor = max(1, min(height, width) // size)
    blocks = rgb[: height // factor * factor, : width // factor * factor].astype(np.float32)
    blocks = blocks.reshape(height // factor, factor, width // factor, factor, 3).mean(axis=(1, 3))
    rows = np.linspace(0, blocks.shape[0] - 1, size).round().astype(int)
    cols = np.linspace(0, blocks.shape[1] - 1, size).round().astype(int)
    return blocks[rows][:, cols].astype(np.uint8)


class _Scene:
    """The child's renderer with the viewport's shape; thumbnails are drawn with that shape hidden."""

    def __init__(self) -> None:
        from open3d.visualization import rendering

        self.renderer = rendering.OffscreenRenderer(*RENDER_SIZE)
        self.renderer.scene.view.set_post_processing(False)  # notes/rendering.md: otherwise washed-out grey
        self.renderer.scene.set_background(list(BACKGROUND))
        self.has_main = False

    def load(self, shape: object | None, style: Style) -> str | None:
        """Replace the main shape; returns an error message for a shape that cannot be drawn."""
        self.renderer.scene.clear_geometry()
        self.has_main = False
        if shape is None:
            return None
        try:
            drawable = build_geometry(shape, style)
        except Exception as exc:  # a bad shape must not end the renderer
            return f"{type(exc).__name__}: {exc}"
        self.renderer.scene.add_geometry(MAIN, drawable.geometry, drawable.material)
        self.has_main = True
        return None

    def frame(self, camera: OrbitCamera, aspect: float) -> np.ndarray:
        """One RGB frame of the main shape."""
        _aim(self.renderer, camera, aspect)
        return np.asarray(self.renderer.render_to_image())

    def thumbnail(self, shape: object, style: Style, size: int) -> np.ndarray:
        """A square picture of ``shape`` from the default angle."""
        drawable = build_geometry(shape, style)
        if self.has_main:
            self.renderer.scene.show_geometry(MAIN, False)
        self.renderer.scene.add_geometry(THUMB, drawable.geometry, drawable.material)
        _aim(self.renderer, OrbitCamera(up=style.up).fitted(drawable.lower, drawable.upper), 1.0)
        image = downsample(np.asarray(self.renderer.render_to_image()), size)
        self.renderer.scene.remove_geometry(THUMB)
        if self.has_main:
            self.renderer.scene.show_geometry(MAIN, True)
        return image

    def release(self) -> None:
        """Clear and drop the renderer (notes/rendering.md: otherwise Filament aborts at exit)."""
        self.renderer.scene.clear_geometry()
        del self.renderer


def serve(conn: Connection) -> None:
    """The child's loop: ("load", shape, style) | ("frame", camera, aspect) | ("thumb", shape, style, size) |
    ("stop",); every request gets one reply ("ok", payload) or ("error", message)."""
    scene = _Scene()
    try:
        while True:
            request = conn.recv()
            kind = request[0]
            if kind == "stop":
                break
            try:
                if kind == "load":
                    error = scene.load(*request[1:])
                    conn.send(("ok", None) if error is None else ("error", error))
                elif kind == "frame":
                    conn.send(("ok", scene.frame(*request[1:])))
                elif kind == "thumb":
                    conn.send(("ok", scene.thumbnail(*request[1:])))
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        scene.release()
        conn.send(("ok", "stopped"))


def spawn() -> tuple[multiprocessing.process.BaseProcess, Connection]:
    """Start a renderer process ("spawn": a fresh interpreter, never a fork of the Qt process)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(child,), name="latent3d-renderer", daemon=True)
    process.start()
    child.close()
    return process, parent
