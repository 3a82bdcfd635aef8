"""The viewport's render thread: the GUI posts requests (newest frame wins), frames come back as signals.

The thread forwards requests to the renderer process (``render_process``) and waits for its replies, so
the GUI thread never blocks on rendering; a renderer that stalls longer than ``STALL_TIMEOUT_S`` is
replaced by a fresh process and the request is tried once more. Splats are drawn as discs in every frame
and refined with the Gaussian shader once the view has rested ``REFINE_DELAY_S`` (progressive refinement:
previews and orbiting at the speed of points, the true splats when the user looks).

Each viewport draws through its own :class:`ViewClient` (its shape, its newest frame request, frames addressed
to it alone), so two viewports, or one left over from a closed window, never take each other's frames or
replace each other's requests; the renderer reloads a client's shape when it draws for another client.

Thumbnails are asked for through a :class:`ThumbnailClient` per page, in the spirit of napari's per-layer
event connections: each client has its own queue, its own ``ready`` signal and its own ``cancel``, so a page
that starts over (the Datasets page on a new filter) drops only its own pending pictures, never another
page's (the Train page's preview strip). The thread serves the clients' queues in turn.
"""
from __future__ import annotations

import atexit
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.viewport import render_process
from core.render import OrbitCamera, Style
from core.shapes import GaussianSplats

#: a reply slower than this means the renderer stalled: a frame takes 0.05–2 s on llvmpipe, but Filament's
#: BeginFrame sometimes never returns (seen here in about one run in ten, with or without Qt in the process)
STALL_TIMEOUT_S = 10.0
#: the first request of a fresh process also imports Open3D and creates the renderer; the first splat request
#: creates the Filament renderer and compiles its splat shaders (~1 s idle, 10 s and more on the loaded machine)
STARTUP_TIMEOUT_S = 90.0
#: a splat view unchanged this long is drawn again with the Gaussian shader (frames before it are discs): longer
#: than the gap between live denoising previews (~0.2 s for one shape), so sampling is never held up by it
REFINE_DELAY_S = 0.6


class RendererStalled(RuntimeError):
    """The renderer process did not answer in time."""


def to_qimage(rgb: np.ndarray) -> QImage:
    """A deep-copied RGB888 QImage of an (H, W, 3) uint8 array (the array may be freed afterwards)."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class ViewClient(QObject):
    """One viewport's channel to the renderer: :meth:`set_shape` and :meth:`request_frame` (the newest
    request replaces one not yet started), ``frame_ready(image)`` with frames of this client's shape only.
    Made by :meth:`RenderThread.view_client`; it leaves the render thread when its parent is destroyed."""

    frame_ready = Signal(QImage)
    shape_failed = Signal(str)  # this client's shape could not be drawn (message)

    def __init__(self, thread: "RenderThread", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = thread
        self.destroyed.connect(lambda _=None, t=thread, token=id(self): t._drop_view(token))

    def set_shape(self, shape: object | None, style: Style) -> None:
        """Show ``shape`` (None clears the view) with ``style`` at this client's next frame."""
        self._thread._set_view_shape(self, shape, style)

    def request_frame(self, camera: OrbitCamera, size: tuple[int, int]) -> None:
        """Ask for a frame of this client's shape seen by ``camera`` at ``size`` pixels."""
        self._thread._request_view_frame(self, camera, (max(int(size[0]), 16), max(int(size[1]), 16)))


@dataclass
class _ViewState:
    """A view client's shape and its newest frame request not yet started."""

    client: ViewClient
    shape: tuple[object, Style] | None = None
    shape_dirty: bool = False
    frame: tuple[OrbitCamera, tuple[int, int]] | None = None


@dataclass(frozen=True)
class _ViewRound:
    """What the render thread draws for one view client in one round (taken from its state under the lock)."""

    token: int
    client: ViewClient
    shape: tuple[object, Style] | None
    reload: bool
    frame: tuple[OrbitCamera, tuple[int, int]] | None

    @property
    def splats(self) -> bool:
        return self.shape is not None and isinstance(self.shape[0], GaussianSplats)


@dataclass
class _ThumbnailRequest:
    key: object
    shape: object
    style: Style
    size: int


