"""Pictures of any shape with Open3D: offscreen (the demo, thumbnails, docs) and, through the same scene, camera
and renderers, the app's viewport."""
from core.render.camera import OrbitCamera, axis_index
from core.render.offscreen import release_renderers, render_shape, render_view, resize
from core.render.scene import COLOR_MODES, SceneGeometry, Style, build_geometry, framing_points, shape_bounds
from core.render.sheet import contact_sheet, save_png

__all__ = ["COLOR_MODES", "OrbitCamera", "SceneGeometry", "Style", "axis_index", "build_geometry", "contact_sheet",
           "framing_points", "release_renderers", "render_shape", "render_view", "resize", "save_png",
           "shape_bounds"]
