"""The viewport draws every shape kind off the GUI thread, survives repeated type switches, and follows the mouse."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from app.viewport.render_thread import REFINE_DELAY_S
from app.viewport.widget import Viewport
from core.shapes import GaussianSplats, Mesh, PointCloud, VoxelGrid

FRAME_TIMEOUT_MS = 60000  # llvmpipe frames take seconds when the shared machine is loaded


def _shapes(rng: np.random.Generator) -> list:
    sphere = rng.normal(size=(800, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    occupancy = np.zeros((16, 16, 16), dtype=bool)
    occupancy[4:12, 4:12, 2:14] = True
    tetra = Mesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float),
                 np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]))
    splats = GaussianSplats.from_colors(sphere[:300] * 0.5, rng.uniform(size=(300, 3)),
                                        np.full((300, 3), 0.05), np.tile([1.0, 0, 0, 0], (300, 1)),
                                        np.full(300, 0.9))
    return [PointCloud(sphere), VoxelGrid(occupancy), splats, tetra]


def _non_background(image: QImage) -> int:
    """Pixels that differ from the top-left corner's colour (the background)."""
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    array = array[:, : image.width() * 3].reshape(image.height(), image.width(), 3)
    return int((np.abs(array.astype(int) - array[0, 0]).sum(axis=2) > 30).sum())


def test_switching_geometry_kinds_repeatedly_never_hangs(qtbot, render_thread, rng):
    """Points -> voxels -> splats -> mesh, three rounds, each with a thumbnail of the next kind in between
    (the order that made Filament stall): every frame arrives, shows the shape, and no renderer restarts."""
    restarts: list[str] = []
    render_thread.renderer_restarted.connect(restarts.append)
    thumbnails: list[tuple] = []

    def on_thumbnail(key, image):
        thumbnails.append((key, _non_background(image)))

    viewport = Viewport(render_thread)
    qtbot.addWidget(viewport)
    thumbnail_client = render_thread.thumbnail_client(viewport)
    thumbnail_client.ready.connect(on_thumbnail)
    viewport.resize(320, 260)
    viewport.show()
    shapes = _shapes(rng)
    for index, shape in enumerate(shapes * 3):
        with qtbot.waitSignal(viewport.frame_shown, timeout=FRAME_TIMEOUT_MS):
            viewport.show_shape(shape)
        assert _non_background(viewport.image) > 50, type(shape).__name__
        following = shapes[(index + 1) % len(shapes)]
        thumbnail_client.request(("switch", index), following, viewport.style, 64)
        qtbot.waitUntil(lambda: len(thumbnails) == index + 1, timeout=FRAME_TIMEOUT_MS)
        assert thumbnails[-1][0] == ("switch", index) and thumbnails[-1][1] > 20, type(following).__name__
    render_thread.renderer_restarted.disconnect(restarts.append)
    thumbnail_client.ready.disconnect(on_thumbnail)
    assert restarts == []