class ThumbnailClient(QObject):
    """One page's thumbnails: :meth:`request` queues a picture, ``ready(key, image)`` delivers it, and
    :meth:`cancel` drops this client's pending requests only. Made by :meth:`RenderThread.thumbnail_client`;
    it leaves the render thread when its parent (the page) is destroyed."""

    ready = Signal(object, QImage)  # key, image

    def __init__(self, thread: "RenderThread", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = thread
        self.destroyed.connect(lambda _=None, t=thread, token=id(self): t._forget(token))

    def request(self, key: object, shape: object, style: Style, size: int) -> None:
        """Ask for a square ``size`` picture of ``shape``; a newer request under the same key replaces it."""
        self._thread._enqueue(self, _ThumbnailRequest(key, shape, style, size))

    def cancel(self) -> None:
        """Drop this client's thumbnails not yet rendered (the page starts over)."""
        self._thread._forget(id(self), keep_client=True)


@dataclass
class _ClientQueue:
    """A client's pending requests, oldest first, and the client that gets the pictures."""

    client: ThumbnailClient
    requests: OrderedDict = field(default_factory=OrderedDict)


class RenderThread(QObject):
    """Renders the viewport's shape and thumbnails. Use :meth:`shared`: one per process, released at exit.

    One per app: each owns a renderer process (start-up costs seconds).
    """

    _shared: "RenderThread | None" = None

    renderer_restarted = Signal(str)         # the renderer stalled and was replaced (message for the log)
    thumbnail_failed = Signal(str)           # a thumbnail's shape could not be drawn (message for the log)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._lock = threading.Condition()
        #: view client id -> its state; the client served last moves to the end, so viewports take turns
        self._views: OrderedDict[int, _ViewState] = OrderedDict()
        #: the view client whose shape the renderer process holds
        self._loaded: int | None = None
        self._refine: _ViewRound | None = None
        #: client id -> its queue; the client served last moves to the end, so clients take turns
        self._clients: OrderedDict[int, _ClientQueue] = OrderedDict()
        self._stopping = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self._process = None
        self._conn = None
        self._fresh = False
        self._filament_started = False

    @classmethod
    def shared(cls) -> "RenderThread":
        """The process's render thread, started on first use."""
        if cls._shared is None:
            cls._shared = cls()
            cls._shared.start()
        return cls._shared

    @classmethod
    def release_shared(cls) -> None:
        """Stop the shared thread (its renderer is cleared and deleted in that thread); safe to call twice."""
        if cls._shared is not None:
            cls._shared.stop()
            cls._shared = None

    # -- GUI-thread API ---------------------------------------------------------------------------------
    def view_client(self, parent: QObject | None = None) -> ViewClient:
        """A new viewport channel with its own shape and frames, living as long as ``parent``."""
        return ViewClient(self, parent)

    def thumbnail_client(self, parent: QObject | None = None) -> ThumbnailClient:
        """A new thumbnail channel with its own queue and cancel, living as long as ``parent``."""
        return ThumbnailClient(self, parent)

    def _view_state(self, client: ViewClient) -> _ViewState:
        """The client's state, registered on first use (call with the lock held)."""
        return self._views.setdefault(id(client), _ViewState(client))

    def _set_view_shape(self, client: ViewClient, shape: object | None, style: Style) -> None:
        with self._lock:
            state = self._view_state(client)
            state.shape, state.shape_dirty = (None if shape is None else (shape, style)), True
            self._refine = None
            self._lock.notify()

    def _request_view_frame(self, client: ViewClient, camera: OrbitCamera, size: tuple[int, int]) -> None:
        with self._lock:
            self._view_state(client).frame = (camera, size)
            self._refine = None
            self._lock.notify()

    def _drop_view(self, token: int) -> None:
        """Forget a destroyed view client (its pending frame and any refinement of it)."""
        with self._lock:
            self._views.pop(token, None)
            if self._refine is not None and self._refine.token == token:
                self._refine = None

    def _next_view(self) -> _ViewRound | None:
        """The next view client in turn with a new shape or a frame to draw, taken off its state (call with the
        lock held)."""
        for token, state in self._views.items():
            if state.shape_dirty or state.frame is not None:
                self._views.move_to_end(token)
                round_ = _ViewRound(token, state.client, state.shape, state.shape_dirty, state.frame)
                state.shape_dirty, state.frame = False, None
                return round_
        return None

    def _enqueue(self, client: ThumbnailClient, request: _ThumbnailRequest) -> None:
        with self._lock:
            queue = self._clients.setdefault(id(client), _ClientQueue(client))
            queue.requests[request.key] = request
            self._lock.notify()

    def _forget(self, token: int, keep_client: bool = False) -> None:
        """Drop a client's pending requests; unless ``keep_client``, forget the client too (it was destroyed)."""
        with self._lock:
            if keep_client and token in self._clients:
                self._clients[token].requests.clear()
            else:
                self._clients.pop(token, None)

    def _next_thumbnail(self) -> tuple[ThumbnailClient, _ThumbnailRequest] | None:
        """The oldest request of the next client in turn that has one (call with the lock held)."""
        for token, queue in self._clients.items():
            if queue.requests:
                self._clients.move_to_end(token)
                return queue.client, queue.requests.popitem(last=False)[1]
        return None

    @property
    def idle(self) -> bool:
        """True when nothing is queued or being drawn, a splat view's refinement included (screenshots wait
        for this)."""
        with self._lock:
            return not (self._busy or self._has_work() or self._refine)

    def start(self) -> None:
        """Start the render thread (the renderer process starts with the first request)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="viewport-render", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish the current request, stop the renderer process and wait for the thread."""
        with self._lock:
            self._stopping = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join()

    # -- render thread -------------------------------------------------------------------------------------
    def _has_work(self) -> bool:
        return bool(self._stopping or self._frames_pending()
                    or any(queue.requests for queue in self._clients.values()))

    def _frames_pending(self) -> bool:
        return any(state.shape_dirty or state.frame is not None for state in self._views.values())

    def run(self) -> None:
        """The request loop (runs in the render thread)."""
        try:
            while True:
                with self._lock:
                    refine = None
                    while not self._has_work():
                        if self._refine is None:
                            self._lock.wait()
                        elif not self._lock.wait(REFINE_DELAY_S) and not self._has_work() and self._refine:
                            refine, self._refine = self._refine, None
                            break
                    if self._stopping:
                        return
                    self._busy = True
                    view = None if refine else self._next_view()
                    thumb = self._next_thumbnail() if view is None and refine is None else None
                try:
                    self._serve(view, thumb, refine)
                finally:
                    self._busy = False
        finally:
            self._close()

    def _serve(self, view: _ViewRound | None, thumb, refine: _ViewRound | None) -> None:
        """Forward one round of requests, retrying once with a fresh renderer if it stalls."""
        for attempt in (1, 2):
            try:
                if view is not None:
                    self._draw(view, full=False)
                if thumb is not None:
                    client, request = thumb
                    self._ensure_process()
                    self._expect_startup(request.shape)
                    image = self._call(("thumb", request.shape, request.style, request.size), allow_error=True)
                    if isinstance(image, np.ndarray):
                        self._deliver(client, request.key, to_qimage(image))
                    elif image is not None:
                        self.thumbnail_failed.emit(image)
                if refine is not None:
                    self._draw(refine, full=True)
                return
            except (RendererStalled, EOFError, BrokenPipeError, ConnectionError) as exc:
                self._kill()
                self.renderer_restarted.emit(f"3D renderer stalled ({type(exc).__name__}: {exc}); restarted it"
                                             + ("" if attempt == 1 else "; one request was dropped"))

    def _draw(self, view: _ViewRound, full: bool) -> None:
        """Load the client's shape where it changed or another client's is loaded, then draw its frame (``full``:
        splats with the Gaussian shader); a splat frame drawn as discs is queued for refinement."""
        if view.reload or self._loaded != view.token or self._process is None:
            self._ensure_process()
            error = self._call(("load", *(view.shape or (None, Style()))), allow_error=True)
            self._loaded = view.token
            if error is not None:
                self._emit_to(view, "shape_failed", error)
        if view.frame is None:
            return
        camera, (width, height) = view.frame
        if full:
            self._expect_startup(view.shape[0])
        self._emit_to(view, "frame_ready", to_qimage(self._call(("frame", camera, width / height, full))))
        if not full and view.splats:
            with self._lock:
                self._refine = self._refine or (None if self._frames_pending() else replace(view, reload=False))

    def _emit_to(self, view: _ViewRound, signal: str, payload: object) -> None:
        """Emit one of a view client's signals, unless the client (its viewport) was destroyed meanwhile."""
        with self._lock:
            alive = view.token in self._views
        if alive:
            try:
                getattr(view.client, signal).emit(payload)
            except RuntimeError:  # deleted between the check and the emit: nobody is waiting for it
                pass

    def _deliver(self, client: ThumbnailClient, key: object, image: QImage) -> None:
        """Hand a picture to its client, unless the client (its page) was destroyed meanwhile."""
        with self._lock:
            alive = id(client) in self._clients
        if alive:
            try:
                client.ready.emit(key, image)
            except RuntimeError:  # deleted between the check and the emit: nobody is waiting for it
                pass

    def _ensure_process(self) -> None:
        if self._process is None or not self._process.is_alive():
            self._kill()
            self._process, self._conn = render_process.spawn()
            self._fresh, self._filament_started = True, False

    def _expect_startup(self, shape: object | None) -> None:
        """Give the request that will start this process's Filament renderer (the first splats) the start-up
        timeout, not the stall timeout."""
        if isinstance(shape, GaussianSplats) and not self._filament_started:
            self._fresh = self._filament_started = True

    def _call(self, request: tuple, allow_error: bool = False):
        """Send one request and wait for its reply; an error reply is returned as its message if allowed."""
        self._conn.send(request)
        timeout = STARTUP_TIMEOUT_S if self._fresh else STALL_TIMEOUT_S
        self._fresh = False
        if not self._conn.poll(timeout):
            raise RendererStalled(request[0])
        status, payload = self._conn.recv()
        if status == "error":
            if allow_error:
                return payload
            raise RuntimeError(payload)
        return None if request[0] == "load" else payload

    def _kill(self) -> None:
        """End a stalled or dead renderer process for good."""
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        self._process, self._conn, self._loaded = None, None, None

    def _close(self) -> None:
        """Ask the renderer to release Filament and exit; kill it if it does not."""
        if self._process is not None and self._process.is_alive():
            try:
                self._conn.send(("stop",))
                if self._conn.poll(10):
                    self._conn.recv()
                self._process.join(10)
            except (EOFError, BrokenPipeError, ConnectionError):
                pass
        self._kill()


atexit.register(RenderThread.release_shared)  # registered after Qt's: runs first, before Qt tears down
