"""Every reader rejects bad files with one InputError line that names the file and the problem."""
from __future__ import annotations

import builtins
import gzip
import tracemalloc

import h5py
import numpy as np
import pytest

from core.errors import InputError
from core.io import (read_array, read_mesh, read_point_cloud, read_pointnet_h5, read_shape, read_splats,
                     read_voxel_h5, write_mesh, write_point_cloud)
from core.shapes import Mesh, PointCloud

# A lying header must fail before allocating what it declares (2**31 vertices = 24 GiB of xyz).
ALLOCATION_CEILING = 8 * 1024 * 1024


def rejects(read, path, match: str, *args) -> InputError:
    """Assert ``read(path)`` raises one single-line InputError naming ``path`` and matching ``match``."""
    with pytest.raises(InputError, match=match) as caught:
        read(path, *args)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return caught.value


def rejects_without_allocating(read, path, match: str) -> None:
    """As :func:`rejects`, and the read's peak traced allocation stays small."""
    tracemalloc.start()
    try:
        rejects(read, path, match)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < ALLOCATION_CEILING


def _ply_header(count: int, fmt: str = "binary_little_endian", comment: str = "") -> bytes:
    lines = ["ply", f"format {fmt} 1.0"] + ([f"comment {comment}"] if comment else []) + \
            [f"element vertex {count}", "property float x", "property float y", "property float z", "end_header"]
    return ("\n".join(lines) + "\n").encode()


def _cloud() -> PointCloud:
    return PointCloud(np.random.default_rng(0).normal(size=(100, 3)))


# --- PLY ---------------------------------------------------------------------------------------

def test_truncated_binary_ply(tmp_path):
    path = tmp_path / "cut.ply"
    write_point_cloud(_cloud(), path)
    path.write_bytes(path.read_bytes()[:-50])
    rejects(read_point_cloud, path, "truncated")


@pytest.mark.parametrize("fmt", ["binary_little_endian", "ascii"])
def test_ply_with_a_lying_huge_count_fails_without_allocating(tmp_path, fmt):
    path = tmp_path / "liar.ply"
    path.write_bytes(_ply_header(2**31, fmt) + b"\0" * 36)
    assert path.stat().st_size < 250
    rejects_without_allocating(read_point_cloud, path, "2,147,483,648 'vertex' rows")


def test_ply_with_a_100_kb_comment_line(tmp_path):
    path = tmp_path / "comment.ply"
    path.write_bytes(_ply_header(1, comment="x" * 100_000) + np.zeros(3, "<f4").tobytes())
    rejects(read_point_cloud, path, "header is longer than")


def test_ply_without_header_end_and_not_a_ply(tmp_path):
    (tmp_path / "open.ply").write_bytes(b"ply\nformat ascii 1.0\nelement vertex 1\n")
    rejects(read_point_cloud, tmp_path / "open.ply", "no 'end_header'")
    (tmp_path / "other.ply").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    rejects(read_point_cloud, tmp_path / "other.ply", "not a PLY file")


def test_ply_with_nan_vertices(tmp_path):
    path = tmp_path / "nan.ply"
    path.write_bytes(_ply_header(2) + np.array([0, 0, 0, np.nan, 1, 1], "<f4").tobytes())
    rejects(read_point_cloud, path, "NaN")


def test_ply_mesh_face_index_out_of_range(tmp_path):
    path = tmp_path / "faces.ply"
    write_mesh(Mesh(np.eye(3), np.array([[0, 1, 2]])), path)
    data = path.read_bytes()
    path.write_bytes(data[:-12] + np.array([0, 1, 7], "<i4").tobytes())  # the last face's three indices
    rejects(read_mesh, path, "face index 7 is out of range")


def test_splat_ply_missing_rotations_and_zero_quaternion(tmp_path):
    names = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2"]
    header = "ply\nformat binary_little_endian 1.0\nelement vertex 1\n" + \
             "".join(f"property float {n}\n" for n in names) + "end_header\n"
    (tmp_path / "norot.ply").write_bytes(header.encode() + np.ones(len(names), "<f4").tobytes())
    rejects(read_splats, tmp_path / "norot.ply", "lacks rot_0, rot_1, rot_2, rot_3")
    names += ["rot_0", "rot_1", "rot_2", "rot_3"]
    header = header.replace("end_header\n", "".join(f"property float rot_{k}\n" for k in range(4)) + "end_header\n")
    (tmp_path / "zero.ply").write_bytes(header.encode() + np.r_[np.ones(10), np.zeros(4)].astype("<f4").tobytes())
    rejects(read_splats, tmp_path / "zero.ply", "all-zero quaternions")


