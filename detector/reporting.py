"""Turning confirmed and gone tracks into event records and ``Detections`` rows.

A record has the keys of one ``sitewatch replay`` JSON line (``event``, ``camera``,
``zone``, ``unit``, ``bbox``, ``first_seen_s``, ``confirmed_s``, ``score``, ``label``)
plus ``gone_s``, ``frame_size``, ``id`` and ``evidence``. The score starts from how
clearly the texture changed (the region's strength) and is raised or lowered by the
structure model when one is loaded; a zone whose ``structure_classes`` do not include
the class the model names does not report the change.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from detector.evidence import detection_id, padded_box
from detector.registration import Shift
from detector.settings import DetectorSettings
from detector.tracks import Track
from detector.types import Detections
from detector.zonemaps import ZoneMaps

DATA_KEYS = (
    "event",
    "camera",
    "zone",
    "unit",
    "first_seen_s",
    "confirmed_s",
    "gone_s",
    "frame_size",
    "id",
    "evidence",
)


class Labeler(Protocol):
    """What the pipeline needs of ``detector.structure.StructureLabeler``."""

    def label(
        self, after_crop_bgr: np.ndarray, before_crop_bgr: np.ndarray | None = None
    ) -> tuple[str, float] | None: ...


def change_score(strength: float) -> float:
    """1 − 0.5 / strength: 0.5 for a change just over the threshold, 0.75 at twice it."""
    return float(np.clip(1.0 - 0.5 / max(strength, 1e-3), 0.3, 0.97))


class EventMaker:
    """Builds event records for one camera."""

    def __init__(
        self,
        camera: str,
        maps: ZoneMaps,
        settings: DetectorSettings,
        labeler: Labeler | None,
    ) -> None:
        self.camera = camera
        self.maps = maps
        self.settings = settings
        self.labeler = labeler
        self.suppressed = 0  # changes not reported because their class does not count

    def _base(self, track: Track, shift: Shift, event: str) -> dict[str, Any]:
        bbox = [round(v, 1) for v in self.maps.to_source(track.box, shift.dx, shift.dy)]
        zs = self.maps.zoneset
        return {
            "event": event,
            "camera": self.camera,
            "zone": track.zone,
            "unit": self.maps.unit(track.zone),
            "bbox": bbox,
            "first_seen_s": round(track.first_seen, 3),
            "confirmed_s": None if track.confirmed_at is None else round(track.confirmed_at, 3),
            "gone_s": None,
            "score": track.score,
            "label": track.label,
            "frame_size": [zs.width, zs.height],
            "id": detection_id(self.camera, track.zone, track.first_seen, event, bbox),
        }

    def confirmed(
        self, track: Track, frame: np.ndarray, before: np.ndarray, shift: Shift, t: float
    ) -> dict[str, Any] | None:
        """The record for a track confirmed now (None when its class does not count here)."""
        track.confirmed_at = t
        track.score = change_score(track.strength)
        record = self._base(track, shift, "confirmed")
        if self.labeler is not None:
            h, w = frame.shape[:2]
            x1, y1, x2, y2 = padded_box(record["bbox"], w, h, 0.25)
            found = self.labeler.label(frame[y1:y2, x1:x2], before[y1:y2, x1:x2])
            if found is None:
                track.score *= 0.85
            else:
                name, label_score = found
                if name not in self.maps.settings[track.zone].structure_classes:
                    self.suppressed += 1
                    return None
                track.label = name
                track.score = min(0.99, 0.5 * track.score + 0.5 * label_score + 0.1)
        record["score"] = round(track.score, 4)
        record["label"] = track.label
        return record

    def gone(self, track: Track, frame: np.ndarray, shift: Shift, t: float) -> dict[str, Any]:
        """The record for a confirmed structure that disappeared."""
        record = self._base(track, shift, "gone")
        record["gone_s"] = round(t, 3)
        record["score"] = round(track.score, 4)
        return record

    def to_detections(self, records: list[dict[str, Any]]) -> Detections:
        """Rows in source pixels: ``class_id`` is the label's index in structure_classes or -1."""
        if not records:
            return empty_events()
        classes = list(self.settings.structure_classes)
        return Detections(
            xyxy=np.array([r["bbox"] for r in records], np.float32),
            confidence=np.array([r["score"] for r in records], np.float32),
            class_id=np.array(
                [classes.index(r["label"]) if r["label"] in classes else -1 for r in records]
            ),
            class_name=tuple(r["label"] for r in records),
            data={k: [r.get(k) for r in records] for k in DATA_KEYS},
        )


def empty_events() -> Detections:
    """No events (with the event data columns, so results merge with real events)."""
    return Detections.empty().with_data(**{k: [] for k in DATA_KEYS})


def event_json(det: Detections) -> list[dict[str, Any]]:
    """One JSON-ready dict per event row (``Detections.records`` without ``class_id``)."""
    out = []
    for rec in det.records():
        rec.pop("class_id", None)
        out.append(rec)
    return out
