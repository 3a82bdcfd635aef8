"""``latent3d-studio [--open PATH] [--page P] [--screenshot PNG] [--install-desktop]``: start the desktop app."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: window size for --screenshot (the issue's 1280×800)
SCREENSHOT_SIZE = (1280, 800)
#: give up waiting for a screenshot's loading after this long
SCREENSHOT_TIMEOUT_MS = 180_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (DESIGN.md, "Commands")."""
    from app.main_window import PAGES

    parser = argparse.ArgumentParser(prog="latent3d-studio", description="Latent3D Studio desktop app")
    parser.add_argument("--open", metavar="PATH", help="dataset file/folder, 'builtin', or a run folder")
    parser.add_argument("--page", choices=PAGES, default="datasets")
    parser.add_argument("--screenshot", metavar="PNG", help="build the window at 1280x800, load, save PNG, exit")
    parser.add_argument("--install-desktop", action="store_true",
                        help="write a .desktop launcher and icon to $XDG_DATA_HOME and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the app (or install the launcher); returns the exit code."""
    args = parse_args(argv)
    if args.install_desktop:
        from app.desktop import install_desktop

        entry, icon_path = install_desktop()
        print(f"installed {entry}\ninstalled {icon_path}")
        return 0
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
    window.show_page(args.page)
    if args.screenshot:
        window.resize(*SCREENSHOT_SIZE)
    window.show()
    if args.open:
        window.open_path(args.open)
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

