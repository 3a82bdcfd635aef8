"""``ProceduralDemoJob``: the data side end to end without any model — built-in shapes in every representation.

Steps, each timed: generate the built-in dataset, convert one shape per class to points, voxels
and Gaussian splats (and keep its mesh), write them as PLY / NPY / OBJ, render every one offscreen
and tile the pictures into one PNG contact sheet. ``python -m core demo`` runs it with ``--procedural``,
or on its own while no pretrained model is installed (core.jobs.demo).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.data import open_dataset
from core.data.conversions import convert
from core.io import write_shape
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Progress
from core.jobs.timing import StepTimes
from core.render import contact_sheet, render_shape, save_png
from core.render.scene import height_colors
from core.shapes import Mesh

#: Representations shown per shape, in sheet order, with the file type each is written as.
OUTPUTS = (("points", ".ply"), ("voxels", ".npy"), ("splats", ".ply"), ("mesh", ".obj"))
#: The built-in set's up axis (its objects stand on y = 0).
BUILTIN_UP = "y"


class ProceduralDemoJob(Job):
    """Build, convert, write and render a few built-in shapes into ``out``; return paths and timings."""

    name = "procedural demo"

    def __init__(self, out: str | os.PathLike[str] = "latent3d-demo", classes: int | None = None,
                 points: int = 2048, resolution: int = 32, splats: int = 8192, image_size: int = 256,
                 seed: int = 0) -> None:
        self.out = Path(out)
        self.classes = classes
        self.points, self.resolution, self.splats = points, resolution, splats
        self.image_size, self.seed = image_size, seed
        self.timings = StepTimes()

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Run the steps; the result holds every written path and the seconds each step took."""
        with self.timings.step("generate built-in dataset", emit):
            meshes = self._generate()
        with self.timings.step("convert", emit):
            shapes = self._convert(meshes, emit, cancel)
        with self.timings.step("write files", emit):
            files = self._write(shapes)
        with self.timings.step("render contact sheet", emit):
            sheet = self._render(shapes, emit, cancel)
        return {"out": str(self.out), "sheet": str(sheet), "files": [str(p) for p in files],
                "timings": dict(self.timings)}

    def _generate(self) -> dict[str, Any]:
        """The first training shape of each class, normalised into the unit sphere."""
        dataset = open_dataset(f"builtin:{self.seed}")
        first = {}
        for i, record in enumerate(dataset.records):
            if record.class_name not in first and record.split == "train":
                first[record.class_name] = i
        names = list(first)[: self.classes] if self.classes else list(first)
        return {name: dataset.load(first[name]).normalized()[0] for name in names}

    def _convert(self, meshes: dict, emit: EventHandler, cancel: CancelToken) -> dict[str, dict]:
        """Every shape in every representation; splats are coloured by height so the picture has depth."""
        shapes = {}
        for done, (name, mesh) in enumerate(meshes.items(), start=1):
            cancel.raise_if_cancelled()
            coloured = Mesh(mesh.vertices, mesh.faces, height_colors(mesh.vertices, BUILTIN_UP))
            shapes[name] = {"points": convert(mesh, "points", points=self.points, seed=self.seed),
                            "voxels": convert(mesh, "voxels", resolution=self.resolution),
                            "splats": convert(coloured, "splats", points=self.splats, seed=self.seed),
                            "mesh": mesh}
            emit(Progress(done, len(meshes), "convert"))
        return shapes

    def _write(self, shapes: dict[str, dict]) -> list[Path]:
        """``out/<class>_<representation>.<ext>`` for every converted shape."""
        files = []
        for name, kinds in shapes.items():
            for kind, suffix in OUTPUTS:
                path = self.out / f"{name}_{kind}{suffix}"
                write_shape(kinds[kind], path)
                files.append(path)
        return files

    def _render(self, shapes: dict[str, dict], emit: EventHandler, cancel: CancelToken) -> Path:
        """One row per class, one column per representation, saved as ``out/contact_sheet.png``."""
        images, labels = [], []
        total = len(shapes) * len(OUTPUTS)
        for name, kinds in shapes.items():
            for kind, _ in OUTPUTS:
                cancel.raise_if_cancelled()
                images.append(render_shape(kinds[kind], (self.image_size, self.image_size), up=BUILTIN_UP))
                labels.append(f"{name} · {kind}")
                emit(Progress(len(images), total, "render"))
        return save_png(contact_sheet(images, labels, columns=len(OUTPUTS)), self.out / "contact_sheet.png")