# --- OFF / OBJ / STL -----------------------------------------------------------------------------

def test_off_with_out_of_range_face_indices(tmp_path):
    (tmp_path / "bad.off").write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 5\n")
    rejects(read_mesh, tmp_path / "bad.off", "face index 5 is out of range")


def test_off_with_negative_counts(tmp_path):
    (tmp_path / "neg.off").write_text("OFF\n-3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
    rejects(read_mesh, tmp_path / "neg.off", "negative vertex count")


def test_off_with_a_lying_huge_count_and_truncated_faces(tmp_path):
    (tmp_path / "huge.off").write_text("OFF2147483648 1 0\n0 0 0\n3 0 0 0\n")
    rejects_without_allocating(read_mesh, tmp_path / "huge.off", "2,147,483,648 vertices")
    (tmp_path / "short.off").write_text("OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n3 0 1 2\n")
    rejects(read_mesh, tmp_path / "short.off", "truncated")


def test_off_with_nan_vertices(tmp_path):
    (tmp_path / "nan.off").write_text("OFF\n3 1 0\n0 0 0\nnan 0 0\n0 1 0\n3 0 1 2\n")
    rejects(read_mesh, tmp_path / "nan.off", "NaN")


def test_obj_with_a_face_index_out_of_range(tmp_path):
    (tmp_path / "bad.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n")
    rejects(read_mesh, tmp_path / "bad.obj", "face index 3 is out of range")
    (tmp_path / "zero.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n")
    rejects(read_mesh, tmp_path / "zero.obj", "OBJ indices start at 1")
    (tmp_path / "back.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf -1 -2 -4\n")
    rejects(read_mesh, tmp_path / "back.obj", "out of range")


def test_obj_with_garbage_and_without_faces(tmp_path):
    (tmp_path / "junk.obj").write_text("v 0 0 0\nv 1 0 zero\nv 0 1 0\nf 1 2 3\n")
    rejects(read_mesh, tmp_path / "junk.obj", "not a valid OBJ file")
    (tmp_path / "nofaces.obj").write_text("v 0 0 0\nv 1 0 0\n")
    rejects(read_mesh, tmp_path / "nofaces.obj", "no faces")


def test_truncated_binary_stl(tmp_path):
    path = tmp_path / "cut.stl"
    write_mesh(Mesh(np.eye(3), np.array([[0, 1, 2], [0, 2, 1]])), path)
    path.write_bytes(path.read_bytes()[:-30])
    rejects(read_mesh, path, "truncated")


def test_binary_stl_with_a_lying_count(tmp_path):
    path = tmp_path / "liar.stl"
    path.write_bytes(b"\0" * 80 + (2**31).to_bytes(4, "little") + b"\0" * 50)
    rejects_without_allocating(read_mesh, path, "2,147,483,648 binary STL triangles")


def test_truncated_ascii_stl(tmp_path):
    (tmp_path / "cut.stl").write_text("solid s\nfacet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n")
    rejects(read_mesh, tmp_path / "cut.stl", "no 'endsolid'")


# --- PCD -----------------------------------------------------------------------------------------

def _pcd_header(points: int, width: int | None = None, data: str = "binary") -> bytes:
    return (f"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {width or points}\n"
            f"HEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {points}\nDATA {data}\n").encode()


@pytest.mark.parametrize("data", ["binary", "ascii"])
def test_pcd_with_a_lying_header(tmp_path, data):
    path = tmp_path / "liar.pcd"
    path.write_bytes(_pcd_header(2**31, data=data) + np.zeros(6, "<f4").tobytes())
    rejects_without_allocating(read_point_cloud, path, f"2,147,483,648 {data} PCD points")


def test_pcd_with_inconsistent_header_and_compressed_data(tmp_path):
    (tmp_path / "wh.pcd").write_bytes(_pcd_header(2, width=3) + np.zeros(6, "<f4").tobytes())
    rejects(read_point_cloud, tmp_path / "wh.pcd", "does not equal POINTS")
    (tmp_path / "lzf.pcd").write_bytes(_pcd_header(2, data="binary_compressed") + b"\0" * 40)
    rejects(read_point_cloud, tmp_path / "lzf.pcd", "binary_compressed")
    (tmp_path / "short.pcd").write_bytes(_pcd_header(2, data="ascii") + b"0 0 0\n1.5 1.5\n")
    rejects(read_point_cloud, tmp_path / "short.pcd", "expected 2 points x 3")


# --- NumPy ---------------------------------------------------------------------------------------

def test_npy_holding_python_objects_is_never_unpickled(tmp_path, monkeypatch):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    monkeypatch.setattr("pickle.loads", lambda *a, **k: pytest.fail("unpickled"))
    rejects(read_array, path, "Python objects")
    rejects(read_shape, path, "Python objects")


def test_npy_with_a_lying_shape_and_truncated_gzip(tmp_path):
    path = tmp_path / "liar.npy"
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 3), np.float32))
    header["shape"] = (2**31, 3)
    with open(path, "wb") as stream:
        np.lib.format.write_array_header_1_0(stream, header)
        stream.write(b"\0" * 24)
    rejects_without_allocating(read_array, path, "truncated or lying header")
    gz = tmp_path / "liar.npy.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    rejects_without_allocating(read_array, gz, "truncated")
    (tmp_path / "cut.npy.gz").write_bytes(gzip.compress(path.read_bytes())[:20])
    rejects(read_array, tmp_path / "cut.npy.gz", "npy.gz")


