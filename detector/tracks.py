"""Tracks (candidate or confirmed structures) and the box and texture helpers they use."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from detector.frames import LightMode, texture_change

Box = tuple[int, int, int, int]


class TrackState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


@dataclass
class Track:
    """One candidate (or confirmed) structure, in analysis pixels."""

    id: int
    zone: str
    box: Box
    first_seen: float
    last_seen: float
    stable_since: float
    state: TrackState = TrackState.PENDING
    strength: float = 1.0
    misses: int = 0
    hits: int = 1
    transient: bool = False
    lit: bool = False  # seen as a light source (lit window, lamp) in a dim frame: never confirmed
    matched: bool = False  # seen in a sample lit like its reference (needed to confirm)
    illumination: bool = False  # looks like light or shadow on the same surface, not a new thing
    transient_checked: int = -(10**9)  # sample index of the last transient-model check
    confirmed_at: float | None = None
    gone_since: float | None = None
    label: str = "change"
    score: float = 0.0
    evidence: str | None = None
    templates: dict[LightMode, np.ndarray] = field(default_factory=dict)
    before: dict[LightMode, np.ndarray] = field(default_factory=dict)

    def box_mask(self, shape: tuple[int, int]) -> np.ndarray:
        m = np.zeros(shape, bool)
        x1, y1, x2, y2 = self.box
        m[y1:y2, x1:x2] = True
        return m

    def crop(self, image: np.ndarray) -> np.ndarray:
        x1, y1, x2, y2 = self.box
        return image[y1:y2, x1:x2]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "zone": self.zone,
            "box": list(self.box),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "stable_since": self.stable_since,
            "state": self.state.value,
            "strength": self.strength,
            "confirmed_at": self.confirmed_at,
            "label": self.label,
            "score": self.score,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Track:
        x1, y1, x2, y2 = (int(v) for v in d["box"])
        return cls(
            id=int(d["id"]),
            zone=str(d["zone"]),
            box=(x1, y1, x2, y2),
            first_seen=float(d["first_seen"]),
            last_seen=float(d["last_seen"]),
            stable_since=float(d["stable_since"]),
            state=TrackState(d["state"]),
            strength=float(d.get("strength", 1.0)),
            confirmed_at=None if d.get("confirmed_at") is None else float(d["confirmed_at"]),
            label=str(d.get("label", "change")),
            score=float(d.get("score", 0.0)),
            evidence=d.get("evidence"),
        )


def box_iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / small if small > 0 else 0.0


def area(b: Box) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def box_inside(a: Box, b: Box) -> float:
    """Fraction of ``a``'s area that lies inside ``b``."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return ix * iy / area if area > 0 else 0.0


def boxes_touch(a: Box, b: Box, gap: int) -> bool:
    """True when ``a`` and ``b`` overlap or lie closer than ``gap`` pixels, or than half
    the size of the smaller of the two (then they are taken for parts of one object)."""
    size = min(max(a[2] - a[0], a[3] - a[1]), max(b[2] - b[0], b[3] - b[1]))
    gap = max(gap, size // 2)
    return a[0] <= b[2] + gap and b[0] <= a[2] + gap and a[1] <= b[3] + gap and b[1] <= a[3] + gap


def box_union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def texture_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean census distance between two equally sized normalised crops (0 same … ~0.5 unrelated)."""
    if a.shape != b.shape or min(a.shape) < 5:
        return 1.0
    dist, _ = texture_change(_renorm(a), _renorm(b), 3)
    return float(dist.mean())


def _renorm(crop: np.ndarray) -> np.ndarray:
    std = float(crop.std())
    return ((crop - float(crop.mean())) / max(std, 1e-3)).astype(np.float32)
