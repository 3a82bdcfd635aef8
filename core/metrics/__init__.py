"""Shape metrics: distances (Chamfer, EMD, voxel IoU, F-score) and distribution metrics (MMD, COV, 1-NNA, JSD)."""
from core.metrics.distances import chamfer_distance

__all__ = ["chamfer_distance"]
