"""What differs per representation around the networks: stored training tensors, network input, outputs.

Training keeps datasets in their compact form (float32 points, bool voxels, packed occupied cells of
splat grids) and turns a batch into the autoencoder's input only when it is drawn; sampling turns
decoder outputs into arrays for files and into :mod:`core.shapes` objects for previews.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from core.data.splat_grid import CHANNELS, OCCUPANCY, OCCUPANCY_THRESHOLD, PACKED_INDEX, decode
from core.errors import InputError
from core.shapes import GaussianSplats, PointCloud, Shape, VoxelGrid


@dataclass(frozen=True)
class Representation:
    """Adapter of one representation; ``normalization`` is recorded in the run (DESIGN: conventions),
    ``resolution`` is the run's grid size (splat grids are stored without it)."""

    name: str
    normalization: str
    resolution: int = 32

    def load(self, dataset, n_points: int, resolution: int) -> torch.Tensor:
        """The dataset's shapes as one tensor in compact form."""
        raise NotImplementedError

    def model_input(self, stored: torch.Tensor) -> torch.Tensor:
        """A stored batch as the autoencoder's input."""
        raise NotImplementedError

    def to_array(self, decoded: torch.Tensor) -> np.ndarray:
        """Decoder output as the exported array."""
        raise NotImplementedError

    def to_shapes(self, array: np.ndarray) -> list[Shape]:
        """Exported arrays as shape objects (previews, files)."""
        raise NotImplementedError


class Points(Representation):
    """Clouds (B, P, 3) in the unit sphere, as stored, decoded and exported."""

    def load(self, dataset, n_points: int, resolution: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(dataset.points(n_points), dtype=np.float32))

    def model_input(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.float()

    def to_array(self, decoded: torch.Tensor) -> np.ndarray:
        """float32 (N, P, 3)."""
        return decoded.detach().float().cpu().numpy().astype(np.float32)

    def to_shapes(self, array: np.ndarray) -> list[PointCloud]:
        return [PointCloud(points) for points in array]


@dataclass(frozen=True)
class Voxels(Representation):
    """Occupancy stored as bool (B, R, R, R), fed as (B, 1, R, R, R) in {0, 1}, exported as uint8.

    ``occupancy_logit``: a cell is occupied where the decoder's logit exceeds it (0: probability 0.5). A model
    may read its cells a little below 0.5 (config.json's ``occupancy_logit``, set by ``export-builtin
    --occupancy-logit``): thin legs and struts the decoder is unsure of then stay joined to the shape.
    """

    occupancy_logit: float = 0.0

    def load(self, dataset, n_points: int, resolution: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(dataset.voxels(resolution), dtype=bool))

    def model_input(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.float().unsqueeze(1)

    def to_array(self, decoded: torch.Tensor) -> np.ndarray:
        """uint8 (N, R, R, R): the cells whose logit exceeds ``occupancy_logit``."""
        return (decoded.detach()[:, 0] > self.occupancy_logit).to(torch.uint8).cpu().numpy()

    def to_shapes(self, array: np.ndarray) -> list[VoxelGrid]:
        return [VoxelGrid(grid.astype(bool)) for grid in array]


class Splats(Representation):
    """Splat grids (:mod:`core.data.splat_grid`): stored as packed occupied cells (B, K, C), fed dense
    (B, C, R, R, R), exported as dense grids with the occupancy as a probability."""

    def load(self, dataset, n_points: int, resolution: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(dataset.splat_grids(resolution), dtype=np.float32))

    def model_input(self, stored: torch.Tensor) -> torch.Tensor:
        batch, rows, _ = stored.shape
        resolution = self.resolution
        index = stored[..., PACKED_INDEX].long()
        kept = index >= 0
        values = torch.cat([torch.ones_like(stored[..., :1]), stored[..., 1:]], dim=-1).float()
        dense = values.new_zeros(batch, resolution**3, CHANNELS)
        shape_of_row = torch.arange(batch, device=stored.device)[:, None].expand(batch, rows)
        dense[shape_of_row[kept], index[kept]] = values[kept]
        return dense.transpose(1, 2).reshape(batch, CHANNELS, resolution, resolution, resolution)

    def to_array(self, decoded: torch.Tensor) -> np.ndarray:
        """float32 (N, C, R, R, R): occupancy probability, the channels where it is ≥ 0.5 and 0 elsewhere."""
        grids = decoded.detach().float().cpu().clone()
        grids[:, OCCUPANCY] = torch.sigmoid(grids[:, OCCUPANCY])
        grids[:, OCCUPANCY + 1:] *= (grids[:, OCCUPANCY:OCCUPANCY + 1] >= OCCUPANCY_THRESHOLD)
        return grids.numpy()

    def to_shapes(self, array: np.ndarray) -> list[GaussianSplats]:
        """One Gaussian per occupied cell; a sample without any keeps its most probable cell, so a
        preview always has something to draw (:class:`core.jobs.sample.SampleJob` writes no file for it)."""
        return [decode(grid, at_least=1) for grid in array]


REPRESENTATIONS: dict[str, Representation] = {
    "points": Points("points", "each shape centred on its bounding box and scaled into the unit sphere"),
    "voxels": Voxels("voxels", "each shape centred in the grid, frame [-1,1]^3"),
    "splats": Splats("splats", "each shape's Gaussian centres fitted into the grid like voxels, frame [-1,1]^3; "
                               "one Gaussian per cell (opacity-weighted merge), SH degree 0"),
}


def representation(name: str, source: str | None = None, resolution: int = 32) -> Representation:
    """The adapter for ``name`` at grid ``resolution``; anything else is an InputError naming ``source``."""
    if name not in REPRESENTATIONS:
        raise InputError(source, f"representation {name!r} is not supported (supported: {', '.join(REPRESENTATIONS)})")
    return replace(REPRESENTATIONS[name], resolution=resolution)


def with_occupancy_logit(rep: Representation, logit: float | None, source: str | None) -> Representation:
    """``rep`` reading voxel occupancy at decoder logit > ``logit`` (None: unchanged); a finite number, and only
    for voxels, else an InputError naming ``source``."""
    if logit is None:
        return rep
    if not isinstance(rep, Voxels):
        raise InputError(source, f"an occupancy logit applies to voxel models, not to {rep.name}")
    if not np.isfinite(logit):
        raise InputError(source, f"the occupancy logit must be a finite number, got {logit}")
    return replace(rep, occupancy_logit=float(logit))