def test_array_wrong_shape_nan_and_npz_keys(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros((10, 2), np.float32))
    rejects(read_point_cloud, tmp_path / "flat.npy", r"shape \(10, 2\) holds no shapes we know; accepted: points")
    np.save(tmp_path / "batch.npy", np.zeros((4, 16, 3), np.float32))
    rejects(read_shape, tmp_path / "batch.npy", "holds 4 points shapes; open it as a dataset")
    np.save(tmp_path / "nan.npy", np.array([[0, 0, np.inf]]))
    rejects(read_array, tmp_path / "nan.npy", "NaN or Inf")
    np.savez(tmp_path / "two.npz", a=np.zeros(3), b=np.ones(3))
    rejects(read_array, tmp_path / "two.npz", r"2 arrays \(a, b\)")
    rejects(read_array, tmp_path / "two.npz", "no array 'c'", "c")
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    rejects(read_array, tmp_path / "junk.npy", "not a valid")


# --- HDF5 ----------------------------------------------------------------------------------------

def test_hdf5_without_data_names_the_keys_present(tmp_path):
    with h5py.File(tmp_path / "nodata.h5", "w") as file:
        file["points"], file["label"] = np.zeros((2, 4, 3)), np.zeros(2)
    error = rejects(read_pointnet_h5, tmp_path / "nodata.h5", "no 'data' dataset")
    assert "label, points" in error.problem
    rejects(read_voxel_h5, tmp_path / "nodata.h5", "keys present: label, points")


def test_hdf5_with_wrong_shapes(tmp_path):
    with h5py.File(tmp_path / "flat.h5", "w") as file:
        file["data"], file["label"] = np.zeros((2, 4, 2), np.float32), np.zeros(2)
    rejects(read_pointnet_h5, tmp_path / "flat.h5", r"expected \(N, P, 3\)")
    with h5py.File(tmp_path / "labels.h5", "w") as file:
        file["data"], file["label"] = np.zeros((2, 4, 3), np.float32), np.zeros((3, 1))
    rejects(read_pointnet_h5, tmp_path / "labels.h5", r"expected one label per shape: \(2,\), \(2, 1\)")
    with h5py.File(tmp_path / "vox.h5", "w") as file:
        file["voxels"] = np.zeros((2, 8, 8, 4), np.uint8)
    rejects(read_voxel_h5, tmp_path / "vox.h5", r"\(N, R, R, R\)")


def test_hdf5_with_nan_and_a_declared_but_unstored_dataset(tmp_path):
    with h5py.File(tmp_path / "nan.h5", "w") as file:
        file["data"], file["label"] = np.full((1, 2, 3), np.nan, np.float32), np.zeros(1)
    rejects(read_pointnet_h5, tmp_path / "nan.h5", "NaN")
    with h5py.File(tmp_path / "hollow.h5", "w") as file:
        file.create_dataset("data", shape=(2**20, 1024, 3), dtype="f4", chunks=(1, 1024, 3))
        file["label"] = np.zeros(2**20, np.uint8)
    rejects_without_allocating(read_pointnet_h5, tmp_path / "hollow.h5", "stores only")


