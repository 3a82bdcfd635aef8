"""The process's two Open3D renderers: the legacy OpenGL ``Visualizer`` for points, voxels and meshes and
Filament's ``OffscreenRenderer`` for Gaussian splats only.

Filament (Vulkan on llvmpipe here) stalls now and then: a lit mesh frame took ~46 s (or a multiple) instead
of 0.1 s, and its ``BeginFrame`` sometimes never returned; the legacy renderer (EGL without a display, GLX
under X) draws the same scenes in 10–50 ms and never stalled, but has no splat shader. Rules measured in
``shared/notes/rendering.md`` and kept here:

* the legacy window is made first: without a display it cannot be made once a Filament renderer exists;
* at most one renderer of each kind is alive: two Filament renderers alive at once make the interpreter abort
  at exit (PreconditionPanic "MaterialInstance … still in use"), one replaced by the next exits cleanly;
* both are released before the interpreter goes (Filament emptied and freed, the window destroyed).

``Renderers`` is not thread-safe: callers hold ``Renderers.lock`` around a frame.
"""
from __future__ import annotations

import atexit
import gc
import threading

import numpy as np

from core.render.camera import FIELD_OF_VIEW, OrbitCamera
from core.render.scene import SceneGeometry

#: the legacy window's buffer: it cannot change size once Filament exists (the window would have to be made
#: again), so it is large and each frame is its centred crop of the asked aspect
LEGACY_SIZE = (1024, 768)
#: the legacy renderer's largest point size (Open3D's RenderOption clamps to it)
MAX_POINT_SIZE = 25.0
#: near/far clip planes of Filament as fractions/multiples of the camera distance
NEAR, FAR = 0.01, 20.0
#: Filament's name for the splat geometry in its scene
SPLATS = "splats"


def crop_for_aspect(size: tuple[int, int], aspect: float) -> tuple[int, int]:
    """The (width, height) of the largest centred part of a ``size`` buffer with ``aspect`` = width/height."""
    width, height = size
    if aspect >= width / height:
        return width, max(1, min(height, round(width / aspect)))
    return max(1, min(width, round(height * aspect))), height


class LegacyView:
    """Open3D's legacy Visualizer on a hidden window, lighting off (the geometry carries baked shading)."""

    def __init__(self, size: tuple[int, int]) -> None:
        import open3d as o3d

        self.size = size
        self.visualizer = o3d.visualization.Visualizer()
        if not self.visualizer.create_window("latent3d-render", size[0], size[1], visible=False):
            raise RuntimeError("Open3D could not create its OpenGL window (EGL/GLX)")
        option = self.visualizer.get_render_option()
        option.light_on = False
        option.mesh_show_back_face = True
        self.geometry = None

    def show(self, geometry) -> None:
        """Make ``geometry`` (None: nothing) the drawn one."""
        if geometry is not self.geometry:
            self.visualizer.clear_geometries()
            if geometry is not None:
                self.visualizer.add_geometry(geometry)
            self.geometry = geometry

    def render(self, camera: OrbitCamera, aspect: float, point_size: float,
               background: tuple[float, ...]) -> np.ndarray:
        """An RGB uint8 frame of ``aspect``: the buffer's centred crop, seen through a square-pixel pinhole."""
        import open3d as o3d

        option = self.visualizer.get_render_option()
        option.point_size = float(min(max(point_size, 1.0), MAX_POINT_SIZE))
        option.background_color = np.asarray(background[:3], dtype=np.float64)
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
        """Close the hidden window."""
        self.visualizer.clear_geometries()
        self.visualizer.destroy_window()
        self.geometry = None


class FilamentView:
    """Filament's OffscreenRenderer for splats, post-processing off (otherwise washed-out grey)."""

    def __init__(self, size: tuple[int, int]) -> None:
        from open3d.visualization import rendering

        self.size = size
        self.renderer = rendering.OffscreenRenderer(*size)
        self.renderer.scene.view.set_post_processing(False)
        self.drawable: SceneGeometry | None = None

    def show(self, drawable: SceneGeometry | None) -> None:
        """Make ``drawable`` (None: nothing) the drawn one."""
        if drawable is not self.drawable:
            self.renderer.scene.clear_geometry()
            if drawable is not None:
                self.renderer.scene.add_geometry(SPLATS, drawable.geometry, drawable.material)
            self.drawable = drawable

    def render(self, camera: OrbitCamera, aspect: float, background: tuple[float, ...]) -> np.ndarray:
        """One RGB frame of the whole buffer, projected for a display of ``aspect``."""
        from open3d.visualization import rendering

        self.renderer.scene.set_background(list(background[:3]) + [1.0])
        self.renderer.scene.camera.set_projection(FIELD_OF_VIEW, aspect, camera.distance * NEAR,
                                                  camera.distance * FAR, rendering.Camera.FovType.Vertical)
        self.renderer.scene.camera.look_at(camera.target, camera.eye(), camera.up_vector())
        return np.ascontiguousarray(np.asarray(self.renderer.render_to_image())[..., :3])

    def release(self) -> None:
        """Empty and free the renderer now (not whenever the cycle collector runs), or Filament aborts at exit."""
        self.renderer.scene.clear_geometry()
        self.drawable = None
        del self.renderer
        gc.collect()


class Renderers:
    """The process's legacy view and (made on the first splat) Filament view; see the module's rules."""

    lock = threading.RLock()
    _legacy: LegacyView | None = None
    _filament: FilamentView | None = None

    @classmethod
    def legacy(cls, size: tuple[int, int] = LEGACY_SIZE) -> LegacyView:
        """The legacy view, made at ``size`` on first use (later calls get it at the size it was made)."""
        if cls._legacy is None:
            cls._legacy = LegacyView(size)
        return cls._legacy

    @classmethod
    def filament(cls, size: tuple[int, int]) -> FilamentView:
        """The Filament view at ``size``: another size's is freed first; the legacy window exists before."""
        cls.legacy()
        if cls._filament is not None and cls._filament.size != tuple(size):
            cls._filament.release()
            cls._filament = None
        if cls._filament is None:
            cls._filament = FilamentView(tuple(size))
        return cls._filament

    @classmethod
    def draw(cls, drawable: SceneGeometry | None, camera: OrbitCamera, aspect: float, point_size: float,
             background: tuple[float, ...], splat_size: tuple[int, int]) -> np.ndarray:
        """One RGB frame of ``drawable``: splats by Filament at ``splat_size``, the rest by the legacy view (its
        buffer's crop of ``aspect``)."""
        if drawable is not None and drawable.needs_filament:
            view = cls.filament(splat_size)
            view.show(drawable)
            return view.render(camera, aspect, background)
        view = cls.legacy()
        view.show(None if drawable is None else drawable.geometry)
        return view.render(camera, aspect, point_size, background)

    @classmethod
    def release(cls) -> None:
        """Free both renderers (Filament first); safe to call twice. A later frame makes them again."""
        with cls.lock:
            if cls._filament is not None:
                cls._filament.release()
                cls._filament = None
            if cls._legacy is not None:
                cls._legacy.release()
                cls._legacy = None


atexit.register(Renderers.release)
