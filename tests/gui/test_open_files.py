"""Opening from outside the app: the launcher's Exec line with files or folders, drag and drop, a bad file, and
several app processes sharing one settings file."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from app.__main__ import parse_args
from app.desktop import install_desktop
from app.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
PCD_SAMPLES = "modelnet10_pointclouds_1024/pcd_samples"
SOFA, CHAIR = f"{PCD_SAMPLES}/sofa/test/sofa_0681.pcd", f"{PCD_SAMPLES}/chair/test/chair_0890.pcd"
#: llvmpipe frames and job threads take seconds on the loaded 2-core test machines
JOB_TIMEOUT_MS = 60_000
#: opens of one cached file in a row; each lost one about 1 in 20 times before the fix
REOPENS = 20
SETTINGS_INI = Path("Latent3D") / "Latent3D Studio.ini"


@pytest.fixture
def config_home(tmp_path, monkeypatch) -> Path:
    """Settings isolated in tmp, for this process and for the app processes a test starts."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home))
    return home


@pytest.fixture
def window(qtbot, config_home):
    """The main window; shut down (jobs cancelled, renderer released) afterwards."""
    main = MainWindow()
    qtbot.addWidget(main)
    main.show()
    yield main
    main.shutdown()


def recent_list(config_home: Path, key: str) -> list[str]:
    """A recent list as the app stored it, read from the INI file (written by another process, too)."""
    value = QSettings(str(config_home / SETTINGS_INI), QSettings.Format.IniFormat).value(f"recent/{key}", [])
    return [value] if isinstance(value, str) else list(value)


def launcher_argv(data_home: Path, paths: list[str]) -> list[str]:
    """The installed launcher's Exec line with ``%F`` expanded as a file manager does for ``paths``."""
    install_desktop(data_home)
    entry = (data_home / "applications" / "latent3d-studio.desktop").read_text(encoding="utf-8")
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))[len("Exec="):]
    argv = shlex.split(exec_line)
    at = argv.index("%F")
    return argv[:at] + paths + argv[at + 1:]


def drop(window: MainWindow, mime: QMimeData) -> tuple[bool, bool]:
    """Drag ``mime`` onto the window's centre and drop it; returns (drag accepted, drop accepted)."""
    centre = window.rect().center()
    enter = QDragEnterEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    dropped = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, dropped)
    return enter.isAccepted(), dropped.isAccepted()


@pytest.mark.parametrize("case", ["two files", "folder", "bad file"])
def test_launcher_exec_line_opens_what_the_file_manager_passes(tmp_path, shared_data, config_home, case):
    """The real process: no argument error, a window (the screenshot), and what opened is in the recent list."""
    bad = tmp_path / "bad.ply"
    bad.write_text("ply\nformat garbage\n")
    paths, remembered = {
        "two files": ([shared_data / SOFA, shared_data / CHAIR], [shared_data / SOFA, shared_data / CHAIR]),
        "folder": ([shared_data / PCD_SAMPLES], [shared_data / PCD_SAMPLES]),
        "bad file": ([bad], []),  # the error dialog is checked in-process below
    }[case]
    shot = tmp_path / "shot.png"
    argv = launcher_argv(tmp_path / "xdg", [str(p) for p in paths]) + ["--screenshot", str(shot)]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" not in done.stderr
    image = QImage(str(shot))
    assert image.width() >= 1280 and image.height() >= 800
    assert recent_list(config_home, "datasets") == [str(p) for p in remembered]


def test_bad_file_argument_is_not_an_argument_error(tmp_path):
    args = parse_args([str(tmp_path / "missing.ply"), "--page", "train"])
    assert args.paths == [str(tmp_path / "missing.ply")] and args.page == "train"


