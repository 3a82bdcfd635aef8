"""Reading and writing every 3D file format the product accepts, with strict validation.

Every reader raises :class:`core.errors.InputError` (one line: the file and the problem) for a
missing, unreadable, empty, truncated, corrupt, lying-header, wrong-key, wrong-shape or NaN/Inf
file, and never allocates memory from a header count it has not checked against the file size.
Nothing is unpickled, and Open3D's readers are never used (they abort or return garbage on bad
files, notes/stack.md). Every writer goes through :func:`atomic_write`.
"""
from core.io.arrays import read_array, write_array
from core.io.atomic import atomic_write
from core.io.dispatch import read_mesh, read_point_cloud, read_shape, write_mesh, write_point_cloud, write_shape
from core.io.hdf5 import read_pointnet_h5, read_voxel_h5
from core.io.splats import is_splat_ply, read_splats, write_splats

__all__ = [
    "atomic_write", "is_splat_ply", "read_array", "read_mesh", "read_point_cloud", "read_pointnet_h5",
    "read_shape", "read_splats", "read_voxel_h5", "write_array", "write_mesh", "write_point_cloud",
    "write_shape", "write_splats",
]
