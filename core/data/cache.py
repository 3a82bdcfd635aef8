"""On-disk cache of converted shapes, so the second load of a dataset skips every conversion.

An entry is a folder of ``.npy`` files (one per named array, never pickled) under
``$LATENT3D_CACHE`` or ``~/.cache/latent3d-studio``. Its name is a hash of everything the arrays
depend on: the identity of the source (path, size and modification time of each file, or the
generator version and seed of the built-in set), the conversion and its parameters, and
:data:`CACHE_FORMAT_VERSION`. Editing a source file changes its mtime and so its key; stale entries
are never read, only left behind (delete the folder to reclaim space).

Entries are written into a temporary folder with core.io's atomic writes and renamed into place,
so a reader never sees a half-written entry and two processes filling the same entry cannot clash.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from core.io import write_array

#: bump whenever the meaning of cached arrays changes (normalisation, resampling rule, layout)
#: 2: point clouds voxelise with their gaps closed; 3: sparse clouds splat from their closed surface
CACHE_FORMAT_VERSION = 3
CACHE_ENV = "LATENT3D_CACHE"
DEFAULT_CACHE_DIR = Path("~/.cache/latent3d-studio")

Arrays = dict[str, np.ndarray]


def cache_dir() -> Path:
    """The cache root: ``$LATENT3D_CACHE`` if set, else ``~/.cache/latent3d-studio``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR).expanduser()


def file_identity(path: str | os.PathLike[str]) -> str:
    """Resolved path, size and modification time: changes whenever the file is replaced or edited."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}"


def cache_key(identity: str, operation: str, params: Mapping[str, object]) -> str:
    """Hex digest naming the entry for ``operation(params)`` applied to the source ``identity``."""
    payload = json.dumps({"version": CACHE_FORMAT_VERSION, "source": identity, "op": operation,
                          "params": dict(params)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def cached_arrays(key: str, compute: Callable[[], Arrays], root: Path | None = None) -> Arrays:
    """The arrays stored under ``key``; on a miss, ``compute()`` them, store them, and return them."""
    entry = (root or cache_dir()) / key[:2] / key
    if entry.is_dir():
        stored = _read_entry(entry)
        if stored:
            return stored
    arrays = compute()
    _write_entry(entry, arrays)
    return arrays


def _read_entry(entry: Path) -> Arrays | None:
    """The entry's arrays, or None if it is unreadable (then it is recomputed and rewritten)."""
    try:
        return {f.name[:-4]: np.load(f, allow_pickle=False) for f in entry.glob("*.npy")}
    except (OSError, ValueError):
        shutil.rmtree(entry, ignore_errors=True)
        return None


def _write_entry(entry: Path, arrays: Arrays) -> None:
    """Write every array into a fresh temporary folder, then rename it onto ``entry`` in one step."""
    staging = entry.with_name(f".tmp-{secrets.token_hex(4)}-{entry.name}")
    try:
        staging.mkdir(parents=True)
        for name, array in arrays.items():
            write_array(array, staging / f"{name}.npy")
        os.replace(staging, entry)
    except OSError:
        # another process filled the entry first, or the cache is not writable: the arrays are
        # still returned, only the speed-up is lost
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
