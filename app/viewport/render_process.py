"""The viewport's renderers, alone in a child process: the GUI side sends requests, gets RGB frames back.

Points, voxels and meshes are drawn by Open3D's legacy OpenGL ``Visualizer`` (a hidden window: EGL without a
display, GLX under X), 10–50 ms a frame on llvmpipe; only Gaussian splats use the Filament
``OffscreenRenderer``, created on the first splat. Filament's ``BeginFrame`` stalled here for 46 s or for good
now and then (most often on meshes, which is why the thumbnails of the built-in meshes hung), so keeping it to
the one shape kind that needs it removes the stall from everything else. Order matters (notes/rendering.md):
the legacy window is made first, since without a display it cannot be made once a Filament renderer exists.
The process stays as a safety net: a renderer that stalls anyway is killed and replaced by the render thread,
and Filament's abort-at-exit cannot touch the app's exit code.
"""
from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

import numpy as np

from app.viewport.camera import FIELD_OF_VIEW, OrbitCamera
from app.viewport.scene import SceneGeometry, Style, build_geometry

#: background of the 3D view (RGBA): black keeps point colours and splats at full contrast
BACKGROUND = (0.0, 0.0, 0.0, 1.0)
#: the renderers' fixed buffer (neither can change size without being re-created): the legacy view crops it to
#: the widget's aspect, Filament's projection takes that aspect and Qt stretches the frame back
RENDER_SIZE = (768, 576)
#: Filament's name for the splat geometry in its scene
SPLATS = "splats"
#: near/far clip planes of Filament as fractions/multiples of the camera distance
NEAR, FAR = 0.01, 20.0
#: points of a thumbnail are drawn this much bigger than in the view, so they survive the downsampling
THUMB_POINT_SCALE = 2.5
#: the legacy renderer's largest point size (Open3D's RenderOption clamps to it)
MAX_POINT_SIZE = 25.0


def crop_for_aspect(size: tuple[int, int], aspect: float) -> tuple[int, int]:
    """The (width, height) of the largest centred part of a ``size`` buffer with ``aspect`` = width/height."""
    width, height = size
    if aspect >= width / height:
        return width, max(1, min(height, round(width / aspect)))
    return max(1, min(width, round(height * aspect))), height


class _LegacyView:
    """Open3D's legacy Visualizer on a hidden window, lighting off (the geometry carries baked shading)."""

    def __init__(self, size: tuple[int, int]) -> None:
        import open3d as o3d

        self.size = size
        self.visualizer = o3d.visualization.Visualizer()
        if not self.visualizer.create_window("latent3d-viewport", size[0], size[1], visible=False):
            raise RuntimeError("Open3D could not create its OpenGL window (EGL/GLX)")
        option = self.visualizer.get_render_option()
        option.background_color = np.asarray(BACKGROUND[:3])
        option.light_on = False
        option.mesh_show_back_face = True
        self.geometry = None

    def show(self, geometry, point_size: float) -> None:
        """Make ``geometry`` (None: nothing) the drawn one."""
        if geometry is not self.geometry:
            self.visualizer.clear_geometries()
            if geometry is not None:
                self.visualizer.add_geometry(geometry)
            self.geometry = geometry
        self.visualizer.get_render_option().point_size = float(min(max(point_size, 1.0), MAX_POINT_SIZE))

    def render(self, camera: OrbitCamera, aspect: float) -> np.ndarray:
        """An RGB uint8 frame of ``aspect``: the buffer's centred crop, seen through a square-pixel pinhole."""
        import open3d as o3d

        width, height = self.size
        crop_w, crop_h = crop_for_aspect(self.size, aspect)
        focal = (crop_h / 2) / np.tan(np.radians(FIELD_OF_VIEW / 2))
        parameters = o3d.camera.PinholeCameraParameters()
        parameters.intrinsic = o3d.camera.PinholeCameraIntrinsic(width, height, focal, focal,
                                                                 width / 2 - 0.5, height / 2 - 0.5)
        parameters.extrinsic = camera.extrinsic()
        control = self.visualizer.get_view_control()
        if not control.convert_from_pinhole_camera_parameters(parameters, allow_arbitrary=True):
            raise RuntimeError("Open3D rejected the camera")
        image = np.asarray(self.visualizer.capture_screen_float_buffer(do_render=True))
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        return (np.clip(image[top:top + crop_h, left:left + crop_w], 0, 1) * 255 + 0.5).astype(np.uint8)

    def release(self) -> None:
        """Close the hidden window (notes/rendering.md: before the process ends)."""
        self.visualizer.clear_geometries()
        self.visualizer.destroy_window()


