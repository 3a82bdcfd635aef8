"""What differs per representation around the networks: stored training tensors, network input, outputs.

Training keeps datasets in their compact form (float32 points, bool voxels) and turns a batch into
the autoencoder's input only when it is drawn; sampling turns decoder outputs into arrays for files
and into :mod:`core.shapes` objects for previews.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.errors import InputError
from core.shapes import PointCloud, VoxelGrid

SUPPORTED = ("points", "voxels")


@dataclass(frozen=True)
class Representation:
    """Adapter of one representation; ``normalization`` is recorded in the run (DESIGN: conventions)."""

    name: str
    normalization: str

    def load(self, dataset, n_points: int, resolution: int) -> torch.Tensor:
        """The dataset's shapes as one tensor in compact form."""
        if self.name == "points":
            return torch.from_numpy(np.ascontiguousarray(dataset.points(n_points), dtype=np.float32))
        return torch.from_numpy(np.ascontiguousarray(dataset.voxels(resolution), dtype=bool))

    def model_input(self, stored: torch.Tensor) -> torch.Tensor:
        """A stored batch as the autoencoder's input: points (B,P,3), voxels (B,1,R,R,R) in {0,1}."""
        return stored.float() if self.name == "points" else stored.float().unsqueeze(1)

    def to_array(self, decoded: torch.Tensor) -> np.ndarray:
        """Decoder output as the exported array: points float32 (N,P,3), voxels uint8 (N,R,R,R)."""
        if self.name == "points":
            return decoded.detach().float().cpu().numpy().astype(np.float32)
        return (decoded.detach()[:, 0] > 0).to(torch.uint8).cpu().numpy()  # logit 0 = probability 0.5

    def to_shapes(self, array: np.ndarray) -> list[PointCloud | VoxelGrid]:
        """Exported arrays as shape objects (previews, files)."""
        if self.name == "points":
            return [PointCloud(points) for points in array]
        return [VoxelGrid(grid.astype(bool)) for grid in array]


REPRESENTATIONS = {
    "points": Representation("points", "each shape centred on its bounding box and scaled into the unit sphere"),
    "voxels": Representation("voxels", "each shape centred in the grid, frame [-1,1]^3"),
}


def representation(name: str, source: str | None = None) -> Representation:
    """The adapter for ``name``; splats are accepted by the CLI but not trainable yet (issue 6)."""
    if name not in REPRESENTATIONS:
        raise InputError(source, f"representation {name!r} is not supported yet (supported: {', '.join(SUPPORTED)})")
    return REPRESENTATIONS[name]
