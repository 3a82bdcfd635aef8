"""Packaging: a non-editable install carries the app's assets; the desktop launcher and its file types install,
validate, make file managers offer the app for every format it reads, and uninstall."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from app.desktop import mime_xml
from app.resources import resources_dir

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_wheel_contains_every_asset(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("latent3d_studio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assets = sorted(p.relative_to(ROOT).as_posix() for p in resources_dir().rglob("*") if p.is_file())
    assert "app/assets/style.qss" in assets and "app/assets/icons/latent3d-studio.svg" in assets
    assert [a for a in assets if a not in names] == []


# -- the launcher and the file types ("Open with" in a file manager) ---------------------------------------------
MIME_PROBE = """
import sys
from PySide6.QtCore import QMimeDatabase
database = QMimeDatabase()
print("\\n".join(database.mimeTypeForFile(path).name() for path in sys.argv[1:]))
"""
#: a real file of each format whose type the system lacks, and the type our MIME package gives it
REAL_FILES = {
    "gaussian_splats/gshairlod_donut__fused_iteration_30000.ply": "model/x-ply",
    "modelnet_off/ModelNet10/bathtub/train/bathtub_0001.off": "model/x-off",  # the one-line 'OFF3514 …' header
    "modelnet10_pointclouds_1024/pcd_samples/sofa/test/sofa_0681.pcd": "model/x-pcd",  # *.pcd is Photo CD too
    "modelnet10_voxels32/chair.npy.gz": "application/x-compressed-npy",
}


def mime_types_seen(data_home: Path, files: list[Path]) -> list[str]:
    """The MIME types a freedesktop reader (Qt, as in KDE's file manager) gives ``files`` with this data home."""
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    done = subprocess.run([sys.executable, "-c", MIME_PROBE, *map(str, files)], env=env, capture_output=True,
                          text=True, check=True, timeout=60)
    return done.stdout.split()


def numpy_files(folder: Path) -> dict[Path, str]:
    """A small .npy and .npz, with the types our MIME package gives them."""
    folder.mkdir()
    np.save(folder / "points.npy", np.zeros((4, 3), np.float32))
    np.savez(folder / "points.npz", points=np.zeros((4, 3), np.float32))
    return {folder / "points.npy": "application/x-npy", folder / "points.npz": "application/x-npz"}


def test_install_desktop_registers_every_format_for_open_with(tmp_path, monkeypatch, shared_data):
    from app.__main__ import main
    from app.desktop import FILE_TYPES

    data_home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    expected = {shared_data / name: mime for name, mime in REAL_FILES.items()} | numpy_files(tmp_path / "arrays")
    assert not set(mime_types_seen(data_home, list(expected))) & set(expected.values())  # the system lacks them

    assert main(["--install-desktop"]) == 0
    assert (data_home / "mime" / "packages" / "latent3d-studio.xml").read_text() == mime_xml()
    assert mime_types_seen(data_home, list(expected)) == list(expected.values())
    open_with = (data_home / "applications" / "mimeinfo.cache").read_text()  # what GIO's "Open with" reads
    assert all(f"{t.name}=latent3d-studio.desktop;" in open_with for t in FILE_TYPES)


def test_uninstall_desktop_removes_the_launcher_and_the_file_types(tmp_path, monkeypatch, shared_data):
    from app.__main__ import main

    data_home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    assert main(["--install-desktop"]) == 0
    assert main(["--uninstall-desktop"]) == 0
    assert list(data_home.rglob("latent3d-studio*")) == []
    assert "latent3d-studio" not in (data_home / "applications" / "mimeinfo.cache").read_text()
    ply = shared_data / next(iter(REAL_FILES))
    assert mime_types_seen(data_home, [ply]) != ["model/x-ply"]


def test_installed_and_packaged_entries_pass_desktop_file_validate(tmp_path):
    from app.desktop import desktop_entry, install_desktop

    written, _ = install_desktop(tmp_path)
    entries = [p for p in written if p.suffix == ".desktop"] + [PACKAGING / "latent3d-studio.desktop"]
    done = subprocess.run(["desktop-file-validate", *map(str, entries)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "", done.stdout
    # the packaged copies are for distribution packages: the same text as the app installs
    assert (PACKAGING / "latent3d-studio.desktop").read_text() == desktop_entry("latent3d-studio")
    assert (PACKAGING / "latent3d-studio.xml").read_text() == mime_xml()


def test_install_desktop_without_cache_tools_still_installs(tmp_path, monkeypatch):
    from app.desktop import install_desktop

    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    written, warnings = install_desktop(tmp_path / "xdg")
    assert all(p.is_file() for p in written) and warnings == []
    assert not (tmp_path / "xdg" / "mime" / "mime.cache").exists()


def test_a_failing_cache_tool_is_a_warning_not_an_error(tmp_path, monkeypatch):
    from app.desktop import install_desktop

    tools = tmp_path / "bin"
    tools.mkdir()
    broken = tools / "update-mime-database"
    broken.write_text("#!/bin/sh\necho 'cannot write cache' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    written, warnings = install_desktop(tmp_path / "xdg")
    assert all(p.is_file() for p in written)
    assert len(warnings) == 1 and warnings[0].startswith("update-mime-database") and "cannot write cache" in warnings[0]
