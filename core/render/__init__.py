"""Offscreen pictures of any shape with Open3D (the demo, thumbnails; the app's viewport reuses ``scene``)."""
from core.render.offscreen import release_renderers, render_shape
from core.render.scene import (Camera, apply_lighting, fit_camera, framing_points, shape_geometry,
                               shape_material)
from core.render.sheet import contact_sheet, save_png

__all__ = ["Camera", "apply_lighting", "contact_sheet", "fit_camera", "framing_points", "release_renderers",
           "render_shape", "save_png", "shape_geometry", "shape_material"]
