"""``latent3d-studio [FILE_OR_FOLDER ...] [--open PATH] [--page P] [--screenshot PNG] [--(un)install-desktop]``:
start the desktop app.

The GUI (Qt and the window's modules) is imported inside :func:`parse_args` and :func:`main`, not here: every
renderer process (``spawn``) imports this script again as its main module, and a PyInstaller build's re-enters it
(``multiprocessing.freeze_support``); neither must import the GUI.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.desktop import install_desktop, uninstall_desktop

#: window size for --screenshot (the issue's 1280×800)
SCREENSHOT_SIZE = (1280, 800)
#: give up waiting for a screenshot's loading after this long
SCREENSHOT_TIMEOUT_MS = 180_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (DESIGN.md, "Commands"); paths are positional because file managers pass them so."""
    from app.main_window import PAGES

    parser = argparse.ArgumentParser(prog="latent3d-studio", description="Latent3D Studio desktop app")
    parser.add_argument("paths", nargs="*", metavar="FILE_OR_FOLDER",
                        help="open like --open: the first in the viewport, the others in File > Recent")
    parser.add_argument("--open", metavar="PATH", help="dataset file/folder, 'builtin', or a run folder")
    parser.add_argument("--page", choices=PAGES, help="default: the page of what is opened (a run: sample)")
    parser.add_argument("--screenshot", metavar="PNG", help="build the window at 1280x800, load, save PNG, exit")
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument("--install-desktop", action="store_true",
                         help="write a .desktop launcher, icon and file types to $XDG_DATA_HOME and exit")
    desktop.add_argument("--uninstall-desktop", action="store_true",
                         help="remove what --install-desktop wrote and exit")
    return parser.parse_args(argv)


def paths_to_open(args: argparse.Namespace) -> list[str]:
    """``--open`` then the positional paths; existing ones made absolute, since the recent list outlives the
    working directory (others, such as ``builtin`` or a missing file, stay as typed for the error to name)."""
    paths = ([args.open] if args.open else []) + args.paths
    return [str(Path(p).absolute()) if Path(p).exists() else p for p in paths]


def desktop_files(uninstall: bool) -> int:
    """``--install-desktop`` / ``--uninstall-desktop``: say what changed, warn about a cache tool that failed."""
    paths, warnings = uninstall_desktop() if uninstall else install_desktop()
    verb = "removed" if uninstall else "installed"
    for path in paths:
        print(f"{verb} {path}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Start the app (or install the launcher); returns the exit code."""
    args = parse_args(argv)
    if args.install_desktop or args.uninstall_desktop:
        return desktop_files(args.uninstall_desktop)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # Qt aborts with no display and no platform

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Latent3D Studio")
    app.setDesktopFileName("latent3d-studio")
    apply_theme(app)
    window = MainWindow()
    if args.screenshot:
        window.resize(*SCREENSHOT_SIZE)
    window.show()
    window.open_paths(paths_to_open(args))
    if args.page:
        window.show_page(args.page)
    code = 0
    if args.screenshot:
        from app.screenshot import ScreenshotWhenReady

        shot = ScreenshotWhenReady(window, Path(args.screenshot), SCREENSHOT_TIMEOUT_MS)
        QTimer.singleShot(0, shot.start)
        app.exec()
        code = 0 if shot.saved else 1
    else:
        code = app.exec()
    # the renderer must be released in its thread before QApplication goes (notes/rendering.md)
    window.shutdown()
    from app.viewport.render_thread import RenderThread
    RenderThread.release_shared()
    return code


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # the renderer process re-enters here in a PyInstaller build
    sys.exit(main())

