"""PLY files: a checked header, point clouds and meshes (Turk 1994, as plyfile implements it).

The header is parsed and checked here before plyfile reads any element: element counts times the
smallest bytes a row can take must fit into the file, so a lying count fails before allocation
(plyfile's ASCII reader allocates ``count`` rows up front). plyfile then does the actual decoding.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plyfile
from numpy.typing import DTypeLike

from core.errors import InputError
from core.io._checks import INTEGER, MAX_HEADER_BYTES, build, checked_file, reading, require_size
from core.io._polygons import check_indices, fan_triangulate
from core.io._text import header_words
from core.io.atomic import atomic_write
from core.shapes import Mesh, PointCloud

ENCODINGS = ("binary_little_endian", "ascii", "binary_big_endian")
_BYTE_ORDER = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": "="}

# Scalar type names of the PLY specification (and their sized aliases) -> bytes per value.
_TYPE_BYTES = {"char": 1, "int8": 1, "uchar": 1, "uint8": 1, "short": 2, "int16": 2, "ushort": 2,
               "uint16": 2, "int": 4, "int32": 4, "uint": 4, "uint32": 4, "float": 4, "float32": 4,
               "double": 8, "float64": 8}
# In ASCII every value takes at least one character plus one separator (space or newline).
_MIN_ASCII_BYTES_PER_VALUE = 2
FACE_LIST_NAMES = ("vertex_indices", "vertex_index")
_COLOR_NAMES = ("red", "green", "blue")
#: header lines that may hold any bytes (plyfile itself refuses non-ASCII headers)
_FREE_TEXT = (b"comment", b"obj_info")
_NORMAL_NAMES = ("nx", "ny", "nz")


@dataclass(frozen=True)
class PlyProperty:
    """One ``property`` line: a scalar, or a list when ``length_type`` is set."""

    name: str
    type: str
    length_type: str | None = None


@dataclass(frozen=True)
class PlyElement:
    """One ``element`` line and its properties."""

    name: str
    count: int
    properties: tuple[PlyProperty, ...]

    def min_bytes(self, text: bool) -> int:
        """The fewest body bytes ``count`` rows can occupy (lists may be empty)."""
        if text:
            return self.count * _MIN_ASCII_BYTES_PER_VALUE * len(self.properties)
        row = sum(_TYPE_BYTES[p.length_type if p.length_type else p.type] for p in self.properties)
        return self.count * row

    @property
    def names(self) -> tuple[str, ...]:
        """Property names in file order."""
        return tuple(p.name for p in self.properties)


@dataclass(frozen=True)
class PlyHeader:
    """A checked PLY header; ``size`` is its length in bytes (where the body starts); ``ascii_only`` is
    False when a comment holds other bytes."""

    format: str
    elements: tuple[PlyElement, ...]
    size: int
    ascii_only: bool = True

    def element(self, name: str) -> PlyElement | None:
        """The element called ``name``, or None."""
        return next((e for e in self.elements if e.name == name), None)


def read_ply_header(path: str | os.PathLike[str]) -> PlyHeader:
    """Parse and check a PLY header without reading the body.

    Raises InputError for a missing magic line, a header longer than MAX_HEADER_BYTES, unknown
    types, negative counts, or counts whose rows cannot fit into the rest of the file.
    """
    path, file_size = checked_file(path)
    with open(path, "rb") as stream:
        head = stream.read(MAX_HEADER_BYTES + 1)
    if not (head.startswith(b"ply\n") or head.startswith(b"ply\r\n")):
        raise InputError(path, "not a PLY file (does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        reason = (f"header is longer than {MAX_HEADER_BYTES:,} bytes" if len(head) > MAX_HEADER_BYTES
                  else "header has no 'end_header' line (truncated?)")
        raise InputError(path, f"bad PLY header: {reason}")
    newline = head.find(b"\n", end)
    if newline < 0:
        raise InputError(path, "bad PLY header: nothing follows 'end_header' (truncated?)")
    lines = []
    for number, raw in enumerate(head[:end].splitlines()[1:], start=2):
        words = header_words(raw, _FREE_TEXT)
        if words is None:
            raise InputError(path, f"bad PLY header line {number}: non-ASCII bytes outside a comment")
        lines.append(" ".join(words))
    header = _parse_header_lines(path, lines, newline + 1, head[:newline + 1].isascii())
    body = file_size - header.size
    require_size(path, sum(e.min_bytes(header.format == "ascii") for e in header.elements), body,
                 " and ".join(f"{e.count:,} {e.name!r} rows" for e in header.elements))
    return header


def _parse_header_lines(path: Path, lines: list[str], size: int, ascii_only: bool) -> PlyHeader:
    """Interpret the header lines between ``ply`` and ``end_header``."""
    fmt = None
    elements: list[tuple[str, int, list[PlyProperty]]] = []
    for number, line in enumerate(lines, start=2):
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        keyword = words[0]
        if keyword == "format":
            if len(words) != 3 or words[1] not in ENCODINGS:
                raise InputError(path, f"bad PLY header line {number}: unknown format {' '.join(words[1:])!r}")
            fmt = words[1]
        elif keyword == "element":
            if len(words) != 3 or not INTEGER.fullmatch(words[2]):
                raise InputError(path, f"bad PLY header line {number}: expected 'element NAME COUNT'")
            count = int(words[2])
            if count < 0:
                raise InputError(path, f"bad PLY header line {number}: negative count for element {words[1]!r}")
            elements.append((words[1], count, []))
        elif keyword == "property":
            if not elements:
                raise InputError(path, f"bad PLY header line {number}: property before any element")
            elements[-1][2].append(_parse_property(path, number, words))
        else:
            raise InputError(path, f"bad PLY header line {number}: unknown keyword {keyword!r}")
    if fmt is None:
        raise InputError(path, "bad PLY header: no 'format' line")
    return PlyHeader(fmt, tuple(PlyElement(n, c, tuple(p)) for n, c, p in elements), size, ascii_only)


def _parse_property(path: Path, number: int, words: list[str]) -> PlyProperty:
    """Interpret one ``property`` line."""
    if len(words) == 5 and words[1] == "list":
        prop = PlyProperty(words[4], words[3], words[2])
    elif len(words) == 3:
        prop = PlyProperty(words[2], words[1])
    else:
        raise InputError(path, f"bad PLY header line {number}: expected 'property TYPE NAME' "
                               "or 'property list COUNT_TYPE TYPE NAME'")
    for type_name in (prop.type, prop.length_type):
        if type_name is not None and type_name not in _TYPE_BYTES:
            raise InputError(path, f"bad PLY header line {number}: unknown type {type_name!r}")
    return prop


def read_ply(path: str | os.PathLike[str]) -> tuple[PlyHeader, plyfile.PlyData]:
    """Read a whole PLY file after its header passed :func:`read_ply_header`.

    Fixed-size binary elements are memory-mapped by plyfile (fast); triangle faces too, via a
    known list length, with a fall-back to plyfile's general reader for polygons.
    """
    header = read_ply_header(path)
    path = Path(path)
    triangle_lists = {e.name: {p.name: 3 for p in e.properties if p.length_type} for e in header.elements}
    with reading(path, "PLY file"):
        try:
            try:
                data = plyfile.PlyData.read(_plyfile_source(path, header), known_list_len=triangle_lists)
            except plyfile.PlyElementParseError as exc:
                if "unexpected list length" not in str(exc):
                    raise
                data = plyfile.PlyData.read(_plyfile_source(path, header))
        except plyfile.PlyParseError as exc:
            raise InputError(path, f"corrupt PLY data: {exc}") from None
    return header, data


def _plyfile_source(path: Path, header: PlyHeader) -> Path | io.BytesIO:
    """What plyfile reads: the file itself, or, when a comment holds non-ASCII bytes (which plyfile
    refuses), a copy in memory whose header has those bytes replaced by '?' (same length)."""
    if header.ascii_only:
        return path
    data = bytearray(path.read_bytes())
    data[:header.size] = re.sub(rb"[\x80-\xff]", b"?", bytes(data[:header.size]))
    return io.BytesIO(bytes(data))


def vertex_table(path: Path, header: PlyHeader, data: plyfile.PlyData) -> np.ndarray:
    """The ``vertex`` element as a structured array, with x, y, z checked present."""
    vertex = header.element("vertex")
    if vertex is None:
        raise InputError(path, f"PLY has no 'vertex' element (elements: {', '.join(e.name for e in header.elements) or 'none'})")
    missing = [name for name in ("x", "y", "z") if name not in vertex.names]
    if missing:
        raise InputError(path, f"PLY vertex element lacks {', '.join(missing)} (properties: {', '.join(vertex.names)})")
    return np.array(data["vertex"].data)


def columns(table: np.ndarray, names: tuple[str, ...], dtype: DTypeLike = np.float32) -> np.ndarray:
    """Stack named scalar fields of a structured array into an (N, len(names)) array."""
    return np.stack([table[name].astype(dtype, copy=False) for name in names], axis=1)


def _colors_from(table: np.ndarray) -> np.ndarray | None:
    """red/green/blue as floats in [0, 1]; integer channels are scaled by their type's maximum."""
    if not all(name in table.dtype.names for name in _COLOR_NAMES):
        return None
    raw = columns(table, _COLOR_NAMES, dtype=table.dtype["red"])
    if np.issubdtype(raw.dtype, np.integer):
        return raw.astype(np.float32) / np.iinfo(raw.dtype).max
    return raw.astype(np.float32)


