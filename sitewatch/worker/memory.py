"""glibc malloc settings for a process that runs many cameras.

Every camera's thread, the analysis threads and the model runtime each get a malloc arena
of their own by default (up to 8 per core), and glibc raises its mmap threshold as soon
as a large block is freed, so 1080p frames (6 MB each, sampled every few seconds by every
camera) end up inside arenas that never give the memory back. :func:`tune_malloc` sets
what ``MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=131072``
would (values already in the environment win): few arenas, and every block of 64 KiB or
more mapped on its own, so freeing a frame returns it to the system at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Mapping

log = logging.getLogger(__name__)

# mallopt parameters (glibc malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

SETTINGS = (
    ("MALLOC_ARENA_MAX", M_ARENA_MAX, 2),
    ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, 64 * 1024),
    ("MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, 128 * 1024),
)


def tune_malloc(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Apply :data:`SETTINGS` with ``mallopt`` (glibc only; elsewhere nothing happens).

    Returns the settings applied, by environment variable name; a variable set in
    ``environ`` (default ``os.environ``) is left to glibc, which read it at start."""
    env = os.environ if environ is None else environ
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS)
        return {}
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = {}
    for var, param, value in SETTINGS:
        if var in env:
            continue
        if mallopt(param, value) == 1:
            applied[var] = value
        else:
            log.debug("mallopt(%d, %d) refused", param, value)
    return applied
