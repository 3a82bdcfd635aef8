"""Offscreen pictures of shapes with Open3D's Filament renderer (Vulkan on llvmpipe here).

Starting a renderer costs 0.1–0.5 s, so one is kept per image size (and up axis, which decides
where the light comes from) and reused; a lock serialises
frames because Filament's engine is not meant to be driven from two threads at once.

Known stall (Open3D 0.20, Vulkan on llvmpipe): now and then a lit mesh frame takes ~46 s (or a
multiple) instead of 0.1 s, e.g. a mesh drawn right after a point cloud late in a sequence; one
renderer per shape kind and shadowless lights did not avoid it. It is the stall behind the
VoxelGrid "deadlock" of ``shared/notes/rendering.md``; the frame does complete.
"""
from __future__ import annotations

import threading

import numpy as np

from core.render.scene import (BACKGROUND, DEFAULT_UP, apply_lighting, fit_camera, framing_points, shape_geometry,
                               shape_material)
from core.shapes import Shape

_GEOMETRY = "shape"
_renderers: dict[tuple[int, int, str], object] = {}
_lock = threading.Lock()


def offscreen_renderer(size: tuple[int, int], up: str = DEFAULT_UP):
    """The shared ``OffscreenRenderer`` of this image size and up axis, lit, with post-processing off.

    Post-processing (tone mapping, bloom) off is what keeps colours true: with it on, every
    image comes out washed-out grey (``shared/notes/rendering.md``).
    """
    from open3d.visualization import rendering

    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {size}")
    renderer = _renderers.get((width, height, up))
    if renderer is None:
        renderer = rendering.OffscreenRenderer(width, height)
        renderer.scene.view.set_post_processing(False)
        renderer.scene.set_background(list(BACKGROUND))
        apply_lighting(renderer.scene, up)
        _renderers[(width, height, up)] = renderer
    return renderer


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
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)


def release_renderers() -> None:
    """Drop the cached renderers (call before a Qt application quits to avoid Filament's exit abort)."""
    with _lock:
        for renderer in _renderers.values():
            renderer.scene.clear_geometry()
        _renderers.clear()