class _FilamentView:
    """Filament's OffscreenRenderer for splats, post-processing off (otherwise washed-out grey)."""

    def __init__(self, size: tuple[int, int]) -> None:
        from open3d.visualization import rendering

        self.renderer = rendering.OffscreenRenderer(*size)
        self.renderer.scene.view.set_post_processing(False)
        self.renderer.scene.set_background(list(BACKGROUND))
        self.drawable: SceneGeometry | None = None

    def show(self, drawable: SceneGeometry | None) -> None:
        """Make ``drawable`` (None: nothing) the drawn one."""
        if drawable is not self.drawable:
            self.renderer.scene.clear_geometry()
            if drawable is not None:
                self.renderer.scene.add_geometry(SPLATS, drawable.geometry, drawable.material)
            self.drawable = drawable

    def render(self, camera: OrbitCamera, aspect: float) -> np.ndarray:
        """One RGB frame of the whole buffer, projected for a display of ``aspect``."""
        from open3d.visualization import rendering

        self.renderer.scene.camera.set_projection(FIELD_OF_VIEW, aspect, camera.distance * NEAR,
                                                  camera.distance * FAR, rendering.Camera.FovType.Vertical)
        self.renderer.scene.camera.look_at(camera.target, camera.eye(), camera.up_vector())
        return np.asarray(self.renderer.render_to_image())[..., :3]

    def release(self) -> None:
        """Clear and drop the renderer (notes/rendering.md: otherwise Filament aborts at exit)."""
        self.renderer.scene.clear_geometry()
        del self.renderer


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
    """The viewport's shape and the renderer that draws it; thumbnails borrow the renderer for one frame."""

    def __init__(self) -> None:
        self.legacy = _LegacyView(RENDER_SIZE)  # first: it cannot be made after a Filament renderer
        self.filament: _FilamentView | None = None
        self.main: SceneGeometry | None = None
        self.style = Style()

    def load(self, shape: object | None, style: Style) -> str | None:
        """Replace the main shape; returns an error message for a shape that cannot be drawn."""
        self.main, self.style = None, style
        if shape is not None:
            try:
                self.main = build_geometry(shape, style)
            except Exception as exc:  # a bad shape must not end the renderer
                return f"{type(exc).__name__}: {exc}"
        return None

    def frame(self, camera: OrbitCamera, aspect: float) -> np.ndarray:
        """One RGB frame of the main shape."""
        return self._render(self.main, self.style.point_size, camera, aspect)

    def thumbnail(self, shape: object, style: Style, size: int) -> np.ndarray:
        """A square picture of ``shape`` from the default angle."""
        drawable = build_geometry(shape, style)
        camera = OrbitCamera(up=style.up).fitted(drawable.lower, drawable.upper)
        return downsample(self._render(drawable, style.point_size * THUMB_POINT_SCALE, camera, 1.0), size)

    def _render(self, drawable: SceneGeometry | None, point_size: float, camera: OrbitCamera,
                aspect: float) -> np.ndarray:
        if drawable is not None and drawable.needs_filament:
            if self.filament is None:
                self.filament = _FilamentView(RENDER_SIZE)
            self.filament.show(drawable)
            return self.filament.render(camera, aspect)
        self.legacy.show(None if drawable is None else drawable.geometry, point_size)
        return self.legacy.render(camera, aspect)

    def release(self) -> None:
        """Free both renderers before the process ends."""
        if self.filament is not None:
            self.filament.release()
        self.legacy.release()


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
