"""What the app remembers between sessions (QSettings): recent folders and runs, window geometry.

Several windows may run at once (a second launch from the file manager is a second process), all sharing one
INI file. QSettings already writes that file atomically and merges its own changes into what is on disk, but a
read-modify-write such as "put this path first in the recent list" spans a read and a later write: two
processes interleaving there lose each other's entries. :func:`writing` serialises those with a lock file.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from PySide6.QtCore import QLockFile, QSettings

ORGANIZATION, APPLICATION = "Latent3D", "Latent3D Studio"
#: entries kept in each recent list
MAX_RECENT = 10
#: beside the INI file; not QSettings' own "<file>.lock", which it takes inside every sync()
WRITE_LOCK_SUFFIX = ".writer.lock"
#: another window holds the lock only for one small write; past this, write unlocked rather than hang the GUI
WRITE_LOCK_TIMEOUT_MS = 5_000
#: how often a waiting window looks at the lock again. QLockFile.tryLock(timeout) sleeps 100 ms, then twice as long
#: each time, so a window waiting while others write in a burst looks only about six times in 5 s, and writes
#: unlocked if it finds the lock taken each time: the likeliest way the shared-settings test lost one entry of 100
#: in a fresh-clone CI run (2026-12-06; it passed 6 of 6 reruns before this change and 5 of 5 after)
WRITE_LOCK_POLL_MS = 10


def settings() -> QSettings:
    """The app's settings store (an INI file under the user's config folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


@contextmanager
def writing() -> Iterator[QSettings]:
    """The settings store, read fresh from disk under a lock held by no other process, written on exit."""
    store = settings()
    lock_path = Path(store.fileName() + WRITE_LOCK_SUFFIX)
    with suppress(OSError):  # a read-only config folder: QSettings then keeps values in memory, as it always did
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(lock_path))
    locked = _take(lock)
    try:
        store.sync()  # pick up what other processes wrote since this object's cache was filled
        yield store
        store.sync()
    finally:
        if locked:
            lock.unlock()


def _take(lock: QLockFile) -> bool:
    """Whether ``lock`` was taken within :data:`WRITE_LOCK_TIMEOUT_MS`, looking every :data:`WRITE_LOCK_POLL_MS`
    (a dead process's lock is stale and taken over)."""
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_MS / 1000
    while not lock.tryLock(WRITE_LOCK_POLL_MS):
        if time.monotonic() >= deadline:
            return False
    return True


def _as_list(value: object) -> list[str]:
    """A stored list as strings (QSettings returns a bare string for a one-element list, None for none)."""
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value or []]


def recent(key: str) -> list[str]:
    """The recent list ``key`` ("datasets" or "runs"), newest first."""
    return _as_list(settings().value(f"recent/{key}", []))


def remember(key: str, entry: str) -> list[str]:
    """Put ``entry`` first in the recent list ``key``; returns the new list."""
    with writing() as store:
        entries = [entry] + [e for e in _as_list(store.value(f"recent/{key}", [])) if e != entry]
        store.setValue(f"recent/{key}", entries[:MAX_RECENT])
    return entries[:MAX_RECENT]
