"""Double-click start: a freedesktop .desktop launcher, the icon and the shape file types, in the user's XDG data
folder, so a file manager offers the app under "Open with" for every format the project reads.

The entry's ``MimeType=`` names the system's types where shared-mime-info has them (OBJ, STL, HDF5) and our own
for the formats it lacks (PLY, OFF, PCD, NumPy), which ``mime/packages/latent3d-studio.xml`` defines.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from app.resources import resources_dir

APP_ID = "latent3d-studio"
MIME_NAMESPACE = "http://www.freedesktop.org/standards/shared-mime-info"


@dataclass(frozen=True)
class FileType:
    """One MIME type the app opens; ``globs`` set only for a type we define ourselves (the system lacks it)."""

    name: str
    comment: str = ""
    globs: tuple[str, ...] = ()
    #: strings at offset 0 (shared-mime-info escapes); they also settle a glob two types claim (*.pcd: Photo CD)
    magic: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def ours(self) -> bool:
        """Whether our MIME XML defines this type (otherwise shared-mime-info does)."""
        return bool(self.globs)


#: what core.io reads, in the order of the entry's MimeType= (system types: shared-mime-info 2.2, Debian 12)
FILE_TYPES = (
    FileType("model/x-ply", "PLY 3D model, point cloud or Gaussian splats", ("*.ply",), ("ply\\n", "ply\\r\\n")),
    FileType("model/obj"),
    FileType("model/stl"),
    FileType("model/x-off", "OFF 3D model", ("*.off",), ("OFF",), "text/plain"),
    FileType("model/x-pcd", "PCD point cloud", ("*.pcd",), ("# .PCD", "VERSION")),
    FileType("application/x-hdf"),
    FileType("application/x-npy", "NumPy array", ("*.npy",), ("\\x93NUMPY",)),
    FileType("application/x-npz", "NumPy array archive", ("*.npz",), parent="application/zip"),
    FileType("application/x-compressed-npy", "NumPy array (gzip-compressed)", ("*.npy.gz",),
             parent="application/gzip"),
)
#: cache builders run after (un)installing when the system has them: (tool, folder under the data home)
CACHE_TOOLS = (("update-mime-database", "mime"), ("update-desktop-database", "applications"))


def xdg_data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when unset or empty (XDG Base Directory spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value else Path.home() / ".local" / "share"


def launcher_command() -> str:
    """The command the launcher runs: the frozen executable, or this Python running the app module."""
    if getattr(sys, "frozen", False):
        return f'"{sys.executable}"'
    return f'"{sys.executable}" -m app'


def desktop_entry(exec_command: str) -> str:
    """The .desktop file's text (spec 1.4, the newest desktop-file-validate 0.26 knows); ``%F``: the files
    "Open with" passes."""
    mime_types = "".join(f"{t.name};" for t in FILE_TYPES)
    return "\n".join([
        "[Desktop Entry]", "Type=Application", "Version=1.4", "Name=Latent3D Studio",
        "GenericName=3D latent diffusion studio",
        "Comment=Train and sample latent diffusion models on voxels, point clouds and Gaussian splats",
        f"Exec={exec_command} %F", f"Icon={APP_ID}", "Terminal=false", "Categories=Graphics;3DGraphics;",
        f"MimeType={mime_types}", "StartupWMClass=latent3d-studio", "",
    ])


def mime_xml() -> str:
    """The shared-mime-info package defining the types of FILE_TYPES the system lacks."""
    ET.register_namespace("", MIME_NAMESPACE)
    root = ET.Element(f"{{{MIME_NAMESPACE}}}mime-info")
    for file_type in (t for t in FILE_TYPES if t.ours):
        node = ET.SubElement(root, "mime-type", type=file_type.name)
        ET.SubElement(node, "comment").text = file_type.comment
        if file_type.parent:
            ET.SubElement(node, "sub-class-of", type=file_type.parent)
        if file_type.magic:
            magic = ET.SubElement(node, "magic")
            for value in file_type.magic:
                ET.SubElement(magic, "match", type="string", offset="0", value=value)
        for pattern in file_type.globs:
            ET.SubElement(node, "glob", pattern=pattern)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def installed_paths(root: Path) -> dict[str, Path]:
    """Where the launcher, the icon and the MIME package go under the data home ``root``."""
    return {
        "entry": root / "applications" / f"{APP_ID}.desktop",
        "icon": root / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        "mime": root / "mime" / "packages" / f"{APP_ID}.xml",
    }


def install_desktop(data_home: Path | None = None) -> tuple[list[Path], list[str]]:
    """Write the launcher, icon and MIME package, refresh the caches; returns (files written, cache warnings)."""
    root = data_home or xdg_data_home()
    paths = installed_paths(root)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(resources_dir() / "icons" / f"{APP_ID}.svg", paths["icon"])
    paths["mime"].write_text(mime_xml(), encoding="utf-8")
    paths["entry"].write_text(desktop_entry(launcher_command()), encoding="utf-8")
    paths["entry"].chmod(0o755)
    return list(paths.values()), refresh_caches(root)


def uninstall_desktop(data_home: Path | None = None) -> tuple[list[Path], list[str]]:
    """Remove what :func:`install_desktop` wrote, refresh the caches; returns (files removed, cache warnings)."""
    root = data_home or xdg_data_home()
    removed = [path for path in installed_paths(root).values() if path.is_file()]
    for path in removed:
        path.unlink()
    return removed, refresh_caches(root)


def refresh_caches(root: Path) -> list[str]:
    """Rebuild the MIME and "Open with" caches under ``root`` with the tools the system has (file managers read
    the caches, not the files); a missing tool is skipped, a failing one becomes a warning, never an error."""
    warnings = []
    for tool, folder in CACHE_TOOLS:
        executable = shutil.which(tool)
        if executable is None or not (root / folder).is_dir():
            continue
        done = subprocess.run([executable, str(root / folder)], capture_output=True, text=True)
        if done.returncode != 0:
            warnings.append(f"{tool} {root / folder}: {done.stderr.strip() or f'exit code {done.returncode}'}")
    return warnings
