"""``RenderJob``: shape files, arrays of shapes and samples folders drawn offscreen to a PNG, one picture or a
contact sheet, by :mod:`core.render` (the renderer of the app's viewport and the demo)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.data import open_dataset
from core.errors import InputError, ShapeError, during
from core.jobs.base import CancelToken, EventHandler, Job
from core.jobs.events import Log, Progress
from core.render import contact_sheet, render_shape, save_png
from core.shapes import Shape

#: ``--color`` choices and the :data:`core.render.COLOR_MODES` each draws with: ``rgb`` is a shape's own
#: colours (3DGS colours, vertex or point colours), clay where it has none
COLORS = {"height": "height", "normals": "normal", "rgb": "uniform"}
#: ``--up`` choices: ModelNet and the built-in models are Z-up, the built-in procedural dataset Y-up
UP_AXES = ("z", "y")
DEFAULT_SIZE = (320, 320)
#: shapes a contact sheet draws unless asked for more (a whole dataset would be thousands of tiles)
DEFAULT_MAX_SHAPES = 16
DEFAULT_COLUMNS = 4
PICTURE_SUFFIX = ".png"


@dataclass(frozen=True)
class _Item:
    """One shape to draw: its caption, the file it comes from, and how to load it."""

    label: str
    source: str
    load: Callable[[], Shape]


class RenderJob(Job):
    """Draw every shape of ``sources`` (shape files, array files, dataset or samples folders, "builtin") to ``out``.

    Without ``grid`` the sources must hold exactly one shape, drawn as one ``size`` (width, height) picture; with
    ``grid`` the first ``n`` shapes are tiled ``columns`` to a row under their names. Arrays and folders open as
    datasets do (:func:`core.data.open_dataset`), so splat samples ``(N, 15, R, R, R)`` are decoded splats.
    """

    name = "render"

    def __init__(self, sources: list[str | os.PathLike[str]], out: str | os.PathLike[str],
                 size: tuple[int, int] = DEFAULT_SIZE, color: str = "height", grid: bool = False,
                 n: int = DEFAULT_MAX_SHAPES, columns: int = DEFAULT_COLUMNS, up: str = "z") -> None:
        if not sources:
            raise InputError("SHAPES", "name at least one shape file or folder")
        if Path(out).suffix.lower() != PICTURE_SUFFIX:
            raise InputError(out, f"pictures are written as PNG: give --out a {PICTURE_SUFFIX} name")
        if color not in COLORS:
            raise InputError("--color", f"unknown {color!r}; use one of {', '.join(COLORS)}")
        if up not in UP_AXES:
            raise InputError("--up", f"unknown {up!r}; use one of {', '.join(UP_AXES)}")
        if min(size) < 1 or n < 1 or columns < 1:
            raise InputError("--size/--n/--columns", f"must be positive, got size {size}, n {n}, columns {columns}")
        self.sources, self.out = [str(s) for s in sources], Path(out)
        self.size, self.color, self.grid = (int(size[0]), int(size[1])), color, grid
        self.n, self.columns, self.up = n, columns, up

    def execute(self, emit: EventHandler, cancel: CancelToken) -> dict[str, Any]:
        """Open every source, check the count against ``grid``, draw shape by shape, write the PNG."""
        started = time.perf_counter()
        items = self._items()
        if not self.grid and len(items) != 1:
            raise InputError(self.sources[0] if len(self.sources) == 1 else "SHAPES",
                             f"holds {len(items)} shapes; add --grid for a contact sheet of them")
        if len(items) > self.n:
            emit(Log(f"drawing the first {self.n} of {len(items)} shapes (--n to draw more)"))
            items = items[:self.n]
        images = []
        for item in items:
            cancel.raise_if_cancelled()
            images.append(self._draw(item))
            emit(Progress(len(images), len(items), "render"))
        picture = contact_sheet(images, [i.label for i in items], self.columns) if self.grid else images[0]
        save_png(picture, self.out)
        seconds = time.perf_counter() - started
        emit(Log(f"rendered {len(images)} shape{'s' * (len(images) != 1)} in {seconds:.2f} s"))
        return {"out": str(self.out), "count": len(images), "labels": [i.label for i in items],
                "size": list(picture.shape[1::-1]), "seconds": seconds}

    def _items(self) -> list[_Item]:
        """Every shape of every source, in order; captions carry the source's name when there are several."""
        items = []
        for source in self.sources:
            dataset = open_dataset(source)
            prefix = f"{Path(source).name}: " if len(self.sources) > 1 else ""
            items += [_Item(prefix + record.name, record.source, lambda i=i, d=dataset: d.load(i))
                      for i, record in enumerate(dataset.records)]
        return items

    def _draw(self, item: _Item) -> np.ndarray:
        """One shape's picture; a shape that cannot be drawn names its file."""
        try:
            with during("rendering", item.source):
                return render_shape(item.load(), self.size, COLORS[self.color], self.up)
        except ShapeError as error:
            raise InputError(item.source, error.problem) from None
