"""Datasets over files, folders and the built-in procedural set, with an on-disk conversion cache.

``open_dataset(path_or_"builtin")`` returns a :class:`ShapeDataset`; conversions between
representations live in :mod:`core.data.conversions`.
"""
from core.data.datasets import ShapeDataset, open_dataset
from core.data.sources.base import ShapeRecord

__all__ = ["ShapeDataset", "ShapeRecord", "open_dataset"]
