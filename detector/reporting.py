"""Turning confirmed and gone tracks into :class:`~detector.events.Event` values.

The score starts from how clearly the texture changed (the region's strength) and is
raised or lowered by the structure model when one is loaded. A label scored under its
class's calibrated confidence (``StructureLabeler.trusted``) is reported as ``change``,
not as a possibly wrong class; a zone whose
``structure_classes`` do not include the class the model names does not report the
change. The reporter never changes a track: the
tracker records what was reported (``Tracker.mark_confirmed``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from detector.events import DATA_KEYS, Event, empty_events, event_json, to_detections
from detector.evidence import detection_id, padded_box
from detector.registration import Shift
from detector.settings import DetectorSettings
from detector.tracks import Track
from detector.types import Detections
from detector.zonemaps import ZoneMaps

__all__ = ["DATA_KEYS", "EventMaker", "Labeler", "change_score", "empty_events", "event_json"]


class Labeler(Protocol):
    """What the pipeline needs of ``detector.structure.StructureLabeler``."""

    def label(
        self, after_crop_bgr: np.ndarray, before_crop_bgr: np.ndarray | None = None
    ) -> tuple[str, float] | None: ...

    def trusted(self, name: str, score: float) -> bool:
        """Is the label's ``score`` at least its class's calibrated confidence?"""
        ...


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
        self.untrusted = 0  # labels under their class's calibrated confidence (→ change)

    def _event(
        self,
        track: Track,
        shift: Shift,
        event: str,
        *,
        score: float,
        label: str,
        confirmed_s: float | None,
        gone_s: float | None = None,
    ) -> Event:
        x1, y1, x2, y2 = (round(v, 1) for v in self.maps.to_source(track.box, shift.dx, shift.dy))
        zs = self.maps.zoneset
        return Event(
            event=event,
            camera=self.camera,
            zone=track.zone,
            unit=self.maps.unit(track.zone),
            bbox=(x1, y1, x2, y2),
            score=round(score, 4),
            label=label,
            first_seen_s=round(track.first_seen, 3),
            confirmed_s=None if confirmed_s is None else round(confirmed_s, 3),
            gone_s=None if gone_s is None else round(gone_s, 3),
            frame_size=(zs.width, zs.height),
            id=detection_id(self.camera, track.zone, track.first_seen, event, [x1, y1, x2, y2]),
        )

    def confirmed(
        self, track: Track, frame: np.ndarray, before: np.ndarray, shift: Shift, t: float
    ) -> Event | None:
        """The event for a track confirmed now (None when its class does not count here)."""
        score, label = change_score(track.strength), "change"
        if self.labeler is not None:
            h, w = frame.shape[:2]
            box = [round(v, 1) for v in self.maps.to_source(track.box, shift.dx, shift.dy)]
            x1, y1, x2, y2 = padded_box(box, w, h, 0.25)
            found = self.labeler.label(frame[y1:y2, x1:x2], before[y1:y2, x1:x2])
            if found is not None and not self.labeler.trusted(*found):
                found = None  # under its class's calibrated confidence: just a change
                self.untrusted += 1
            if found is None:
                score *= 0.85
            else:
                name, label_score = found
                if name not in self.maps.settings[track.zone].structure_classes:
                    self.suppressed += 1
                    return None
                label = name
                score = min(0.99, 0.5 * score + 0.5 * label_score + 0.1)
        return self._event(track, shift, "confirmed", score=score, label=label, confirmed_s=t)

    def gone(self, track: Track, shift: Shift, t: float) -> Event:
        """The event for a confirmed structure that disappeared."""
        return self._event(
            track,
            shift,
            "gone",
            score=track.score,
            label=track.label,
            confirmed_s=track.confirmed_at,
            gone_s=t,
        )

    def to_detections(self, events: list[Event]) -> Detections:
        """Events in source pixels: ``class_id`` is the label's index in structure_classes."""
        return to_detections(events, self.settings.structure_classes)
