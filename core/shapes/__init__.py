"""Typed containers for the four kinds of shape the project handles (numpy inside, validated)."""
from core.shapes.gaussian_splats import SH_C0, GaussianSplats
from core.shapes.mesh import Mesh
from core.shapes.normalization import Normalization
from core.shapes.point_cloud import PointCloud
from core.shapes.voxel_grid import VoxelGrid

Shape = PointCloud | VoxelGrid | GaussianSplats | Mesh

__all__ = ["GaussianSplats", "Mesh", "Normalization", "PointCloud", "SH_C0", "Shape", "VoxelGrid"]
