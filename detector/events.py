"""The one event type of the detector: what the reporter makes, evidence and replay take.

An :class:`Event` is one ``confirmed`` or ``gone`` structure in source pixels. Its JSON
form (:meth:`Event.to_json`) is the ``sitewatch replay`` line and ``detection.json``;
a batch of events travels as one ``Detections`` (``to_detections`` / ``from_detections``)
so that every stage speaks the same type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.boxes import BoxF
from detector.types import Detections

# event columns carried in ``Detections.data`` (bbox, score and label are its own columns)
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


@dataclass(frozen=True)
class Event:
    """A structure ``confirmed`` in a zone, or one that is ``gone``; times in stream seconds."""

    event: str
    camera: str
    zone: str
    unit: str
    bbox: BoxF  # x1, y1, x2, y2 in source pixels
    score: float
    label: str
    first_seen_s: float
    confirmed_s: float | None
    gone_s: float | None
    frame_size: tuple[int, int]
    id: str
    evidence: str | None = None

    def __post_init__(self) -> None:
        if self.event not in ("confirmed", "gone"):
            raise ValueError(f"event must be 'confirmed' or 'gone', got {self.event!r}")

    def with_evidence(self, folder: str | None) -> Event:
        return dataclasses.replace(self, evidence=folder)

    def to_json(self) -> dict[str, Any]:
        """The JSON line of ``sitewatch replay`` (bbox and frame_size as lists)."""
        out = dataclasses.asdict(self)
        out["bbox"] = list(self.bbox)
        out["frame_size"] = list(self.frame_size)
        return out


def to_detections(events: Sequence[Event], classes: Sequence[str]) -> Detections:
    """Events as one ``Detections``: ``class_id`` is the label's index in ``classes`` or -1."""
    if not events:
        return empty_events()
    names = list(classes)
    return Detections(
        xyxy=np.array([e.bbox for e in events], np.float32),
        confidence=np.array([e.score for e in events], np.float32),
        class_id=np.array([names.index(e.label) if e.label in names else -1 for e in events]),
        class_name=tuple(e.label for e in events),
        data={k: [_column(getattr(e, k)) for e in events] for k in DATA_KEYS},
    )


def _column(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def from_detections(det: Detections) -> list[Event]:
    """The events of ``to_detections`` back (bbox and score rounded as reported)."""
    out = []
    for rec in event_json(det):
        rec["bbox"] = tuple(rec["bbox"])
        rec["frame_size"] = tuple(rec["frame_size"])
        out.append(Event(**rec))
    return out


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
