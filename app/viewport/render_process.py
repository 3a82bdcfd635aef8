"""The viewport's renderers, alone in a child process: the GUI side sends requests, gets RGB frames back.

The drawing is core's (``core.render``: points, voxels and meshes by Open3D's legacy OpenGL renderer, 10–50 ms
a frame on llvmpipe). Gaussian splats are drawn twice over: every frame as flat discs by the legacy renderer
(30–50 ms for a 4,096-splat chair, where Filament's Gaussian shader takes 0.7–1.6 s on 2 loaded cores), and,
asked for with ``full`` once the view rests, by Filament's Gaussian shader (made on the first such frame,
after the legacy window). The process
stays as a safety net: a renderer that stalls anyway is killed and replaced by the render thread, and an Open3D
abort at exit cannot touch the app's exit code.
"""
import multiprocessing
from dataclasses import replace
from multiprocessing.connection import Connection

import numpy as np

from core.render import OrbitCamera, SceneGeometry, Style, build_geometry, render_view
from core.render.renderers import Renderers
from core.shapes import GaussianSplats

#: background of the 3D view (RGB): black keeps point colours and splats at full contrast
BACKGROUND = (0.0, 0.0, 0.0)
#: the renderers' fixed buffers (neither can change size without being re-created): the legacy view crops its
#: buffer to the widget's aspect, Filament's projection takes that aspect and Qt stretches the frame back
RENDER_SIZE = (768, 576)
#: points of a thumbnail are drawn this much bigger, relative to its size, than in the view, so they read small
THUMB_POINT_SCALE = 2.5


class _Scene:
    """The viewport's shape and the renderers that draw it; thumbnails borrow the renderers for one frame."""

    def __init__(self) -> None:
        Renderers.legacy(RENDER_SIZE)  # first: it cannot be made after a Filament renderer
        self.shape: object | None = None
        self.main: SceneGeometry | None = None
        self.full: SceneGeometry | None = None
        self.style = Style()

    def load(self, shape: object | None, style: Style) -> str | None:
        """Replace the main shape (splats as discs; their Gaussian drawing is built on the first ``full``
        frame); returns an error message for a shape that cannot be drawn."""
        self.shape, self.main, self.full, self.style = shape, None, None, style
        if shape is not None:
            try:
                self.main = build_geometry(shape, replace(style, splats="discs"))
            except Exception as exc:  # a bad shape must not end the renderer
                return f"{type(exc).__name__}: {exc}"
        return None

    def frame(self, camera: OrbitCamera, aspect: float, full: bool = False) -> np.ndarray:
        """One RGB frame of the main shape (the buffer's crop for ``aspect``; point size in buffer pixels);
        ``full`` draws splats with the Gaussian shader instead of discs."""
        drawable = self.main
        if full and isinstance(self.shape, GaussianSplats):
            if self.full is None:
                Renderers.filament(RENDER_SIZE)  # before its geometry: see core.render.offscreen.render_view
                self.full = build_geometry(self.shape, replace(self.style, splats="gaussian"))
            drawable = self.full
        return Renderers.draw(drawable, camera, aspect, self.style.point_size, BACKGROUND, RENDER_SIZE)

    def thumbnail(self, shape: object, style: Style, size: int) -> np.ndarray:
        """A square picture of ``shape`` from the default angle."""
        point_size = style.point_size * THUMB_POINT_SCALE * size / RENDER_SIZE[1]
        return render_view(shape, (size, size), replace(style, point_size=point_size), background=BACKGROUND,
                           splat_size=RENDER_SIZE)


def serve(conn: Connection) -> None:
    """The child's loop: ("load", shape, style) | ("frame", camera, aspect, full) | ("thumb", shape, style, size) |
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
        Renderers.release()
        conn.send(("ok", "stopped"))


def spawn() -> tuple[multiprocessing.process.BaseProcess, Connection]:
    """Start a renderer process ("spawn": a fresh interpreter, never a fork of the Qt process)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(child,), name="latent3d-renderer", daemon=True)
    process.start()
    child.close()
    return process, parent
