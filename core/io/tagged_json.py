"""The project's own JSON documents (run configs, the pretrained-model manifest), checked on read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import InputError


def read_tagged_json(path: Path, format_tag: str, what: str) -> dict[str, Any]:
    """The JSON object in ``path`` whose ``"format"`` is ``format_tag``; anything else is one InputError
    naming ``what`` the file should have been (a foreign or damaged file must not half-load)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"unreadable {what} ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != format_tag:
        raise InputError(path, f"not a Latent3D {what}")
    return document