def test_not_an_hdf5_file(tmp_path):
    (tmp_path / "fake.h5").write_bytes(b"\0" * 100)
    rejects(read_pointnet_h5, tmp_path / "fake.h5", "not a valid HDF5 file")


# --- any reader: empty, missing, a directory, no permission --------------------------------------

READERS = [(read_point_cloud, ".ply"), (read_point_cloud, ".pcd"), (read_mesh, ".off"), (read_mesh, ".obj"),
           (read_mesh, ".stl"), (read_array, ".npy"), (read_array, ".npz"), (read_array, ".npy.gz"),
           (read_pointnet_h5, ".h5"), (read_voxel_h5, ".h5"), (read_splats, ".ply"), (read_shape, ".off")]


@pytest.mark.parametrize("read,suffix", READERS)
def test_empty_file(tmp_path, read, suffix):
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    rejects(read, tmp_path / f"empty{suffix}", "file is empty")


@pytest.mark.parametrize("read,suffix", READERS)
def test_missing_file_and_directory(tmp_path, read, suffix):
    rejects(read, tmp_path / f"missing{suffix}", "file not found")
    (tmp_path / f"folder{suffix}").mkdir()
    rejects(read, tmp_path / f"folder{suffix}", "is a directory")


def test_file_without_permission(tmp_path, monkeypatch):
    path = tmp_path / "locked.off"
    path.write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
    real_open = builtins.open

    def deny(file, *args, **kwargs):  # tests run as root, where chmod 000 does not stop reads
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    rejects(read_mesh, path, "permission denied")


def test_unsupported_suffix(tmp_path):
    (tmp_path / "shape.xyz").write_text("0 0 0\n")
    rejects(read_shape, tmp_path / "shape.xyz", "unsupported file type '.xyz'")


# --- damaged copies of valid files: whatever breaks, the only error is a one-line InputError -----

def _seed_files(folder) -> list[tuple[object, object]]:
    rng = np.random.default_rng(3)
    cloud = PointCloud(rng.normal(size=(30, 3)), rng.normal(size=(30, 3)), rng.random((30, 3)))
    mesh = Mesh(rng.normal(size=(8, 3)), rng.integers(0, 8, (12, 3)))
    seeds = []
    for name, encoding in [("le.ply", "binary_little_endian"), ("asc.ply", "ascii"), ("be.ply", "binary_big_endian"),
                           ("asc.pcd", "ascii"), ("bin.pcd", "binary_little_endian"), ("p.npy", None),
                           ("p.npz", None), ("p.npy.gz", None)]:
        write_point_cloud(cloud, folder / name, encoding or "binary_little_endian")
        seeds.append((read_point_cloud, folder / name))
    for suffix in (".obj", ".stl", ".ply", ".off"):
        write_mesh(mesh, folder / f"mesh{suffix}")
        seeds.append((read_mesh, folder / f"mesh{suffix}"))
    with h5py.File(folder / "p.h5", "w") as file:
        file["data"], file["label"] = rng.normal(size=(3, 10, 3)).astype(np.float32), np.arange(3)
    return seeds + [(read_pointnet_h5, folder / "p.h5")]


def test_damaged_files_raise_only_input_error(tmp_path):
    rng = np.random.default_rng(11)
    for read, seed in _seed_files(tmp_path):
        original = seed.read_bytes()
        for trial in range(15):
            data = bytearray(original)
            at = int(rng.integers(0, len(data)))
            if trial % 3 == 0:
                data = data[:at]  # truncation
            elif trial % 3 == 1:
                data[at] = int(rng.integers(0, 256))  # a flipped byte
            else:  # a big number written into the header region
                at = int(rng.integers(0, min(len(data), 300)))
                data[at:at + 1] = str(int(rng.integers(-9, 2**40))).encode()
            damaged = tmp_path / f"damaged{''.join(seed.suffixes)}"
            damaged.write_bytes(bytes(data))
            try:
                read(damaged)
            except InputError as error:
                assert str(damaged) in str(error) and "\n" not in str(error)
