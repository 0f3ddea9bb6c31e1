"""Paths built from config or event data stay inside their root, whatever the data says.

Camera, zone and mask ids become folder and file names (evidence folders, saved
references, clips). The config refuses unsafe ids (:data:`SAFE_ID_PATTERN`), and every
writer still joins through :func:`inside_root`, so a bad id that slipped past the
config (an API call, a hand-made record) cannot write outside the folder it was given.

This module lives in ``streams/`` because everything may import ``streams`` (the
detector, the application shell); it needs nothing but the standard library.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SAFE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$"
"""Ids used as file names: ASCII letters, digits, ``_`` and ``-``; no dots, no slashes."""

_SAFE_ID = re.compile(SAFE_ID_PATTERN)


class UnsafePathError(ValueError):
    """A path built from data would leave its root folder."""


def is_safe_id(value: str) -> bool:
    """True if ``value`` may be used as one file or folder name as it is."""
    return bool(_SAFE_ID.fullmatch(value))


def inside_root(root: str | os.PathLike[str], *parts: str) -> Path:
    """``root / parts…``, refused unless it stays strictly inside ``root``.

    Each part must be one plain name (no separator, not ``.`` or ``..``, no NUL), and the
    joined path, with symlinks resolved, must still lie below ``root``. Raises
    :class:`UnsafePathError` naming the offending part.
    """
    base = Path(root)
    for part in parts:
        text = str(part)
        if (
            not text
            or text in {".", ".."}
            or "/" in text
            or "\\" in text
            or "\x00" in text
            or (os.altsep is not None and os.altsep in text)
        ):
            raise UnsafePathError(f"unsafe name {text!r}: it would leave {base}")
    joined = base.joinpath(*parts)
    real_root = os.path.realpath(base)
    real = os.path.realpath(joined)
    if os.path.commonpath([real_root, real]) != real_root or (real == real_root and parts):
        raise UnsafePathError(f"{joined} is outside {base}")
    return joined
