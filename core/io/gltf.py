"""glTF 2.0 meshes, binary ``.glb`` and JSON ``.gltf``, as Shap-E, TRELLIS and most 3D tools export them.

trimesh does the decoding and encoding (accessors, buffer views, node transforms, data URIs): a glTF
reader is a small format engine we would otherwise have to keep. Our own checks come first and
last: a ``.glb`` must carry the glTF magic, version 2 and a length equal to the file's size before
trimesh sees it, and what comes back must be triangles with finite vertices and valid indices (the
Mesh container's checks), so a broken file is one InputError naming it. The scene's meshes are
merged into one, each placed by its node transform; points and lines are not surfaces and are left
out. Vertex colours are kept both ways. glTF stores positions as float32.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io._checks import build, checked_file, reading
from core.io.arrays import array_suffix
from core.io.atomic import atomic_write
from core.shapes import Mesh

GLB_MAGIC = b"glTF"
GLB_VERSION = 2
#: magic, version and total length: three little-endian uint32 (glTF 2.0 spec, "GLB File Format")
_GLB_HEADER = np.dtype([("magic", "S4"), ("version", "<u4"), ("length", "<u4")])
SUFFIXES = (".glb", ".gltf")


def _check_glb_header(path: Path, size: int) -> None:
    """Refuse a .glb whose header is not glTF 2.0 or whose declared length is not the file's size."""
    with open(path, "rb") as stream:
        head = stream.read(_GLB_HEADER.itemsize)
    if len(head) < _GLB_HEADER.itemsize or not head.startswith(GLB_MAGIC):
        raise InputError(path, "not a binary glTF file (no 'glTF' magic at the start)")
    header = np.frombuffer(head, dtype=_GLB_HEADER)[0]
    if int(header["version"]) != GLB_VERSION:
        raise InputError(path, f"glTF version {int(header['version'])} is not supported (2 is)")
    if int(header["length"]) != size:
        raise InputError(path, f"truncated or padded GLB: its header declares {int(header['length']):,} bytes, "
                               f"the file has {size:,}")


def read_gltf(path: str | os.PathLike[str]) -> Mesh:
    """Read every triangle mesh of a .glb or .gltf scene as one Mesh (node transforms applied)."""
    import trimesh

    path, size = checked_file(path)
    if array_suffix(path) == ".glb":
        _check_glb_header(path, size)
    # trimesh is a third-party parser of untrusted bytes: any exception it raises means a bad file
    with reading(path, "glTF file", also=(Exception,)):
        scene = trimesh.load_scene(path, file_type=array_suffix(path)[1:], process=False)
        meshes = [mesh for mesh in scene.dump() if isinstance(mesh, trimesh.Trimesh) and len(mesh.faces)]
        if not meshes:
            raise InputError(path, "glTF scene holds no triangle meshes")
        vertices = np.concatenate([m.vertices for m in meshes])
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
        faces = np.concatenate([m.faces + offset for m, offset in zip(meshes, offsets)])
        colors = _vertex_colors(meshes)
    return build(path, Mesh, np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64), colors)


def _vertex_colors(meshes: list) -> np.ndarray | None:
    """RGB in [0, 1] when every mesh carries per-vertex colours (not textures), else None."""
    if not all(m.visual.kind == "vertex" for m in meshes):
        return None
    return np.concatenate([m.visual.vertex_colors[:, :3] for m in meshes]).astype(np.float64) / 255.0


def write_gltf(mesh: Mesh, path: str | os.PathLike[str]) -> None:
    """Write ``.glb`` (one binary file) or ``.gltf`` (JSON with its buffer embedded as a data URI)."""
    import trimesh
    from trimesh.exchange.gltf import export_glb, export_gltf

    colors = None if mesh.vertex_colors is None else np.round(np.clip(mesh.vertex_colors, 0, 1) * 255).astype(np.uint8)
    scene = trimesh.Scene(trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_colors=colors, process=False))
    if array_suffix(path) == ".glb":
        payload = export_glb(scene)
    else:
        document = json.loads(export_gltf(scene, embed_buffers=True)["model.gltf"])
        payload = json.dumps(document).encode("utf-8")
    with atomic_write(path) as temporary:
        Path(temporary).write_bytes(payload)