def test_orbit_drag_changes_camera_and_frame(qtbot, render_thread, rng):
    viewport = Viewport(render_thread)
    qtbot.addWidget(viewport)
    viewport.resize(320, 260)
    viewport.show()
    with qtbot.waitSignal(viewport.frame_shown, timeout=FRAME_TIMEOUT_MS):
        viewport.show_shape(_shapes(rng)[3])
    qtbot.waitUntil(lambda: render_thread.idle, timeout=FRAME_TIMEOUT_MS)
    qtbot.wait(300)  # let the resize-debounce frame land
    qtbot.waitUntil(lambda: render_thread.idle, timeout=FRAME_TIMEOUT_MS)
    before_camera, before_image = viewport.canvas.camera, QImage(viewport.image)
    qtbot.mousePress(viewport.canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(viewport.canvas, QPoint(160, 120))
    qtbot.mouseRelease(viewport.canvas, Qt.MouseButton.LeftButton, pos=QPoint(160, 120))
    assert viewport.canvas.camera.azimuth != before_camera.azimuth
    qtbot.waitUntil(lambda: viewport.image != before_image, timeout=FRAME_TIMEOUT_MS)


def test_screenshot_writes_the_frame(qtbot, render_thread, rng, tmp_path):
    viewport = Viewport(render_thread)
    qtbot.addWidget(viewport)
    viewport.resize(300, 240)
    with qtbot.waitSignal(viewport.frame_shown, timeout=FRAME_TIMEOUT_MS):
        viewport.show_shape(_shapes(rng)[0])
    assert viewport.save_screenshot(tmp_path / "shot.png")
    assert QImage(str(tmp_path / "shot.png")).size() == viewport.image.size()


def test_splats_are_drawn_as_discs_at_once_and_refined_with_the_gaussian_shader_at_rest(qtbot, render_thread, rng):
    viewport = Viewport(render_thread)
    qtbot.addWidget(viewport)
    viewport.resize(320, 260)
    viewport.show()
    qtbot.waitUntil(lambda: render_thread.idle, timeout=FRAME_TIMEOUT_MS)
    shown = viewport.frames_shown
    with qtbot.waitSignal(viewport.frame_shown, timeout=FRAME_TIMEOUT_MS):
        viewport.show_shape(_shapes(rng)[2])
    discs = QImage(viewport.image)
    assert _non_background(discs) > 50 and not render_thread.idle  # its refinement is still to come
    # the refined frame reaches the widget through a queued signal, after the render thread is idle again
    # (and a frame of the show's resize debounce may come first): wait for the frame itself
    qtbot.waitUntil(lambda: render_thread.idle and viewport.image != discs, timeout=FRAME_TIMEOUT_MS)
    assert viewport.frames_shown >= shown + 2  # discs first, the Gaussian shader's frame after
    points = viewport.frames_shown
    with qtbot.waitSignal(viewport.frame_shown, timeout=FRAME_TIMEOUT_MS):
        viewport.show_shape(_shapes(rng)[0])
    qtbot.wait(int(3 * REFINE_DELAY_S * 1000))
    assert render_thread.idle and viewport.frames_shown == points + 1  # points need no refinement


def test_two_viewports_get_only_their_own_frames(qtbot, render_thread, rng):
    """A second viewport (or one left over from a closed window) drawing its own shape neither hands its frames
    to the first nor replaces the first's request: the shared renderer reloads each viewport's shape."""
    first, second = Viewport(render_thread), Viewport(render_thread)
    for viewport, size in ((first, (320, 260)), (second, (260, 420))):
        qtbot.addWidget(viewport)
        viewport.resize(*size)
        viewport.show()
    points, voxels = _shapes(rng)[:2]
    with qtbot.waitSignals([first.frame_shown, second.frame_shown], timeout=FRAME_TIMEOUT_MS):
        first.show_shape(points)
        second.show_shape(voxels)
    # let both settle first: under load a viewport's first frame can arrive before its resize's redraw
    qtbot.waitUntil(lambda: render_thread.idle, timeout=FRAME_TIMEOUT_MS)
    qtbot.wait(int(3 * REFINE_DELAY_S * 1000))
    qtbot.waitUntil(lambda: render_thread.idle, timeout=FRAME_TIMEOUT_MS)
    first_frames, first_image = first.frames_shown, QImage(first.image)
    second_frames = second.frames_shown
    for _ in range(3):
        second.reset_view()
    qtbot.waitUntil(lambda: second.frames_shown > second_frames and render_thread.idle, timeout=FRAME_TIMEOUT_MS)
    assert first.frames_shown == first_frames and first.image == first_image
    with qtbot.waitSignal(first.frame_shown, timeout=FRAME_TIMEOUT_MS):
        first.reset_view()
        second.reset_view()  # asked after the first: it must not replace the first's request
    assert _non_background(first.image) > 50
