"""Point Cloud Library PCD files, v0.7 (https://pointclouds.org/documentation/tutorials/pcd_file_format.html).

``DATA ascii`` and ``DATA binary`` (row-major, little-endian) are read and written; ``DATA
binary_compressed``, PCL's usual output, is read: two uint32 sizes, then LZF-compressed columns
(each field's values for every point, one field after another), decompressed by python-lzf (liblzf,
the library PCL itself uses). Comment lines may hold any bytes. Fields ``x y z`` are required,
``normal_x normal_y normal_z`` and a packed ``rgb``/``rgba`` colour are recognised, other
single-value fields go to ``PointCloud.extra``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io._checks import MAX_HEADER_BYTES, build, checked_file, reading, require_size
from core.io._text import header_words
from core.io.atomic import atomic_write
from core.shapes import PointCloud

_KINDS = {"F": "f", "I": "i", "U": "u"}
_SIZES = {"F": (4, 8), "I": (1, 2, 4, 8), "U": (1, 2, 4, 8)}
_NORMALS = ("normal_x", "normal_y", "normal_z")
_COLORS = ("rgb", "rgba")
_PADDING = "_"  # PCL names filler bytes "_"
_MIN_ASCII_BYTES_PER_VALUE = 2  # one digit and one separator
_WRITE_ENCODINGS = {"ascii": "ascii", "binary_little_endian": "binary"}
_DATA_KINDS = ("ascii", "binary", "binary_compressed")
#: the two little-endian uint32 that start a binary_compressed body: compressed and uncompressed bytes
_LZF_SIZES = np.dtype([("compressed", "<u4"), ("uncompressed", "<u4")])
#: liblzf's longest back-reference turns 3 bytes into 264 (lzf_d.c, MAX_REF), so no LZF stream expands
#: more than 88-fold: a larger declared size is a lying header, refused before anything is allocated
_MAX_LZF_RATIO = 88


@dataclass(frozen=True)
class PcdHeader:
    """The parsed header: a structured dtype for one point, the point count and the encoding."""

    dtype: np.dtype
    points: int
    data: str
    size: int


def _read_header(path: Path, file_size: int) -> PcdHeader:
    """Parse the header up to the ``DATA`` line and check it against itself and the file size."""
    with open(path, "rb") as stream:
        head = stream.read(MAX_HEADER_BYTES)
    fields: dict[str, list[str]] = {}
    offset = 0
    for raw in head.splitlines(keepends=True):
        offset += len(raw)
        if not raw.endswith(b"\n"):
            break
        words = header_words(raw, (b"#",))
        if words is None:
            raise InputError(path, "bad PCD header: non-ASCII bytes outside a comment")
        if not words or words[0].startswith("#"):
            continue
        fields[words[0].upper()] = words[1:]
        if words[0].upper() == "DATA":
            break
    else:
        raise InputError(path, "bad PCD header: no 'DATA' line in the first "
                               f"{MAX_HEADER_BYTES:,} bytes (not a PCD file, or truncated)")
    if "DATA" not in fields:
        raise InputError(path, "bad PCD header: no 'DATA' line (not a PCD file, or truncated)")
    return _check_header(path, fields, offset, file_size)


def _integer(path: Path, fields: dict[str, list[str]], key: str) -> int:
    """One non-negative integer header value."""
    words = fields.get(key)
    if not words or len(words) != 1 or not words[0].isdigit():
        raise InputError(path, f"bad PCD header: {key} must be one non-negative integer, got {words}")
    return int(words[0])


def _check_header(path: Path, fields: dict[str, list[str]], size: int, file_size: int) -> PcdHeader:
    """Build the row dtype and validate counts, types and sizes."""
    for key in ("FIELDS", "SIZE", "TYPE"):
        if key not in fields:
            raise InputError(path, f"bad PCD header: no {key} line")
    names, sizes, types = fields["FIELDS"], fields["SIZE"], fields["TYPE"]
    counts = fields.get("COUNT", ["1"] * len(names))
    if not len(names) == len(sizes) == len(types) == len(counts):
        raise InputError(path, f"bad PCD header: {len(names)} FIELDS but {len(sizes)} SIZE, "
                               f"{len(types)} TYPE and {len(counts)} COUNT values")
    columns = []
    for k, (name, nbytes, kind, count) in enumerate(zip(names, sizes, types, counts)):
        if kind not in _SIZES or not nbytes.isdigit() or int(nbytes) not in _SIZES[kind] or not count.isdigit() \
                or int(count) < 1:
            raise InputError(path, f"bad PCD header: field {name!r} has TYPE {kind} SIZE {nbytes} COUNT {count}")
        shape = () if int(count) == 1 else (int(count),)
        columns.append((name if name != _PADDING else f"_padding{k}", f"<{_KINDS[kind]}{nbytes}", shape))
    missing = [axis for axis in "xyz" if axis not in names]
    if missing:
        raise InputError(path, f"PCD has no {', '.join(missing)} field (fields: {' '.join(names)})")
    try:
        dtype = np.dtype(columns)
    except (TypeError, ValueError) as exc:  # e.g. a field name given twice
        raise InputError(path, f"bad PCD header: {exc}") from None
    points = _integer(path, fields, "POINTS") if "POINTS" in fields else \
        _integer(path, fields, "WIDTH") * _integer(path, fields, "HEIGHT")
    if "WIDTH" in fields and "HEIGHT" in fields and \
            _integer(path, fields, "WIDTH") * _integer(path, fields, "HEIGHT") != points:
        raise InputError(path, f"bad PCD header: WIDTH x HEIGHT = {fields['WIDTH'][0]} x {fields['HEIGHT'][0]} "
                               f"does not equal POINTS {points}")
    data = fields["DATA"][0].lower() if fields["DATA"] else ""
    if data not in _DATA_KINDS:
        raise InputError(path, f"bad PCD header: unknown DATA {data!r} (PCD has {', '.join(_DATA_KINDS)})")
    values_per_row = sum(int(c) for c in counts)
    least = {"ascii": points * _MIN_ASCII_BYTES_PER_VALUE * values_per_row, "binary": points * dtype.itemsize,
             "binary_compressed": _LZF_SIZES.itemsize}[data]
    require_size(path, least, file_size - size, f"{points:,} {data} PCD points")
    return PcdHeader(dtype, points, data, size)


def read_pcd(path: str | os.PathLike[str]) -> PointCloud:
    """Read an ASCII, binary or binary_compressed PCD point cloud."""
    path, file_size = checked_file(path)
    header = _read_header(path, file_size)
    if header.points == 0:
        raise InputError(path, "PCD has no points (POINTS 0)")
    with reading(path, "PCD file"):
        if header.data == "binary":
            table = np.fromfile(path, dtype=header.dtype, count=header.points, offset=header.size)
        elif header.data == "binary_compressed":
            table = _decompress(path, header, file_size)
        else:
            table = _parse_ascii(path, header)
    return _to_cloud(path, table)


def _decompress(path: Path, header: PcdHeader, file_size: int) -> np.ndarray:
    """A binary_compressed body as a row table; every size is checked before decompressing."""
    import lzf

    expected = header.points * header.dtype.itemsize
    with open(path, "rb") as stream:
        stream.seek(header.size)
        sizes = np.frombuffer(stream.read(_LZF_SIZES.itemsize), dtype=_LZF_SIZES)[0]
        compressed, uncompressed = int(sizes["compressed"]), int(sizes["uncompressed"])
        if uncompressed != expected:
            raise InputError(path, f"PCD binary_compressed body declares {uncompressed:,} bytes, but "
                                   f"{header.points:,} points of {header.dtype.itemsize} bytes take {expected:,}")
        require_size(path, compressed, file_size - header.size - _LZF_SIZES.itemsize, "LZF-compressed points")
        if expected > _MAX_LZF_RATIO * compressed:
            raise InputError(path, f"PCD binary_compressed claims {compressed:,} LZF bytes expand to {expected:,}, "
                                   f"more than LZF's largest ratio ({_MAX_LZF_RATIO}:1)")
        payload = stream.read(compressed)
    raw = lzf.decompress(payload, expected)  # None when the data would expand beyond ``expected``
    if raw is None or len(raw) != expected:
        raise InputError(path, f"PCD LZF data does not decompress to the {expected:,} bytes the header declares")
    table = np.empty(header.points, dtype=header.dtype)
    offset = 0
    for name in header.dtype.names:  # column after column: each field's values for every point
        field = header.dtype[name]
        table[name] = np.frombuffer(raw, dtype=field.base, count=header.points * max(1, int(np.prod(field.shape))),
                                    offset=offset).reshape(table[name].shape)
        offset += field.itemsize * header.points
    return table


def _parse_ascii(path: Path, header: PcdHeader) -> np.ndarray:
    """ASCII body: exactly POINTS rows of whitespace-separated values."""
    with open(path, "rb") as stream:
        stream.seek(header.size)
        words = stream.read().decode("ascii").split()
    width = sum(int(np.prod(header.dtype[name].shape)) for name in header.dtype.names)
    if len(words) != header.points * width:
        raise InputError(path, f"PCD ascii body has {len(words):,} values, expected {header.points:,} points x {width}")
    values = np.asarray(words, dtype=np.float64).reshape(header.points, width)
    table = np.empty(header.points, dtype=header.dtype)
    column = 0
    for name in header.dtype.names:
        span = int(np.prod(header.dtype[name].shape))
        table[name] = values[:, column:column + span].reshape(table[name].shape)
        column += span
    return table


def _to_cloud(path: Path, table: np.ndarray) -> PointCloud:
    """Split a PCD row table into points, normals, colours and extra fields."""
    names = table.dtype.names
    points = np.stack([table[axis] for axis in "xyz"], axis=1).astype(np.float32)
    normals = np.stack([table[n] for n in _NORMALS], axis=1) if set(_NORMALS).issubset(names) else None
    color = next((name for name in _COLORS if name in names and table.dtype[name].itemsize == 4), None)
    colors = None
    if color is not None:
        packed = np.ascontiguousarray(table[color]).view(np.uint32)
        colors = np.stack([(packed >> shift) & 0xFF for shift in (16, 8, 0)], axis=1).astype(np.float32) / 255
    used = set("xyz") | (set(_NORMALS) if normals is not None else set()) | ({color} if color else set())
    extra = {name: table[name].copy() for name in names
             if name not in used and not name.startswith("_padding") and table.dtype[name].shape == ()}
    return build(path, PointCloud, points, normals, colors, extra)


def write_pcd(cloud: PointCloud, path: str | os.PathLike[str], encoding: str = "binary_little_endian") -> None:
    """Write PCD v0.7 (``binary`` for binary_little_endian); colours as PCL's packed float ``rgb``."""
    if encoding not in _WRITE_ENCODINGS:
        raise ValueError(f"PCD supports encodings {tuple(_WRITE_ENCODINGS)}, got {encoding!r}")
    columns = [(axis, cloud.points[:, k]) for k, axis in enumerate("xyz")]
    if cloud.normals is not None:
        columns += [(name, cloud.normals[:, k]) for k, name in enumerate(_NORMALS)]
    if cloud.colors is not None:
        rgb = np.round(np.clip(cloud.colors, 0, 1) * 255).astype(np.uint32)
        columns.append(("rgb", ((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).view(np.float32)))
    columns += [(name, np.asarray(v)) for name, v in cloud.extra.items() if np.ndim(v) == 1]
    table = np.empty(len(cloud), dtype=[(name, values.dtype.newbyteorder("<")) for name, values in columns])
    for name, values in columns:
        table[name] = values
    kinds = {"f": "F", "i": "I", "u": "U", "b": "U"}
    header = "\n".join([
        "# .PCD v0.7 - Point Cloud Data file format", "VERSION 0.7",
        "FIELDS " + " ".join(table.dtype.names),
        "SIZE " + " ".join(str(table.dtype[n].itemsize) for n in table.dtype.names),
        "TYPE " + " ".join(kinds[table.dtype[n].kind] for n in table.dtype.names),
        "COUNT " + " ".join("1" for _ in table.dtype.names),
        f"WIDTH {len(table)}", "HEIGHT 1", "VIEWPOINT 0 0 0 1 0 0 0", f"POINTS {len(table)}",
        f"DATA {_WRITE_ENCODINGS[encoding]}", ""])
    with atomic_write(path) as temporary, open(temporary, "wb") as stream:
        stream.write(header.encode("ascii"))
        if encoding == "ascii":
            # '%.9g' round-trips float32 exactly, packed colours (denormal floats) included
            formats = ["%.9g" if table.dtype[n].kind == "f" else "%d" for n in table.dtype.names]
            np.savetxt(stream, np.column_stack([table[n].astype(np.float64) for n in table.dtype.names]),
                       fmt=formats)
        else:
            stream.write(table.tobytes())
