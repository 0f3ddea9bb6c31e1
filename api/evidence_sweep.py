"""Removing evidence files that nothing refers to: uploads of refused requests, cut-off uploads.

A request stores its files before the database decides (an upload streams to disk while
it is checked), so a request refused after that — a transition the case does not allow,
a detection for an unknown camera, a form missing a field — leaves its files behind,
referred to by no evidence row; an upload cut off by a crash leaves a temporary file.
:func:`sweep` deletes both once they are older than ``min_age`` (a day by default).

A file that a request being handled is about to refer to is never that old: a new one
was written just now, and a request that finds its bytes already stored touches the
file (``EvidenceStore._finish``). The sweep asks the database about old files first and
looks at each file's age again just before deleting it. The API's scheduler runs it
(``api.scheduler``); every step is idempotent, so several API processes may run it at once.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from api.evidence_store import EvidenceStore

log = logging.getLogger("sitewatch.evidence")

MIN_AGE_S = 86400.0
BATCH = 500  # digests asked about in one query


@dataclass(frozen=True)
class Swept:
    files: int  # stored files deleted (no evidence row refers to them)
    bytes: int
    temporary: int  # unfinished uploads deleted


def sweep(
    store: EvidenceStore,
    referenced: Callable[[list[str]], set[str]],
    *,
    min_age: float = MIN_AGE_S,
    now: float | None = None,
) -> Swept:
    """Delete the store's files older than ``min_age`` seconds that no evidence row refers
    to, and its unfinished uploads of that age. ``referenced``: of the sha256 digests it
    is given, those that evidence rows refer to."""
    if min_age <= 0:
        raise ValueError(f"min_age must be > 0 s, got {min_age}")
    cutoff = (time.time() if now is None else now) - min_age
    files = size = 0
    batch: list[tuple[str, Path]] = []
    for digest, path in _old_files(store.root, cutoff):
        batch.append((digest, path))
        if len(batch) >= BATCH:
            n, b = _delete_unreferenced(batch, referenced, cutoff)
            files, size, batch = files + n, size + b, []
    if batch:
        n, b = _delete_unreferenced(batch, referenced, cutoff)
        files, size = files + n, size + b
    temporary = sum(_unlink_if_old(p, cutoff) is not None for p in _children(store.root / "tmp"))
    if files or temporary:
        log.info(
            "evidence sweep: %d unreferenced files (%d bytes) and %d unfinished uploads deleted",
            files,
            size,
            temporary,
        )
    return Swept(files, size, temporary)


def _old_files(root: Path, cutoff: float) -> Iterator[tuple[str, Path]]:
    """(digest, path) of the stored files ``root/ab/cd/<sha256>`` last touched before
    ``cutoff``; nothing else under the root is ever looked at."""
    for first in _children(root):
        if len(first.name) != 2 or not first.is_dir():
            continue  # "tmp", or anything that is not a hash folder
        for second in _children(first):
            for path in _children(second):
                name = path.name
                if len(name) != 64 or not name.startswith(first.name + second.name):
                    continue
                try:
                    if path.lstat().st_mtime < cutoff:
                        yield name, path
                except FileNotFoundError:
                    continue


def _delete_unreferenced(
    batch: list[tuple[str, Path]], referenced: Callable[[list[str]], set[str]], cutoff: float
) -> tuple[int, int]:
    kept = referenced([digest for digest, _ in batch])
    files = size = 0
    for digest, path in batch:
        if digest in kept:
            continue
        gone = _unlink_if_old(path, cutoff)
        if gone is not None:
            files, size = files + 1, size + gone
    return files, size


def _unlink_if_old(path: Path, cutoff: float) -> int | None:
    """Delete ``path`` if it was still last touched before ``cutoff``; its size, or None."""
    try:
        st = path.lstat()  # a link is never followed (nor deleted: nothing here makes one)
        if st.st_mtime >= cutoff or not stat.S_ISREG(st.st_mode):
            return None
        os.unlink(path)
    except FileNotFoundError:
        return None
    return st.st_size


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
