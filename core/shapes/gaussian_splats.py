"""3D Gaussian splats in the parameterisation of Kerbl et al. 2023 (the Inria 3DGS PLY layout)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import ShapeError
from core.shapes._checks import as_float_array, check_rows
from core.shapes.normalization import Normalization

# Zeroth-order real spherical-harmonic constant: colour = 0.5 + SH_C0 * f_dc (3DGS, utils/sh_utils.py).
SH_C0 = 0.28209479177387814


@dataclass
class GaussianSplats:
    """N Gaussians stored exactly as 3DGS trains them.

    ``opacity_logit`` is pre-sigmoid, ``log_scales`` pre-exp, ``rotations`` are unnormalised
    quaternions (w, x, y, z); ``sh_rest`` keeps the file's channel-major ``f_rest_*`` order. ``layout``
    records the PLY property names and dtypes as read, so a write of a read is bit-exact; ``extra``
    keeps per-splat properties outside the standard layout.
    """

    positions: np.ndarray
    sh_dc: np.ndarray
    opacity_logit: np.ndarray
    log_scales: np.ndarray
    rotations: np.ndarray
    sh_rest: np.ndarray | None = None
    normals: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    layout: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self) -> None:
        self.positions = as_float_array("positions (x, y, z)", self.positions, 3)
        n = len(self.positions)
        self.sh_dc = as_float_array("f_dc", self.sh_dc, 3)
        self.opacity_logit = as_float_array("opacity", self.opacity_logit, None)
        self.log_scales = as_float_array("scale", self.log_scales, 3)
        self.rotations = as_float_array("rot", self.rotations, 4)
        if self.sh_rest is not None:
            rest = np.asarray(self.sh_rest)
            if rest.ndim != 2 or rest.shape[1] % 3 != 0:
                raise ShapeError(f"f_rest must have shape (N, 3*K), got {rest.shape}")
            self.sh_rest = as_float_array("f_rest", rest, rest.shape[1])
        if self.normals is not None:
            self.normals = as_float_array("normals", self.normals, 3)
        for name in ("sh_dc", "opacity_logit", "log_scales", "rotations", "sh_rest", "normals"):
            check_rows(name, getattr(self, name), n)
        if np.any(np.all(self.rotations == 0, axis=1)):
            raise ShapeError("rot has all-zero quaternions")

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def sh_degree(self) -> int:
        """Spherical-harmonic degree: 0 without f_rest, 3 with 45 f_rest values."""
        if self.sh_rest is None:
            return 0
        coefficients = self.sh_rest.shape[1] // 3 + 1
        return int(round(np.sqrt(coefficients))) - 1

    @property
    def colors(self) -> np.ndarray:
        """View-independent RGB in [0, 1] from the DC term."""
        return np.clip(0.5 + SH_C0 * self.sh_dc, 0.0, 1.0)

    @property
    def opacity(self) -> np.ndarray:
        """Opacity in (0, 1)."""
        return 1.0 / (1.0 + np.exp(-self.opacity_logit))

    @property
    def scales(self) -> np.ndarray:
        """Linear standard deviations (N, 3)."""
        return np.exp(self.log_scales)

    @property
    def unit_rotations(self) -> np.ndarray:
        """Normalised (w, x, y, z) quaternions."""
        return self.rotations / np.linalg.norm(self.rotations, axis=1, keepdims=True)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) of the centres."""
        return self.positions.min(axis=0), self.positions.max(axis=0)

    def transformed(self, norm: Normalization) -> "GaussianSplats":
        """Apply a similarity transform: centres move, log-scales shift by log(scale)."""
        return GaussianSplats(
            positions=norm.apply(self.positions), sh_dc=self.sh_dc, opacity_logit=self.opacity_logit,
            log_scales=(self.log_scales + np.log(norm.scale)).astype(np.float32), rotations=self.rotations,
            sh_rest=self.sh_rest, normals=self.normals, extra=dict(self.extra), layout=None)

    def normalized(self) -> tuple["GaussianSplats", Normalization]:
        """Centre and scale the centres into the unit sphere."""
        norm = Normalization.unit_sphere(self.positions)
        return self.transformed(norm), norm

    @classmethod
    def from_colors(cls, positions: np.ndarray, colors: np.ndarray, scales: np.ndarray,
                    rotations: np.ndarray, opacity: np.ndarray) -> "GaussianSplats":
        """Build from linear quantities (RGB 0..1, linear scales, opacity 0..1)."""
        opacity = np.clip(np.asarray(opacity, dtype=np.float64), 1e-6, 1 - 1e-6)
        return cls(positions=positions,
                   sh_dc=(np.asarray(colors, dtype=np.float64) - 0.5) / SH_C0,
                   opacity_logit=np.log(opacity / (1 - opacity)),
                   log_scales=np.log(np.maximum(np.asarray(scales, dtype=np.float64), 1e-12)),
                   rotations=rotations)