def read_ply_points(path: str | os.PathLike[str]) -> PointCloud:
    """Point cloud from a PLY's vertex element; other scalar vertex properties go to ``extra``."""
    header, data = read_ply(path)
    path = Path(path)
    table = vertex_table(path, header, data)
    names = set(table.dtype.names)
    normals = columns(table, _NORMAL_NAMES) if names.issuperset(_NORMAL_NAMES) else None
    colors = _colors_from(table)
    used = {"x", "y", "z"} | (set(_NORMAL_NAMES) if normals is not None else set()) | \
           (set(_COLOR_NAMES) if colors is not None else set())
    extra = {name: table[name].copy() for name in table.dtype.names
             if name not in used and table.dtype[name].shape == () and table.dtype[name] != object}
    return build(path, PointCloud, columns(table, ("x", "y", "z")), normals, colors, extra)


def read_ply_mesh(path: str | os.PathLike[str]) -> Mesh:
    """Triangle mesh from a PLY's vertex and face elements; polygons become triangle fans."""
    header, data = read_ply(path)
    path = Path(path)
    table = vertex_table(path, header, data)
    face = header.element("face")
    if face is None or face.count == 0:
        raise InputError(path, "PLY has no faces (read it as a point cloud instead)")
    list_name = next((n for n in FACE_LIST_NAMES if n in face.names), None)
    if list_name is None:
        raise InputError(path, f"PLY face element has no vertex_indices list (properties: {', '.join(face.names)})")
    lists = data["face"].data[list_name]
    if lists.dtype != object:  # every face was a triangle: plyfile gave an (F, 3) array
        triangles = np.asarray(lists, dtype=np.int64).reshape(-1, 3)
    else:
        sizes = np.fromiter((len(f) for f in lists), dtype=np.int64, count=len(lists))
        triangles = fan_triangulate(path, np.concatenate(lists).astype(np.int64), sizes)
    check_indices(path, triangles, len(table))
    vertices = columns(table, ("x", "y", "z"), dtype=np.float64)
    return build(path, Mesh, vertices, triangles, _colors_from(table))


