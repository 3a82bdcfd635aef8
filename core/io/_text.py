"""Reading text formats (OFF, OBJ, ASCII STL) with the common checks in one place."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import InputError
from core.io._checks import checked_file


def read_text(path: str | os.PathLike[str], what: str) -> tuple[Path, str]:
    """Return ``(path, text)``; a binary or non-ASCII file is reported as not being ``what``.

    Latin-1 would decode any bytes, so ASCII is required: it catches binary files handed to a
    text reader, and every number, keyword and index in these formats is ASCII.
    """
    path, _ = checked_file(path)
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a text {what}: non-ASCII byte at offset {exc.start:,}") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    if not text.strip():
        raise InputError(path, "file holds only whitespace")
    return path, text
