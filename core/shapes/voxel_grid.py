"""Occupancy voxel grids."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import ShapeError


@dataclass
class VoxelGrid:
    """A boolean R×R×R occupancy grid placed in space.

    Voxel (i, j, k) covers ``origin + [i, i+1) * voxel_size`` on each axis. The default frame is the
    cube [-1, 1]³, which holds any shape normalised into the unit sphere.
    """

    occupancy: np.ndarray
    origin: tuple[float, float, float] = (-1.0, -1.0, -1.0)
    voxel_size: float | None = None

    def __post_init__(self) -> None:
        occ = np.asarray(self.occupancy)
        if occ.dtype == object or not (np.issubdtype(occ.dtype, np.number) or occ.dtype == bool):
            raise ShapeError(f"occupancy has non-numeric dtype {occ.dtype}")
        if occ.ndim != 3 or len(set(occ.shape)) != 1 or occ.shape[0] < 2:
            raise ShapeError(f"occupancy must be a cubic grid (R, R, R) with R >= 2, got {occ.shape}")
        if np.issubdtype(occ.dtype, np.floating) and not np.isfinite(occ).all():
            raise ShapeError("occupancy has NaN or Inf values")
        self.occupancy = occ > 0.5 if np.issubdtype(occ.dtype, np.floating) else occ.astype(bool)
        self.origin = tuple(float(v) for v in self.origin)
        if self.voxel_size is None:
            self.voxel_size = 2.0 / self.resolution
        if not (np.isfinite(self.voxel_size) and self.voxel_size > 0):
            raise ShapeError(f"voxel_size must be positive, got {self.voxel_size}")

    @property
    def resolution(self) -> int:
        """Cells per side."""
        return int(self.occupancy.shape[0])

    @property
    def filled(self) -> int:
        """Number of occupied cells."""
        return int(self.occupancy.sum())

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The (min, max) corners of the grid's box."""
        lo = np.asarray(self.origin)
        return lo, lo + self.resolution * self.voxel_size

    def centers(self) -> np.ndarray:
        """World coordinates (M, 3) of the occupied cells' centres."""
        idx = np.argwhere(self.occupancy)
        return (np.asarray(self.origin) + (idx + 0.5) * self.voxel_size).astype(np.float32)

    def to_tensor(self):
        """Occupancy as a float32 torch tensor (R, R, R)."""
        import torch

        return torch.from_numpy(self.occupancy.astype(np.float32))

    @classmethod
    def from_tensor(cls, tensor, threshold: float = 0.5) -> "VoxelGrid":
        """Threshold a (R, R, R) tensor or array of probabilities."""
        array = np.asarray(tensor.detach().cpu() if hasattr(tensor, "detach") else tensor, dtype=np.float32)
        return cls(array > threshold)
