"""What the app remembers between sessions (QSettings): recent folders and runs, window geometry."""
from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION, APPLICATION = "Latent3D", "Latent3D Studio"
#: entries kept in each recent list
MAX_RECENT = 10


def settings() -> QSettings:
    """The app's settings store (an INI file under the user's config folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def recent(key: str) -> list[str]:
    """The recent list ``key`` ("datasets" or "runs"), newest first."""
    value = settings().value(f"recent/{key}", [])
    if isinstance(value, str):  # QSettings returns a bare string for a one-element list
        value = [value]
    return [str(v) for v in value or []]


def remember(key: str, entry: str) -> list[str]:
    """Put ``entry`` first in the recent list ``key``; returns the new list."""
    entries = [entry] + [e for e in recent(key) if e != entry]
    settings().setValue(f"recent/{key}", entries[:MAX_RECENT])
    return entries[:MAX_RECENT]