def _check_encoding(encoding: str) -> None:
    """Reject an unknown encoding name (a programming error, not bad input)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")


def write_ply(path: str | os.PathLike[str], elements: list[plyfile.PlyElement],
              encoding: str = "binary_little_endian") -> None:
    """Write plyfile elements atomically in the given encoding."""
    _check_encoding(encoding)
    ply = plyfile.PlyData(elements, text=encoding == "ascii", byte_order=_BYTE_ORDER[encoding])
    with atomic_write(path) as temporary:
        ply.write(str(temporary))


def structured(fields: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Pack equally long 1-D arrays into one structured array, keeping each dtype."""
    table = np.empty(len(fields[0][1]), dtype=[(name, values.dtype) for name, values in fields])
    for name, values in fields:
        table[name] = values
    return table


def _to_uint8(colors: np.ndarray) -> np.ndarray:
    """[0, 1] floats to 0..255, rounding so k/255 survives a round trip exactly."""
    return np.round(np.clip(colors, 0.0, 1.0) * 255).astype(np.uint8)


def write_ply_points(cloud: PointCloud, path: str | os.PathLike[str],
                     encoding: str = "binary_little_endian") -> None:
    """Write x y z [nx ny nz] [red green blue as uchar] and every 1-D ``extra`` array."""
    fields = [(name, cloud.points[:, k]) for k, name in enumerate("xyz")]
    if cloud.normals is not None:
        fields += [(name, cloud.normals[:, k]) for k, name in enumerate(_NORMAL_NAMES)]
    if cloud.colors is not None:
        rgb = _to_uint8(cloud.colors)
        fields += [(name, rgb[:, k]) for k, name in enumerate(_COLOR_NAMES)]
    fields += [(name, np.asarray(values)) for name, values in cloud.extra.items() if np.ndim(values) == 1]
    write_ply(path, [plyfile.PlyElement.describe(structured(fields), "vertex")], encoding)


def write_ply_mesh(mesh: Mesh, path: str | os.PathLike[str], encoding: str = "binary_little_endian") -> None:
    """Write vertices as double (lossless) and triangles as ``uchar int`` vertex_indices lists."""
    fields = [(name, mesh.vertices[:, k]) for k, name in enumerate("xyz")]
    if mesh.vertex_colors is not None:
        rgb = _to_uint8(mesh.vertex_colors)
        fields += [(name, rgb[:, k]) for k, name in enumerate(_COLOR_NAMES)]
    faces = np.empty(len(mesh.faces), dtype=[("vertex_indices", np.int32, (3,))])
    faces["vertex_indices"] = mesh.faces
    write_ply(path, [plyfile.PlyElement.describe(structured(fields), "vertex"),
                     plyfile.PlyElement.describe(faces, "face", len_types={"vertex_indices": "u1"})], encoding)
