"""Where the ``resources/`` folder (pretrained models, the classifier) is, however the code was installed.

``core`` must not import ``app`` (whose ``app/resources.py`` finds the app's own assets), so core has its own
lookup. In order: the ``LATENT3D_RESOURCES`` environment variable (tests, custom installs); ``resources/``
beside the ``core`` package, which is a source checkout, an editable install, or a PyInstaller bundle
(frozen modules' ``__file__`` lies under ``sys._MEIPASS``, where packaging/latent3d-studio.spec copies the
folder); else a wheel's copy, installed as data files under ``<prefix>/share/latent3d-studio/resources``
(pyproject.toml ``[tool.setuptools.data-files]``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

#: environment variable that points the lookup at another resources folder
RESOURCES_ENV = "LATENT3D_RESOURCES"
#: where a wheel's data files land, relative to ``sys.prefix``
WHEEL_DATA = Path("share") / "latent3d-studio" / "resources"


def resources_dir() -> Path:
    """The resources folder: the override, else the first that exists (the source path when none does)."""
    if os.environ.get(RESOURCES_ENV):
        return Path(os.environ[RESOURCES_ENV])
    beside_core = Path(__file__).resolve().parents[1] / "resources"
    installed = Path(sys.prefix) / WHEEL_DATA
    return installed if not beside_core.is_dir() and installed.is_dir() else beside_core
