"""Offscreen pictures of shapes (the demo, contact sheets, docs pictures, thumbnails).

Points, voxels and meshes are drawn by Open3D's legacy OpenGL renderer, splats by Filament
(``core.render.renderers`` says why and holds the two). The legacy buffer has a fixed size, so a picture is its
crop of the asked aspect resampled to the asked size (smaller pictures come out anti-aliased); Filament draws
splats at the asked size directly. A lock serialises frames: neither renderer may be driven from two threads.
"""
from __future__ import annotations

import numpy as np

from core.render.camera import OrbitCamera, axis_index
from core.render.renderers import Renderers, crop_for_aspect
from core.render.scene import Style, build_geometry, framing_points
from core.shapes import GaussianSplats, Shape

#: background of offscreen pictures (RGB in [0, 1]): white, as on a printed page
BACKGROUND = (1.0, 1.0, 1.0)
#: point size in pixels per 320 pixels of picture height
POINT_SIZE_PER_320 = 4.0


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An RGB uint8 image resampled to ``size`` = (width, height) (Lanczos: sharp and alias-free)."""
    from PIL import Image

    width, height = int(size[0]), int(size[1])
    if image.shape[1] == width and image.shape[0] == height:
        return image
    picture = Image.fromarray(np.ascontiguousarray(image[..., :3], dtype=np.uint8))
    return np.asarray(picture.resize((width, height), Image.Resampling.LANCZOS))


def render_view(shape: Shape, size: tuple[int, int], style: Style, camera: OrbitCamera | None = None,
                background: tuple[float, float, float] = BACKGROUND,
                splat_size: tuple[int, int] | None = None) -> np.ndarray:
    """An RGB (H, W, 3) uint8 picture of ``shape`` drawn with ``style`` (``point_size`` in pixels of the picture)
    from ``camera``, by default the default angle fitted tightly to the shape. Splats are drawn at ``splat_size``
    (default: the picture's), so a caller with its own Filament buffer size keeps that renderer."""
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {size}")
    aspect = width / height
    if camera is None:
        camera = OrbitCamera(up=style.up).framing(framing_points(shape), aspect)
    with Renderers.lock:
        if isinstance(shape, GaussianSplats):
            # Filament's renderer must exist before its geometry is built: built first, a 20³ voxel ball
            # stalled its first frame for over 30 s in every run, and not once built after
            Renderers.filament(splat_size or (width, height))
        drawable = build_geometry(shape, style)
        crop_height = crop_for_aspect(Renderers.legacy().size, aspect)[1]  # the legacy view's pixels
        point_size = style.point_size * crop_height / height
        image = Renderers.draw(drawable, camera, aspect, point_size, background, splat_size or (width, height))
    return resize(image, (width, height))


def render_shape(shape: Shape, size: tuple[int, int] = (320, 320), color_by: str = "height",
                 up: str = "z") -> np.ndarray:
    """Render any shape to an RGB image (H, W, 3) uint8 with a camera fitted to its bounds.

    Points are coloured by height (``color_by="normal"`` or ``"color"`` for the cloud's normals or own
    colours), voxels by height and shaded per face, meshes in shaded clay (or their own colours), Gaussian
    splats with Open3D's native splat shader. ``up`` is the shape's up axis ("z" for ModelNet, "y" for the
    built-in set).
    """
    point_size = max(1.0, POINT_SIZE_PER_320 * int(size[1]) / 320.0)
    return render_view(shape, size, Style(color_by=color_by, point_size=point_size, up=axis_index(up)))


def release_renderers() -> None:
    """Free the renderers (call before a Qt application quits to avoid Filament's exit abort)."""
    Renderers.release()
