"""An orbit camera as plain data, shared by offscreen pictures and the app's viewport (which turns drags into moves).

The world up axis is an index (0 = X, 1 = Y, 2 = Z): Z is ModelNet's and most scanners', Y the built-in set's
and most modelling tools'. ``axis_index`` also takes the letters the CLI and the jobs use.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: vertical field of view in degrees; 40° keeps perspective distortion low for object-centred views
FIELD_OF_VIEW = 40.0
#: degrees of rotation per pixel of mouse drag
ORBIT_DEG_PER_PIXEL = 0.4
#: elevation is kept inside ±89° so the view never flips over the pole
MAX_ELEVATION = 89.0
#: default three-quarter view (azimuth, elevation) from the front-right, above: shows front, side and top at once
DEFAULT_AZIMUTH, DEFAULT_ELEVATION = 32.0, 25.0
#: a bounding sphere of radius r fills the view at distance r * FIT_MARGIN / sin(fov/2)
FIT_MARGIN = 1.05
#: empty space around a tightly framed shape, as a fraction of the distance that just fits it
TIGHT_MARGIN = 0.12
UP_AXES = {"x": 0, "y": 1, "z": 2}
#: (front, right) world directions for each up axis: Z-up shapes (ModelNet) face -Y, Y-up shapes (the built-in
#: set, modelling tools) face +Z
FRAMES = {0: ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)), 1: ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),
          2: ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0))}


def axis_index(up: str | int) -> int:
    """The index of an up axis given as 0/1/2 or "x"/"y"/"z"."""
    index = UP_AXES.get(up, up) if isinstance(up, str) else up
    if index not in (0, 1, 2):
        raise ValueError(f"up axis must be one of x, y, z, got {up!r}")
    return int(index)


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

    def direction(self) -> np.ndarray:
        """Unit vector from the target to the eye: azimuth 0 looks at the shape's front, 90 at its right side."""
        front, right = (np.asarray(v) for v in FRAMES[self.up])
        az, el = np.radians(self.azimuth), np.radians(self.elevation)
        return np.cos(el) * (np.cos(az) * front + np.sin(az) * right) + np.sin(el) * self.up_vector()

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The camera's unit right, screen-up and back (target to eye) directions in world coordinates."""
        back = self.direction()
        right = np.cross(self.up_vector(), back)
        right /= max(np.linalg.norm(right), 1e-12)  # never 0: elevation stops short of the poles
        return right, np.cross(back, right), back

    def eye(self) -> np.ndarray:
        """Camera position in world coordinates."""
        return np.asarray(self.target) + self.distance * self.direction()

    def extrinsic(self) -> np.ndarray:
        """World-to-camera 4×4 matrix in the pinhole convention (x right, y down, z forward)."""
        eye = self.eye()
        right, screen_up, back = self.basis()
        matrix = np.eye(4)
        matrix[:3, :3] = np.stack([right, -screen_up, -back])
        matrix[:3, 3] = -matrix[:3, :3] @ eye
        return matrix

    def orbit(self, dx: float, dy: float) -> "OrbitCamera":
        """Rotate by a mouse drag of (dx, dy) pixels."""
        elevation = float(np.clip(self.elevation + dy * ORBIT_DEG_PER_PIXEL, -MAX_ELEVATION, MAX_ELEVATION))
        return replace(self, azimuth=(self.azimuth - dx * ORBIT_DEG_PER_PIXEL) % 360.0, elevation=elevation)

    def pan(self, dx: float, dy: float, viewport_height: int) -> "OrbitCamera":
        """Move the target in the view plane so the scene follows the mouse."""
        right, screen_up, _ = self.basis()
        world_per_pixel = 2 * self.distance * np.tan(np.radians(FIELD_OF_VIEW / 2)) / max(viewport_height, 1)
        shift = (-dx * right + dy * screen_up) * world_per_pixel
        return replace(self, target=tuple(float(v) for v in np.asarray(self.target) + shift))

    def zoom(self, factor: float) -> "OrbitCamera":
        """Move closer (factor < 1) or further (factor > 1)."""
        return replace(self, distance=float(np.clip(self.distance * factor, 1e-3, 1e4)))

    def fitted(self, lower: np.ndarray, upper: np.ndarray, aspect: float = 1.0) -> "OrbitCamera":
        """This view angle, framed so an axis-aligned box's bounding sphere fits a view of ``aspect`` (width/height):
        the shape stays in view however it is orbited."""
        centre = (np.asarray(lower, float) + np.asarray(upper, float)) / 2
        radius = max(float(np.linalg.norm(np.asarray(upper, float) - lower)) / 2, 1e-6)
        distance = radius * FIT_MARGIN / np.sin(np.radians(FIELD_OF_VIEW / 2))
        distance /= min(aspect, 1.0)  # a tall view: the horizontal field of view is the narrower one
        return replace(self, target=tuple(float(v) for v in centre), distance=float(distance))

    def framing(self, points: np.ndarray, aspect: float = 1.0) -> "OrbitCamera":
        """This view angle, as close as keeps every one of ``points`` in a view of ``aspect``: full pictures.

        Each point's offset from the box centre, in the camera's right/up/back frame, bounds the distance at
        which it stays inside the frustum; the largest bound wins, plus a small margin.
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        lower, upper = points.min(axis=0), points.max(axis=0)
        centre = (lower + upper) / 2.0
        right, true_up, back = self.basis()
        offsets = points - centre
        tan_v = np.tan(np.radians(FIELD_OF_VIEW) / 2.0)
        # a point at height y and depth z (toward the camera) is in view when |y| <= (distance - z) * tan
        needed = np.maximum(np.abs(offsets @ right) / (tan_v * aspect), np.abs(offsets @ true_up) / tan_v)
        needed += offsets @ back
        radius = max(float(np.linalg.norm(upper - lower)) / 2, 1e-6)
        distance = max(float(needed.max()) * (1.0 + TIGHT_MARGIN), radius)  # never inside the bounding sphere
        return replace(self, target=tuple(float(v) for v in centre), distance=distance)
