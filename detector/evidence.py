"""Evidence folders, exactly as ``docs/evidence.md`` describes them.

``<root>/<camera>/<YYYYmmddTHHMMSS>-<zone>-<id8>/`` with ``detection.json``,
``before.jpg`` / ``after.jpg`` (padded crops from the reference and the frame),
``snapshot.jpg`` (zone and box drawn), ``frame.jpg``, ``reference.jpg`` and, when the
camera is streamed, ``clip.mp4`` cut from the packet ring buffer a few seconds after
the event (so that the clip also shows what followed).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cv2
import numpy as np

from geofence import ZoneSet

if TYPE_CHECKING:
    from detector.events import Event
from streams.paths import inside_root


class ClipSource(Protocol):
    """What evidence needs of ``streams.PacketRing``."""

    def export_clip(self, start_pts: float, end_pts: float, path: str | Path) -> Path: ...


@dataclass(frozen=True)
class _PendingClip:
    ready_at: float
    start: float
    end: float
    path: Path


def folder_name(event: Event, wall: float, tz: tzinfo | str = "UTC") -> str:
    """``YYYYmmddTHHMMSS-<zone>-<id8>``: ``wall`` as the site's clock shows it (``tz``, an
    IANA name such as ``Asia/Shanghai`` or a ``tzinfo``), never the machine's time zone."""
    stamp = datetime.fromtimestamp(wall, site_zone(tz)).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{event.zone}-{event.id[:8]}"


def site_zone(tz: tzinfo | str) -> tzinfo:
    """``tz`` as a ``tzinfo`` (an IANA name such as ``Asia/Shanghai``, or one already)."""
    if not isinstance(tz, str):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"tz must be an IANA time zone such as 'Asia/Shanghai', got {tz!r}"
        ) from exc


def detection_id(camera: str, zone: str, first_seen: float, event: str, box: list[float]) -> str:
    """A stable 16-hex id for one event (same inputs, same id; used in folder names)."""
    key = f"{camera}|{zone}|{first_seen:.3f}|{event}|{','.join(f'{v:.0f}' for v in box)}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def padded_box(box: list[float], width: int, height: int, pad: float) -> tuple[int, int, int, int]:
    """``box`` grown by ``pad`` × its size on every side (at least 16 px), clipped to the frame."""
    x1, y1, x2, y2 = box
    px = max(16.0, (x2 - x1) * pad)
    py = max(16.0, (y2 - y1) * pad)
    return (
        int(max(0, x1 - px)),
        int(max(0, y1 - py)),
        int(min(width, x2 + px)),
        int(min(height, y2 + py)),
    )


class EvidenceWriter:
    """Writes one folder per event; exports ring-buffer clips once their end has been recorded.

    ``clip_pre`` / ``clip_post``: seconds of stream before and after the event in the clip.
    ``tz``: the site's time zone (IANA name or ``tzinfo``) for the folder names.
    """

    def __init__(
        self,
        root: Path,
        camera: str,
        *,
        ring: ClipSource | None = None,
        pad: float = 0.5,
        quality: int = 90,
        clip_pre: float = 10.0,
        clip_post: float = 5.0,
        tz: tzinfo | str = "UTC",
    ) -> None:
        if not 0 <= pad <= 5:
            raise ValueError(f"pad must be in [0, 5] box sizes, got {pad}")
        if not 10 <= quality <= 100:
            raise ValueError(f"quality must be in [10, 100], got {quality}")
        if clip_pre < 0 or clip_post < 0:
            raise ValueError(f"clip_pre/clip_post must be ≥ 0 s, got {clip_pre}/{clip_post}")
        self.root = Path(root)
        self.camera = inside_root(self.root, camera).name  # no id leaves root
        self.ring = ring
        self.pad = pad
        self.quality = quality
        self.clip_pre = clip_pre
        self.clip_post = clip_post
        self.tz = site_zone(tz)
        self._pending: list[_PendingClip] = []
        self.clip_errors = 0

    def write(
        self,
        event: Event,
        frame: np.ndarray,
        reference: np.ndarray,
        zones: ZoneSet,
        *,
        wall: float,
        pts: float,
    ) -> Path:
        """Write the folder for ``event``; ``detection.json`` is its replay JSON line (without
        ``evidence``: the folder is where it lies)."""
        h, w = frame.shape[:2]
        folder = inside_root(self.root, self.camera, folder_name(event, wall, self.tz))
        folder.mkdir(parents=True, exist_ok=True)
        ref_full = cv2.resize(reference, (w, h), interpolation=cv2.INTER_LINEAR)
        x1, y1, x2, y2 = padded_box(list(event.bbox), w, h, self.pad)
        self._jpg(folder / "before.jpg", ref_full[y1:y2, x1:x2])
        self._jpg(folder / "after.jpg", frame[y1:y2, x1:x2])
        self._jpg(folder / "frame.jpg", frame)
        self._jpg(folder / "reference.jpg", ref_full)
        self._jpg(folder / "snapshot.jpg", _snapshot(frame, zones, event))
        record = event.to_json()
        record.pop("evidence")
        _write_json(folder / "detection.json", record)
        if self.ring is not None:
            clip = _PendingClip(
                pts + self.clip_post, pts - self.clip_pre, pts + self.clip_post, folder
            )
            self._pending.append(clip)
        return folder

    def flush(self, pts: float | None = None) -> int:
        """Export clips whose end is recorded by ``pts`` (all of them when None); count them."""
        if self.ring is None or not self._pending:
            return 0
        due = [c for c in self._pending if pts is None or c.ready_at <= pts]
        self._pending = [c for c in self._pending if c not in due]
        done = 0
        for clip in due:
            try:
                self.ring.export_clip(max(0.0, clip.start), clip.end, clip.path / "clip.mp4")
                done += 1
            except Exception:  # a missing clip must never stop detection; it is counted
                self.clip_errors += 1
        return done

    def _jpg(self, path: Path, image: np.ndarray) -> None:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise OSError(f"could not encode {path.name}")
        path.write_bytes(buf.tobytes())


def _snapshot(frame: np.ndarray, zones: ZoneSet, event: Event) -> np.ndarray:
    from geofence.preview import draw_zones

    text = f"{event.event} {event.label} {event.score:.2f}"
    return draw_zones(frame, zones, boxes=[list(event.bbox)], labels=[text])


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
