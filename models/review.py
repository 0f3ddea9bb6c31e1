"""``review.json`` beside each reviewed detection's evidence folder (docs/evidence.md), so
that ``sitewatch dataset build`` learns from every confirm and dismiss.

The folder is the one the worker wrote (``record["folder"]``, relative to the evidence root)
or, when the worker's folder is not on this machine, a new one under the root named as
the detector names them; ``detection.json`` and the files the detection brought (through
``blob_path``) are put there first, so the folder is complete for training.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from models.tables import Detection, Evidence

_SAFE = re.compile(r"^[\w.-]+$")
_FILES = {"before", "after", "snapshot", "frame", "reference", "clip"}
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4"}


def inside(root: Path, *parts: str) -> Path:
    """``root/parts…``, refusing any part that is not a plain name or leaves ``root``."""
    for part in parts:
        if not _SAFE.match(part) or part in (".", ".."):
            raise ValueError(f"unsafe path part {part!r}")
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"{path} is outside {root}")
    return path


def folder_for(det: Detection, tz: ZoneInfo) -> tuple[str, str]:
    """(camera, folder name) of ``det``'s evidence folder."""
    given = det.record.get("folder")
    if isinstance(given, str) and given.count("/") == 1:
        cam, name = given.split("/")
        return cam, name
    stamp = det.detected_at.astimezone(tz).strftime("%Y%m%dT%H%M%S")
    return det.camera_id, f"{stamp}-{det.zone_id}-{det.uid[:8]}"


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


class FolderReviewSink:
    """Writes review.json into the evidence folders under ``root``."""

    def __init__(
        self, root: Path, tz: ZoneInfo, blob_path: Callable[[str], Path] | None = None
    ) -> None:
        self.root = Path(root)
        self.tz = tz
        self.blob_path = blob_path

    def __call__(self, det: Detection, files: Sequence[Evidence], review: dict[str, Any]) -> None:
        cam, name = folder_for(det, self.tz)
        folder = inside(self.root, cam, name)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "detection.json").exists():
            _write_json(folder / "detection.json", det.record)
        if self.blob_path is not None:
            for ev in files:
                ext = _EXT.get(ev.media_type)
                target = folder / f"{ev.kind}{ext}" if ev.kind in _FILES and ext else None
                if target is not None and not target.exists():
                    shutil.copyfile(self.blob_path(ev.storage_key), target)
        out = dict(review)
        at = out.get("reviewed_at")
        if isinstance(at, dt.datetime):
            out["reviewed_at"] = at.astimezone(self.tz).isoformat(timespec="seconds")
        _write_json(folder / "review.json", out)