def test_first_path_opens_in_the_viewport_the_others_go_to_recent(qtbot, window, shared_data, config_home,
                                                                  error_boxes):
    window.show_page("train")
    window.open_paths([str(shared_data / SOFA), str(shared_data / CHAIR), str(shared_data / PCD_SAMPLES)])
    qtbot.waitUntil(lambda: window.viewport.shape is not None, timeout=JOB_TIMEOUT_MS)
    assert window.stack.currentWidget() is window.datasets
    assert window.datasets.path_label.text().startswith(str(shared_data / SOFA))
    assert len(window.viewport.shape.points) > 0
    assert recent_list(config_home, "datasets") == [str(shared_data / p) for p in (SOFA, CHAIR, PCD_SAMPLES)]
    assert error_boxes == []


def test_bad_file_shows_its_error_and_the_window_stays_usable(qtbot, window, tmp_path, shared_data, error_boxes):
    bad = tmp_path / "bad.ply"
    bad.write_text("ply\nformat garbage\n")
    window.open_paths([str(bad)])
    qtbot.waitUntil(lambda: len(error_boxes) == 1, timeout=JOB_TIMEOUT_MS)
    assert "bad.ply" in error_boxes[0]
    window.open_paths([str(shared_data / SOFA)])
    qtbot.waitUntil(lambda: window.viewport.shape is not None, timeout=JOB_TIMEOUT_MS)
    assert len(error_boxes) == 1


def test_opening_a_quick_file_again_and_again_shows_it_every_time(qtbot, window, shared_data, error_boxes):
    """A cached file opens in milliseconds: its job's events once came before the window had connected to them,
    and about one open in twenty never showed (JobRunner now starts the job on the next event-loop turn)."""
    for _ in range(REOPENS):
        window.datasets.dataset, window.viewport.shape = None, None
        window.open_paths([str(shared_data / SOFA)])
        qtbot.waitUntil(lambda: window.viewport.shape is not None, timeout=JOB_TIMEOUT_MS)
    assert error_boxes == []


def test_run_folder_opens_on_the_sample_page(qtbot, window, tmp_path, config_home, error_boxes):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"cond": "class", "classes": ["chair", "sofa"]}))
    window.open_paths([str(run)])
    assert window.stack.currentWidget() is window.sample
    assert window.sample.model_combo.currentText() == str(run)
    assert [window.sample.class_combo.itemText(i) for i in range(1, window.sample.class_combo.count())] == \
        ["chair", "sofa"]
    assert recent_list(config_home, "runs") == [str(run)]
    assert error_boxes == []


def test_dropped_file_opens_in_the_viewport(qtbot, window, shared_data, config_home, error_boxes):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(shared_data / SOFA)), QUrl.fromLocalFile(str(shared_data / CHAIR))])
    assert drop(window, mime) == (True, True)
    qtbot.waitUntil(lambda: window.viewport.shape is not None, timeout=JOB_TIMEOUT_MS)
    assert window.datasets.path_label.text().startswith(str(shared_data / SOFA))
    assert recent_list(config_home, "datasets") == [str(shared_data / SOFA), str(shared_data / CHAIR)]
    assert error_boxes == []


def test_drag_without_local_files_is_refused(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/donut.ply")])
    mime.setText("donut.ply")
    assert drop(window, mime) == (False, False)
    assert not window.jobs.busy and window.datasets.dataset is None


RACER = """
import sys
from PySide6.QtCore import QSettings
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
from app import settings
settings.MAX_RECENT = 1000  # keep every entry, so a lost one shows
for i in range({count}):
    settings.remember("datasets", f"{{sys.argv[2]}}-{{i}}")
"""


def test_app_processes_sharing_the_settings_lose_no_recent_entry(tmp_path, config_home):
    """Several windows remembering at once: without the write lock most entries were lost (26 of 100 kept)."""
    processes, count = 4, 25
    racers = [subprocess.Popen([sys.executable, "-c", RACER.format(count=count), str(config_home), f"p{n}"],
                               cwd=ROOT) for n in range(processes)]
    assert [racer.wait(timeout=120) for racer in racers] == [0] * processes
    entries = recent_list(config_home, "datasets")
    assert sorted(entries) == sorted(f"p{n}-{i}" for n in range(processes) for i in range(count))
