"""Reading text formats (OFF, OBJ, ASCII STL) with the common checks in one place."""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import InputError
from core.io._checks import checked_file


def read_text(path: str | os.PathLike[str], what: str) -> tuple[Path, str]:
    """Return ``(path, text)``; a file holding a NUL byte is reported as not being a text ``what``.

    Comments, object, group and material names may hold UTF-8 or any other bytes (an OBJ naming its
    material ``材质.001``): every keyword, number and index of these formats is ASCII, so undecodable
    bytes become U+FFFD and can only fail where a number was expected. A NUL byte never occurs in
    text, while binary files are full of them: it catches a binary file handed to a text reader.
    """
    path, _ = checked_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError(path, f"not a text {what}: NUL byte at offset {nul:,} (a binary file?)")
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        raise InputError(path, "file holds only whitespace")
    return path, text


def header_words(line: bytes, free_text: tuple[bytes, ...]) -> list[str] | None:
    """The ASCII words of one header line (PLY, PCD), or None where a non-ASCII byte is outside free text.

    Lines starting with a ``free_text`` keyword (``comment``, ``obj_info``, ``#``) may hold any bytes:
    they carry no values, and UTF-8 comments are common.
    """
    if line.lstrip().startswith(free_text):
        return line.decode("ascii", errors="replace").split()
    try:
        return line.decode("ascii").split()
    except UnicodeDecodeError:
        return None
