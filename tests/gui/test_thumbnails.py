"""Per-page thumbnail clients: one page starting over drops only its own pending pictures."""
from __future__ import annotations

import numpy as np

from core.events import Preview
from core.shapes import PointCloud

#: thumbnails render in a separate process; the shared test machine may be loaded
TIMEOUT_MS = 120_000
PREVIEW_SHAPES = 4


def _icons_shown(strip) -> int:
    return sum(not strip.item(row).icon().isNull() for row in range(strip.count()))


def test_browsing_datasets_while_training_keeps_the_train_previews(qtbot, window, rng, error_boxes):
    """A stage-2 checkpoint's Preview queues the Train page's strip; the user then changes the Datasets page's
    filter, which cancels that page's pending thumbnails. The Train page's pictures must all still arrive (a
    single shared queue, emptied by the Datasets page, used to drop them)."""
    datasets, train = window.datasets, window.train
    datasets.open("builtin")
    qtbot.waitUntil(lambda: datasets.grid.count() > 0 and datasets.thumbnails_shown == datasets.grid.count(),
                    timeout=TIMEOUT_MS)
    shapes = [PointCloud(rng.normal(size=(512, 3)).astype(np.float32) * 0.3) for _ in range(PREVIEW_SHAPES)]
    train._on_preview(Preview(20, 100, shapes))  # what TrainJob(previews=True) emits after a checkpoint
    datasets.repr_combo.setCurrentText("voxels")  # browsing: the grid starts over and cancels its own pictures
    datasets.class_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: _icons_shown(train.preview_strip) == PREVIEW_SHAPES, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: datasets.thumbnails_shown == datasets.grid.count() > 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.render_thread.idle, timeout=TIMEOUT_MS)  # no frame left for the next test
    assert error_boxes == []


def test_a_client_cancel_leaves_other_clients_queues(qtbot, window, rng):
    """Two clients of one render thread: cancelling one delivers nothing more to it, everything to the other."""
    first = window.render_thread.thumbnail_client(window)
    second = window.render_thread.thumbnail_client(window)
    got: dict[str, list] = {"first": [], "second": []}
    first.ready.connect(lambda key, image: got["first"].append(key))
    second.ready.connect(lambda key, image: got["second"].append(key))
    cloud = PointCloud(rng.normal(size=(256, 3)).astype(np.float32) * 0.3)
    for index in range(3):
        first.request(index, cloud, window.viewport.style, 32)
        second.request(index, cloud, window.viewport.style, 32)
    first.cancel()
    qtbot.waitUntil(lambda: len(got["second"]) == 3 and window.render_thread.idle, timeout=TIMEOUT_MS)
    assert got["second"] == [0, 1, 2] and len(got["first"]) <= 1  # at most the one already being drawn
