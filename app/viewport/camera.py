"""An orbit camera as plain data: the widget turns mouse drags into orbit/pan/zoom, the renderer reads eye/target."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: vertical field of view in degrees; 40° keeps perspective distortion low for object-centred views
FIELD_OF_VIEW = 40.0
#: degrees of rotation per pixel of mouse drag
ORBIT_DEG_PER_PIXEL = 0.4
#: elevation is kept inside ±89° so the view never flips over the pole
MAX_ELEVATION = 89.0
#: default three-quarter view (azimuth, elevation) that shows front, side and top at once
DEFAULT_AZIMUTH, DEFAULT_ELEVATION = 35.0, 22.0
#: a bounding sphere of radius r fills the view at distance r * FIT_MARGIN / sin(fov/2)
FIT_MARGIN = 1.05


@dataclass(frozen=True)
class OrbitCamera:
    """A camera orbiting ``target`` at ``distance``; ``up`` is the world axis index (1 = Y-up, 2 = Z-up)."""

    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    distance: float = 3.0
    azimuth: float = DEFAULT_AZIMUTH
    elevation: float = DEFAULT_ELEVATION
    up: int = 2

    def up_vector(self) -> np.ndarray:
        """The world up direction."""
        vector = np.zeros(3)
        vector[self.up] = 1.0
        return vector

    def _basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(forward-axis, side-axis, up-axis) of the world frame, so Y-up and Z-up share one formula."""
        up = self.up_vector()
        forward = np.roll(up, 1)  # Z-up -> X forward; Y-up -> Z forward
        side = np.cross(up, forward)
        return forward, side, up

    def eye(self) -> np.ndarray:
        """Camera position in world coordinates."""
        forward, side, up = self._basis()
        az, el = np.radians(self.azimuth), np.radians(self.elevation)
        direction = np.cos(el) * (np.cos(az) * forward + np.sin(az) * side) + np.sin(el) * up
        return np.asarray(self.target) + self.distance * direction

    def extrinsic(self) -> np.ndarray:
        """World-to-camera 4×4 matrix in the pinhole convention (x right, y down, z forward)."""
        eye = self.eye()
        forward = np.asarray(self.target, dtype=np.float64) - eye
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, self.up_vector())
        right /= max(np.linalg.norm(right), 1e-12)
        down = np.cross(forward, right)
        matrix = np.eye(4)
        matrix[:3, :3] = np.stack([right, down, forward])
        matrix[:3, 3] = -matrix[:3, :3] @ eye
        return matrix

    def orbit(self, dx: float, dy: float) -> "OrbitCamera":
        """Rotate by a mouse drag of (dx, dy) pixels."""
        elevation = float(np.clip(self.elevation + dy * ORBIT_DEG_PER_PIXEL, -MAX_ELEVATION, MAX_ELEVATION))
        return replace(self, azimuth=(self.azimuth - dx * ORBIT_DEG_PER_PIXEL) % 360.0, elevation=elevation)

    def pan(self, dx: float, dy: float, viewport_height: int) -> "OrbitCamera":
        """Move the target in the view plane so the scene follows the mouse."""
        eye = self.eye()
        view = np.asarray(self.target) - eye
        view /= np.linalg.norm(view)
        right = np.cross(view, self.up_vector())
        right /= max(np.linalg.norm(right), 1e-9)
        screen_up = np.cross(right, view)
        world_per_pixel = 2 * self.distance * np.tan(np.radians(FIELD_OF_VIEW / 2)) / max(viewport_height, 1)
        shift = (-dx * right + dy * screen_up) * world_per_pixel
        return replace(self, target=tuple(float(v) for v in np.asarray(self.target) + shift))

    def zoom(self, factor: float) -> "OrbitCamera":
        """Move closer (factor < 1) or further (factor > 1)."""
        return replace(self, distance=float(np.clip(self.distance * factor, 1e-3, 1e4)))

    def fitted(self, lower: np.ndarray, upper: np.ndarray, aspect: float = 1.0) -> "OrbitCamera":
        """The default view angle, framed so an axis-aligned box fills a view of ``aspect`` (width/height)."""
        centre = (np.asarray(lower, float) + np.asarray(upper, float)) / 2
        radius = max(float(np.linalg.norm(np.asarray(upper, float) - lower)) / 2, 1e-6)
        distance = radius * FIT_MARGIN / np.sin(np.radians(FIELD_OF_VIEW / 2))
        distance /= min(aspect, 1.0)  # a tall view: the horizontal field of view is the narrower one
        return OrbitCamera(target=tuple(float(v) for v in centre), distance=distance, up=self.up)
