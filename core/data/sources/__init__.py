"""Dataset kinds on disk, one module each: PointNet HDF5, voxel arrays, folders of shape files."""
from core.data.sources.base import DroppedRow, ShapeRecord, ShapeSource, SkippedFile

__all__ = ["DroppedRow", "ShapeRecord", "ShapeSource", "SkippedFile"]
