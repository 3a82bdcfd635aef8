"""Offscreen pictures of shapes with Open3D's Filament renderer (Vulkan on llvmpipe here).

Starting a renderer costs 0.1–0.5 s, so the renderer is kept and reused while the image size (and
up axis, which decides where the light comes from) stays the same; a lock serialises
frames because Filament's engine is not meant to be driven from two threads at once.

Known stall (Open3D 0.20, Vulkan on llvmpipe): now and then a lit mesh frame takes ~46 s (or a
multiple) instead of 0.1 s, e.g. a mesh drawn right after a point cloud late in a sequence; one
renderer per shape kind and shadowless lights did not avoid it. It is the stall behind the
VoxelGrid "deadlock" of ``shared/notes/rendering.md``; the frame does complete.
"""
from __future__ import annotations

import atexit
import gc
import threading

import numpy as np

from core.render.scene import (BACKGROUND, DEFAULT_UP, apply_lighting, fit_camera, framing_points, shape_geometry,
                               shape_material)
from core.shapes import Shape

_GEOMETRY = "shape"
_lock = threading.Lock()


class _SingleRenderer:
    """At most one live ``OffscreenRenderer`` per process.

    Two renderers alive at once make Open3D 0.20 abort at interpreter exit (PreconditionPanic
    "MaterialInstance … still in use", measured: every run), whatever order they are freed in;
    one renderer replaced by the next (emptied, then freed) exits cleanly. So a request for another
    size or up axis frees the current renderer before making the new one.
    """

    def __init__(self) -> None:
        self.key: tuple[int, int, str] | None = None
        self.renderer = None

    def get(self, key: tuple[int, int, str]):
        if self.key != key:
            self.release()
            self.renderer, self.key = _new_renderer(*key), key
        return self.renderer

    def release(self) -> None:
        if self.renderer is not None:
            self.renderer.scene.clear_geometry()
            self.renderer, self.key = None, None
            gc.collect()  # free the Filament renderer now, not whenever the cycle collector runs


_current = _SingleRenderer()


def _new_renderer(width: int, height: int, up: str):
    """A lit renderer with post-processing off: with it on, every image comes out washed-out grey
    (``shared/notes/rendering.md``)."""
    from open3d.visualization import rendering

    renderer = rendering.OffscreenRenderer(width, height)
    renderer.scene.view.set_post_processing(False)
    renderer.scene.set_background(list(BACKGROUND))
    apply_lighting(renderer.scene, up)
    return renderer


def offscreen_renderer(size: tuple[int, int], up: str = DEFAULT_UP):
    """The process's ``OffscreenRenderer`` for this image size and up axis (replacing another size's)."""
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {size}")
    return _current.get((width, height, up))


def render_shape(shape: Shape, size: tuple[int, int] = (320, 320), color_by: str = "height",
                 up: str = DEFAULT_UP) -> np.ndarray:
    """Render any shape to an RGB image (H, W, 3) uint8 with a camera fitted to its bounds.

    Points are coloured by height (``color_by="normal"`` or ``"color"`` for the cloud's normals or own
    colours), meshes and voxels are lit, Gaussian splats use Open3D's native splat shader. ``up`` is
    the shape's up axis ("z" for ModelNet, "y" for the built-in set).
    """
    width, height = int(size[0]), int(size[1])
    camera = fit_camera(framing_points(shape), aspect=width / height, up=up)
    with _lock:
        # the renderer must exist before any Open3D geometry is built: built first, a 20³ voxel
        # ball stalled its first frame for over 30 s in every run, and not once built after
        renderer = offscreen_renderer((width, height), up)
        geometry = shape_geometry(shape, color_by, up)
        material = shape_material(shape, height)
        renderer.scene.clear_geometry()
        renderer.scene.add_geometry(_GEOMETRY, geometry, material)
        renderer.setup_camera(camera.fov, camera.center, camera.eye, camera.up)
        image = np.asarray(renderer.render_to_image())
        renderer.scene.clear_geometry()  # an idle renderer holds no geometry, so exit never aborts
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)


def release_renderers() -> None:
    """Free the renderer (call before a Qt application quits to avoid Filament's exit abort)."""
    with _lock:
        _current.release()


atexit.register(release_renderers)
